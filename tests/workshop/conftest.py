"""Fixtures for testing the `workshop` command against real temporary git repos.

- `workshop_repo`: a small workshop checkout in tmp_path (its own git repo, one
  commit on `main`): checkpoints/step-0..2 with a tiny `app` package and a guide
  each, `app/` equal to step 0, and a step suite per step in tests/steps/.
- `run_workshop(*args, cwd=...)`: runs `python -m workshop ...` in a subprocess
  and returns `(code, stdout, stderr)`.
- `git(cwd, *args)`: runs git and returns its stdout (fails the test on error).

Every test gets its own git configuration (GIT_CONFIG_GLOBAL in tmp_path), so
the user's settings (signing, hooks, default branch) never leak in, and tests
can run in parallel.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

# The app of each step in the fake repo: path below app/ -> content.
# Step 1 adds mailer.py, step 2 changes main.py and removes notes.txt, so the
# checkpoints differ by files added, changed and removed.
STEP_FILES: dict[int, dict[str, str]] = {
    0: {
        "__init__.py": "",
        "main.py": 'STEP = 0\n\n\ndef hello() -> str:\n    return "hello"\n',
        "notes.txt": "only in steps 0 and 1\n",
    },
    1: {
        "__init__.py": "",
        "main.py": 'STEP = 1\n\n\ndef hello() -> str:\n    return "hello"\n',
        "mailer.py": "def send(to: str) -> str:\n    return f'mail to {to}'\n",
        "notes.txt": "only in steps 0 and 1\n",
    },
    2: {
        "__init__.py": "",
        "main.py": 'STEP = 2\n\n\ndef hello() -> str:\n    return "hello, world"\n',
        "mailer.py": "def send(to: str) -> str:\n    return f'mail to {to}'\n",
    },
}

TITLES = {0: "The starting point", 1: "Respond first", 2: "Async tasks"}

GUIDE = """\
# Step {n} — {title}

## Goal
Reach step {n}.

## Theory
Some theory.

## Exercise
Set `STEP = {n}` in `app/main.py`.

## Check
Run `workshop check {n}`.

## Hints
### Hint 1
Open `app/main.py`.
### Hint 2
Change the number.

## Pitfalls
None.

## Solution
```python title="app/main.py"
STEP = {n}
```
"""

SUITE = '''\
from app.main import STEP


def test_step_{n}() -> None:
    """The app has reached step {n}."""
    assert STEP >= {n}
'''

# Picks the app under test like the real tests/steps/conftest.py does.
SUITES_CONFTEST = """\
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, os.environ.get("WORKSHOP_APP_DIR") or str(ROOT))
"""

GITIGNORE = "__pycache__/\n*.py[cod]\n.pytest_cache/\n.workshop/\n"


class Result(NamedTuple):
    code: int
    stdout: str
    stderr: str


def write_app(folder: Path, step: int) -> None:
    """Write the fake `app` package of `step` into `folder` (which becomes app/)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in STEP_FILES[step].items():
        (folder / name).write_text(text, encoding="utf-8")


