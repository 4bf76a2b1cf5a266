"""Which `except` of app/ took an exception and did not raise it again.

A check that expects an exception to leave the app (a TryLater that Celery
retries) says, from this trace, which clause took it: the app/ file and line,
the clause as written, and, when a later clause of the same `try` names the
exception's own class, that the later one never sees it. Traced only while a
check asks (`Catches.start` to `stop`, in the thread that runs the app's
code), and only in frames of app/: an exception an `except` raised again is seen
leaving by the app/ frame that called that one (the task that called it).
"""

from __future__ import annotations

import ast
import linecache
import sys
from pathlib import Path
from types import FrameType


class Catches:
    """The exceptions the app caught last and kept (not raised again)."""

    def __init__(self, app_dir: Path) -> None:
        self.app_dir = app_dir.resolve()
        self._app = str(self.app_dir)
        # the exception's id -> (it, the file, the line of the clause that took it)
        self.kept: dict[int, tuple[BaseException, str, int]] = {}
        # a frame an exception is passing through: it, and the last `except`
        # line of that frame tried for it since (the one that took it, once
        # the frame runs a line that is not an `except`)
        self._pending: dict[FrameType, tuple[BaseException, int | None]] = {}
        self._headers: dict[str, set[int]] = {}
        self._previous = None

    def start(self) -> None:
        self._previous = sys.gettrace()
        sys.settrace(self._call)

    def stop(self) -> None:
        sys.settrace(self._previous)
        self._pending.clear()

    def _call(self, frame: FrameType, event: str, arg: object):
        return self._local if frame.f_code.co_filename.startswith(self._app) else None

    def _local(self, frame: FrameType, event: str, arg: object):
        if event == "exception":  # raised here, or passing through
            error = arg[1]  # type: ignore[index]
            self.kept.pop(id(error), None)
            self._pending[frame] = (error, None)
        elif event == "line" and frame in self._pending:
            error, tried = self._pending[frame]
            filename = frame.f_code.co_filename
            if frame.f_lineno in self._except_lines(filename):  # tried for it
                self._pending[frame] = (error, frame.f_lineno)
                return self._local
            del self._pending[frame]
            if tried is not None:  # in the body of the last one tried: it took it
                self.kept[id(error)] = (error, filename, tried)
        elif event == "return":
            self._pending.pop(frame, None)
        return self._local

    def _except_lines(self, filename: str) -> set[int]:
        if filename not in self._headers:
            self._headers[filename] = _except_lines(filename)
        return self._headers[filename]

    def kept_where(self, kind: type[BaseException]) -> str | None:
        """Which clause kept the last exception of `kind` the app kept, and the
        fix: 'app/tasks.py:83 `except TryLater as error:` keeps the TryLater:
        raise it again there (`raise`)'; None when none was kept."""
        found = [entry for entry in self.kept.values() if isinstance(entry[0], kind)]
        if not found:
            return None
        error, filename, line = found[-1]
        name = type(error).__name__
        clause = linecache.getline(filename, line).strip()
        where = Path(filename).resolve().relative_to(self.app_dir.parent).as_posix()
        if later := _later_clause(filename, line, name):
            return (
                f"{where}:{line} `{clause}` takes the {name} before `except {name}`"
                f" (line {later}) can: put `except {name}` first (a {name} is a"
                f" {_names(clause)})"
            )
        said = f"{where}:{line} `{clause}` keeps the {name}"
        if _names(clause) == name:
            return f"{said}: raise it again there (`raise`)"
        return f"{said}: let it through first (`except {name}: raise` before it)"


def _except_lines(filename: str) -> set[int]:
    """The lines of the file's `except` clauses."""
    try:
        tree = ast.parse(Path(filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return set()
    return {
        node.lineno for node in ast.walk(tree) if isinstance(node, ast.ExceptHandler)
    }


def _names(clause: str) -> str:
    """The class an `except X as y:` line names: 'X'."""
    return clause.removeprefix("except").split(" as ")[0].strip(" :()")


def _later_clause(filename: str, line: int, name: str) -> int | None:
    """The line of an `except <name>` after the clause at `line`, in the same
    try statement, if there is one."""
    try:
        tree = ast.parse(Path(filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return None
    for node in ast.walk(tree):
        handlers = getattr(node, "handlers", None) or []
        lines = [handler.lineno for handler in handlers]
        if line not in lines:
            continue
        for handler in handlers[lines.index(line) + 1 :]:
            caught = handler.type
            kinds = caught.elts if isinstance(caught, ast.Tuple) else [caught]
            for kind in kinds:
                if name == getattr(kind, "id", getattr(kind, "attr", None)):
                    return handler.lineno
    return None
