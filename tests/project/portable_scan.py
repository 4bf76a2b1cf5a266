"""Find POSIX-only calls outside a platform guard, by reading the code (`ast`).

Windows has no SIGKILL, no process groups, no fcntl; macOS has no /proc and
no prctl. A call to one of them outside a guard breaks a learner's first run
on that laptop, so tests/project/test_portable.py runs this over workshop/
and tests/steps/. `python tests/project/portable_scan.py` prints the findings.

What it looks for: imports of POSIX-only modules (fcntl, termios, tty,
resource, pty, pwd, grp), signals by name that not every OS has (SIGKILL,
SIGHUP, SIGQUIT, SIGUSR1, SIGALRM ..., and Windows' SIGBREAK), POSIX-only
functions of os and signal (killpg, setsid, getpgid, fork, setitimer ...),
`os.kill(pid, 0)` (on Windows, signal 0 is CTRL_C_EVENT: it interrupts),
Popen's `start_new_session`, `preexec_fn`, `pass_fds` and `process_group`
given a value, `prctl`, and "/proc" paths.

What counts as guarded:
- either branch of an `if` (or `x if ... else y`) whose test looks at the
  platform: sys.platform, os.name, platform.system(), hasattr(...), a
  name assigned from one of those, or a POSIX-only module's name
  (`if resource is not None`); and everything after `if <platform>:` that
  leaves (return, raise, continue, break, pytest.skip) in the same block;
- the body of a `try` whose handler catches what the call raises where it
  does not exist: ImportError (imports), AttributeError (names), OSError
  (/proc paths);
- a function decorated with `pytest.mark.skipif(<platform test>, ...)`, a
  module with such a `pytestmark`, and a function whose name ends in `_posix`
  or `_linux`: the POSIX-only marker. A mention of a marked function outside
  a guard is itself a finding, so the guard moves to its callers.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("workshop", "tests/steps")

MODULES = frozenset({"fcntl", "termios", "tty", "resource", "pty", "pwd", "grp"})
PORTABLE_SIGNALS = frozenset({
    "SIGINT", "SIGTERM", "SIGABRT", "SIGFPE", "SIGILL", "SIGSEGV",
    "SIG_DFL", "SIG_IGN",
})  # fmt: skip
SIGNAL_FUNCTIONS = frozenset({
    "alarm", "setitimer", "getitimer", "ITIMER_REAL", "pause", "pthread_kill",
    "pthread_sigmask", "siginterrupt", "sigwait", "CTRL_C_EVENT",
    "CTRL_BREAK_EVENT",
})  # fmt: skip
OS_FUNCTIONS = frozenset({
    "killpg", "setsid", "getsid", "getpgid", "getpgrp", "setpgrp", "setpgid",
    "fork", "forkpty", "tcgetpgrp", "tcsetpgrp", "getuid", "geteuid", "getgid",
    "setuid", "getloadavg", "sched_getaffinity", "sysconf", "wait3", "wait4",
    "WNOHANG", "mkfifo", "nice", "uname",
})  # fmt: skip
POPEN_OPTIONS = frozenset({
    "start_new_session", "preexec_fn", "pass_fds", "process_group",
})  # fmt: skip
MARKER_SUFFIXES = ("_posix", "_linux")
# What each kind raises where it does not exist (a try catching it is a guard).
RAISES = {
    "import": ("ImportError", "ModuleNotFoundError"),
    "name": ("AttributeError",),
    "proc": ("OSError", "FileNotFoundError"),
    "option": (),
    "marked": (),
}
LEAVES = (ast.Return, ast.Raise, ast.Continue, ast.Break)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what} outside a platform guard"


def is_marked(name: str) -> bool:
    return name.endswith(MARKER_SUFFIXES)


class Scan(ast.NodeVisitor):
    """One module's findings; `guards` counts the enclosing guards by kind."""

    def __init__(self, path: str, tree: ast.Module, marked: set[str]) -> None:
        self.path = path
        self.marked = marked
        self.findings: list[Finding] = []
        self.flags = _platform_names(tree)
        self.caught: list[tuple[str, ...]] = []  # handlers of enclosing trys
        self.guarded = 1 if _skips_module(tree, self.flags) else 0

    # --- guards ---------------------------------------------------------------

    def is_platform_test(self, test: ast.expr) -> bool:
        for node in ast.walk(test):
            if isinstance(node, ast.Attribute) and _dotted(node) in {
                "sys.platform",
                "os.name",
                "platform.system",
            }:
                return True
            if isinstance(node, ast.Name) and node.id in self.flags:
                return True
            if isinstance(node, ast.Call) and _dotted(node.func) == "hasattr":
                return True
        return False

    def guarded_visit(self, nodes: list[ast.AST] | ast.AST) -> None:
        self.guarded += 1
        for node in nodes if isinstance(nodes, list) else [nodes]:
            self.visit(node)
        self.guarded -= 1

    def visit_If(self, node: ast.If) -> None:
        if self.is_platform_test(node.test):
            self.guarded_visit([node.test, *node.body, *node.orelse])
        else:
            self.generic_visit(node)

    def visit_IfExp(self, node: ast.IfExp) -> None:
        if self.is_platform_test(node.test):
            self.guarded_visit([node.test, node.body, node.orelse])
        else:
            self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        names = tuple(n for h in node.handlers for n in _caught(h.type))
        self.caught.append(names)
        self.visit_block(node.body)
        self.caught.pop()
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    visit_TryStar = visit_Try

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        marked = is_marked(node.name) or any(
            self.is_skipif(d) for d in node.decorator_list
        )
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.visit(node.args)
        if marked:
            self.guarded += 1
        self.visit_block(node.body)
        if marked:
            self.guarded -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def is_skipif(self, decorator: ast.expr) -> bool:
        return (
            isinstance(decorator, ast.Call)
            and _dotted(decorator.func).endswith("mark.skipif")
            and bool(decorator.args)
            and self.is_platform_test(decorator.args[0])
        )

    def generic_visit(self, node: ast.AST) -> None:
        for field, value in ast.iter_fields(node):
            if field in {"body", "orelse", "finalbody"} and isinstance(value, list):
                self.visit_block(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_block(self, body: list[ast.stmt]) -> None:
        """A block's statements; those after `if <platform>: return` are guarded."""
        for index, statement in enumerate(body):
            self.visit(statement)
            if self.leaves_on_platform(statement):
                self.guarded_visit(list(body[index + 1 :]))
                return

    def leaves_on_platform(self, statement: ast.stmt) -> bool:
        if not isinstance(statement, ast.If) or not statement.body:
            return False
        if not self.is_platform_test(statement.test):
            return False
        last = statement.body[-1]
        if isinstance(last, LEAVES):
            return True
        return isinstance(last, ast.Expr) and _dotted(
            getattr(last.value, "func", last.value)
        ).endswith("skip")

    # --- findings -------------------------------------------------------------

    def report(self, node: ast.AST, kind: str, what: str) -> None:
        if self.guarded or any(
            name in RAISES[kind] for names in self.caught for name in names
        ):
            return
        self.findings.append(Finding(self.path, node.lineno, what))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] in MODULES:
                self.report(node, "import", f"import {alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and (node.module or "").split(".")[0] in MODULES:
            self.report(node, "import", f"from {node.module} import")
        elif node.module in {"signal", "os"}:
            for alias in node.names:
                self.check_name(node, node.module, alias.name)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name):
            self.check_name(node, node.value.id, node.attr)
            if node.value.id in MODULES:
                self.report(node, "name", f"{node.value.id}.{node.attr}")
        if node.attr == "prctl" or (is_marked(node.attr) and node.attr in self.marked):
            self.report(node, "marked", f"{_dotted(node)}")
        self.generic_visit(node)

    def check_name(self, node: ast.AST, module: str, name: str) -> None:
        posix_signal = name.startswith("SIG") and name not in PORTABLE_SIGNALS
        if module == "signal" and (posix_signal or name in SIGNAL_FUNCTIONS):
            self.report(node, "name", f"signal.{name}")
        elif module == "os" and name in OS_FUNCTIONS:
            self.report(node, "name", f"os.{name}")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.marked and isinstance(node.ctx, ast.Load):
            self.report(node, "marked", f"{node.id} (POSIX-only)")

    def visit_Call(self, node: ast.Call) -> None:
        if _dotted(node.func) == "os.kill" and len(node.args) == 2:
            probe = node.args[1]
            if isinstance(probe, ast.Constant) and probe.value == 0:
                self.report(node, "option", "os.kill(pid, 0)")
        for keyword in node.keywords:
            value = keyword.value
            if keyword.arg in POPEN_OPTIONS and _given(value):
                if self.is_platform_test(value):  # x if sys.platform ... else y
                    continue
                self.report(value, "option", f"{keyword.arg}=")
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key in node.keys:
            if isinstance(key, ast.Constant) and key.value in POPEN_OPTIONS:
                self.report(key, "option", f"{key.value!r}")
        self.generic_visit(node)

    def visit_Expr(self, node: ast.Expr) -> None:
        if not isinstance(node.value, ast.Constant):  # a docstring is no call
            self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and node.value.startswith("/proc"):
            self.report(node, "proc", f"{node.value!r}")


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _caught(handler: ast.expr | None) -> Iterator[str]:
    if handler is None:
        yield "BaseException"
        return
    for node in handler.elts if isinstance(handler, ast.Tuple) else [handler]:
        yield _dotted(node).rpartition(".")[2]