def _git(cwd: Path, *args: str, input: str | None = None) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, input=input
    )
    if result.returncode != 0:
        pytest.fail(f"git {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> None:
    """A private git configuration with a fixed identity; no colour by default."""
    config = tmp_path_factory.mktemp("gitconfig") / "config"
    config.write_text(
        "[user]\n\tname = Test Author\n\temail = author@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n"
        "[commit]\n\tgpgsign = false\n[tag]\n\tgpgsign = false\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("WORKSHOP_APP_DIR", raising=False)
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")


@pytest.fixture
def git() -> Callable[..., str]:
    """`git(cwd, *args, input=None)` runs git in `cwd` and returns its stdout."""
    return _git


@pytest.fixture
def workshop_repo(tmp_path: Path) -> Path:
    """A committed workshop checkout with steps 0..2; returns its root."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "--quiet", "--initial-branch=main")
    (root / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    (root / "README.md").write_text("# Fake workshop\n", encoding="utf-8")
    write_app(root / "app", 0)
    suites = root / "tests" / "steps"
    suites.mkdir(parents=True)
    (suites / "conftest.py").write_text(SUITES_CONFTEST, encoding="utf-8")
    for n, title in TITLES.items():
        checkpoint = root / "checkpoints" / f"step-{n}"
        write_app(checkpoint / "app", n)
        guide = GUIDE.format(n=n, title=title)
        (checkpoint / "README.md").write_text(guide, encoding="utf-8")
        (suites / f"test_step_{n}.py").write_text(SUITE.format(n=n), encoding="utf-8")
    _git(root, "add", "--all")
    _git(root, "commit", "--quiet", "-m", "Fake workshop")
    return root


# Commands that outlive the call (serve supervises the app, watch and
# bench run until stopped): always run in a subprocess.
PROCESS_ONLY = frozenset({"serve", "watch", "bench"})


def _changed_env(env: dict[str, str | None] | None) -> dict[str, str]:
    full_env = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    return full_env


def run_in_subprocess(
    args: tuple[str, ...],
    cwd: Path,
    env: dict[str, str],
    input: str | None,
    timeout: float,
) -> Result:
    result = subprocess.run(
        [sys.executable, "-m", "workshop", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        input=input,
        timeout=timeout,
    )
    return Result(result.returncode, result.stdout, result.stderr)


def run_in_process(
    args: tuple[str, ...], cwd: Path, env: dict[str, str], input: str | None
) -> Result:
    """`workshop.cli.main(args)` here, with its own cwd, environment and streams."""
    from workshop.cli import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        for key in set(os.environ) - set(env):
            patch.delenv(key)
        for key, value in env.items():
            patch.setenv(key, value)
        patch.setattr(sys, "stdin", io.StringIO(input or ""))
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit:  # argparse: --help, --version, usage errors
                code = exit.code if isinstance(exit.code, int) else 0
    return Result(code, out.getvalue(), err.getvalue())


@pytest.fixture
def run_workshop() -> Callable[..., Result]:
    """`run_workshop(*args, cwd=..., env=None, input=None)` -> (code, stdout, stderr).

    Calls the command in this process, as `workshop` would (a fraction of the
    time of a new interpreter); `process=True` runs `python -m workshop` in a
    subprocess instead, for what needs a real process. `env` adds to (or, with
    value None, removes from) the environment.
    """

    def run(
        *args: str,
        cwd: Path,
        env: dict[str, str | None] | None = None,
        input: str | None = None,
        timeout: float = 60,
        process: bool = False,
    ) -> Result:
        full_env = _changed_env(env)
        if process or PROCESS_ONLY & set(args):
            return run_in_subprocess(args, cwd, full_env, input, timeout)
        return run_in_process(args, cwd, full_env, input)

    return run


def read_files(
    folder: Path, skip: tuple[str, ...] = ("__pycache__",)
) -> dict[str, bytes]:
    """relative path -> content of every file below `folder` (`skip`: folder names)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not set(relative.parts) & set(skip):
            found[relative.as_posix()] = path.read_bytes()
    return found


@pytest.fixture
def files() -> Callable[..., dict[str, bytes]]:
    """`files(folder, skip=("__pycache__",))`: {relative path: bytes} of a folder."""
    return read_files


class Started:
    """A `workshop` command running in a process of its own (see start_workshop)."""

    def __init__(self, process: subprocess.Popen, pause: Path) -> None:
        self.process = process
        self.pause = pause

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_paused(self, timeout: float = 30) -> None:
        """Wait until the command pauses at its WORKSHOP_FAULT point."""
        import time

        deadline = time.monotonic() + timeout
        while not self.pause.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                _, err = self.process.communicate()
                pytest.fail(f"never paused (exit {self.process.returncode}):\n{err}")
            time.sleep(0.01)

    def resume(self) -> None:
        self.pause.unlink()

    def finish(self, timeout: float = 60) -> Result:
        out, err = self.process.communicate(timeout=timeout)
        return Result(self.process.returncode, out, err)


@pytest.fixture
def start_workshop(tmp_path: Path, request) -> Callable[..., Started]:
    """`start_workshop(*args, cwd=..., fault=None)` -> Started, without waiting.

    Always a real process (signals, locks and kills need one). `fault` sets
    WORKSHOP_FAULT, e.g. "after-snapshot:pause" or "moved@5:sigterm"; a pause
    is awaited with `wait_paused()` and ended with `resume()`.
    """
    started: list[Started] = []

    def start(*args: str, cwd: Path, fault: str | None = None) -> Started:
        pause = tmp_path / f"pause-{len(started)}"
        env = {**os.environ, "WORKSHOP_FAULT_PAUSE": str(pause)}
        env.pop("WORKSHOP_FAULT", None)
        if fault:
            env["WORKSHOP_FAULT"] = fault
        process = subprocess.Popen(
            [sys.executable, "-m", "workshop", *args],
            cwd=cwd, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        started.append(Started(process, pause))
        return started[-1]

    def stop_all() -> None:
        for each in started:
            if each.process.poll() is None:
                each.process.kill()
            each.process.communicate()

    request.addfinalizer(stop_all)
    return start