def _given(value: ast.expr) -> bool:
    """False for None, False and an empty literal: the option is not used."""
    return not (isinstance(value, ast.Constant) and not value.value)


def _platform_names(tree: ast.Module) -> set[str]:
    """Names set from a platform test (WINDOWS = os.name == "nt", or a local
    `alarm = hasattr(signal, "setitimer")`), and the POSIX-only modules' names
    (`if fcntl is None`)."""
    names = set(MODULES)
    probe = Scan.__new__(Scan)
    probe.flags = names
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and probe.is_platform_test(node.value):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def _skips_module(tree: ast.Module, flags: set[str]) -> bool:
    """A `pytestmark = pytest.mark.skipif(<platform test>, ...)` at the top."""
    probe = Scan.__new__(Scan)
    probe.flags = flags
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            value = node.value
            marks = value.elts if isinstance(value, ast.List) else [value]
            return any(probe.is_skipif(mark) for mark in marks)
    return False


def sources(root: Path = ROOT) -> dict[str, ast.Module]:
    found = {}
    for folder in SCANNED:
        for path in sorted((root / folder).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            found[path.relative_to(root).as_posix()] = ast.parse(text, str(path))
    return found


def marked_functions(trees: dict[str, ast.Module]) -> set[str]:
    return {
        node.name
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and is_marked(node.name)
    }


def scan(trees: dict[str, ast.Module]) -> list[Finding]:
    marked = marked_functions(trees)
    findings = []
    for path, tree in trees.items():
        scanner = Scan(path, tree, marked)
        scanner.visit_block(tree.body)
        findings.extend(scanner.findings)
    return findings


def main() -> int:
    findings = scan(sources())
    for finding in findings:
        print(finding)
    print(f"{len(findings)} POSIX-only call(s) outside a guard", file=sys.stderr)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
