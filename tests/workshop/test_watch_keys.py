"""`workshop watch` on a real pseudo-terminal: keys typed, answers seen, the
terminal given back as it was. POSIX only (Windows has no pty)."""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

if sys.platform == "win32":
    pytest.skip("pseudo-terminals are POSIX", allow_module_level=True)

import fcntl
import termios

from project.project_files import ROOT, load_jsonc

from workshop.keys import keypresses, keys_available

TIMEOUT = 60  # seconds; generous for a loaded machine, reached only on failure
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class Terminal:
    """`workshop watch` as a session leader with a pty as its controlling
    terminal, the way a shell in a terminal window starts it."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.master, self.slave = os.openpty()
        self.text = ""
        self.reaped = False
        self.lock = threading.Lock()
        argv = [sys.executable, "-m", "workshop", "watch"]
        self.pid = os.fork()
        if self.pid == 0:  # the child: only system calls until exec
            try:
                os.setsid()
                fcntl.ioctl(self.slave, termios.TIOCSCTTY, 0)
                for fd in (0, 1, 2):
                    os.dup2(self.slave, fd)
                os.chdir(root)
                os.execve(sys.executable, argv, env)
            finally:
                os._exit(127)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return  # the child and its terminal are gone
            if not data:
                return
            with self.lock:
                self.text += ANSI.sub("", data.decode(errors="replace"))

    def seen(self) -> str:
        with self.lock:
            return self.text.replace("\r\n", "\n")

    def wait_for(self, text: str, after: int = 0) -> int:
        """The position just past the first `text` printed after `after`."""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            found = self.seen().find(text, after)
            if found >= 0:
                return found + len(text)
            time.sleep(0.02)  # polling the output the reader thread collects
        raise AssertionError(f"never saw {text!r} in:\n{self.seen()[after:]}")

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def exit_code(self) -> int:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.reaped = True
                return os.waitstatus_to_exitcode(status)
            time.sleep(0.02)
        raise AssertionError(f"watch did not exit:\n{self.seen()}")

    def close(self) -> None:
        if not self.reaped:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        os.close(self.slave)
        os.close(self.master)


@pytest.fixture
def terminal(workshop_repo: Path, tmp_path: Path):
    """Start watch on a pty, with a `code` command that notes what it opens."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    opened = tmp_path / "opened.txt"
    code = bin_dir / "code"
    code.write_text(f'#!/bin/sh\necho "$@" >> "{opened}"\n')
    code.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}

    def start(**extra: str) -> Terminal:
        started.append(Terminal(workshop_repo, {**env, **extra}))
        return started[-1]

    started: list[Terminal] = []
    yield start, opened
    for term in started:
        term.close()


def test_keys_answer_and_q_gives_the_terminal_back(terminal, workshop_repo) -> None:
    start, opened = terminal
    term = start()
    before = termios.tcgetattr(term.slave)
    at = term.wait_for("Waiting for changes in app/ ... (h hint")
    assert not termios.tcgetattr(term.slave)[3] & termios.ECHO  # cbreak: no echo

    term.type("l")
    at = term.wait_for("Step 1 — Respond first  ← you are here", at)
    assert "Step 2 — Async tasks" in term.seen()[at:]

    term.type("h")
    at = term.wait_for("Step 1, hint 1 of 2", at)
    at = term.wait_for("Open `app/main.py`.", at)

    term.type("n")
    at = term.wait_for("Opened checkpoints/step-1/README.md in the editor.", at)
    guide = workshop_repo / "checkpoints" / "step-1" / "README.md"
    assert opened.read_text().split() == ["--reuse-window", str(guide)]

    term.type("r")
    at = term.wait_for("r: check again (Ctrl-C to stop)", at)
    at = term.wait_for("Stuck? Run: workshop hint 1", at)
    at = term.wait_for("Waiting for changes", at)

    term.type("q")
    assert term.exit_code() == 0
    assert "Stopped watching." in term.seen()[at:]
    after = termios.tcgetattr(term.slave)
    assert after[3] == before[3]  # echo and line editing are back
    assert after[3] & termios.ECHO and after[3] & termios.ICANON
    assert_the_watch_task_sees_each_run(term.seen().splitlines())


def assert_the_watch_task_sees_each_run(lines: list[str]) -> None:
    """The watch task's background patterns: each run begins at its
    '[hh:mm:ss]' line and ends at 'Waiting for changes'."""
    tasks = load_jsonc(ROOT / ".vscode" / "tasks.json")["tasks"]
    [watch] = [t for t in tasks if t["label"] == "workshop: watch"]
    headers = [ln for ln in lines if "(Ctrl-C to stop)" in ln]
    assert len(headers) == 2  # the first run, and the one 'r' started
    for matcher in watch["problemMatcher"]:
        begins = matcher["background"]["beginsPattern"]
        ends = matcher["background"]["endsPattern"]
        assert [ln for ln in lines if re.search(begins, ln)] == headers
        assert len([ln for ln in lines if re.search(ends, ln)]) >= 2


def test_q_stops_a_check_that_hangs_at_once(terminal, workshop_repo, tmp_path) -> None:
    started = tmp_path / "looping"
    main = workshop_repo / "app" / "main.py"
    main.write_text(f"STEP = 1\nopen({str(started)!r}, 'w')\nwhile True: pass\n")
    start, _ = terminal
    term = start(WORKSHOP_IMPORT_LIMIT="600")
    term.wait_for("watching app/")
    deadline = time.monotonic() + TIMEOUT
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.01)  # polling for an event: the check is stuck now
    term.type("q")
    assert term.exit_code() == 0
    assert "Stopped watching." in term.seen()


def test_without_a_terminal_no_key_is_read(monkeypatch) -> None:
    """stdin a pipe (an editor task without a terminal, CI): keys are off."""
    read, write = os.pipe()
    try:
        with os.fdopen(read) as pipe:
            monkeypatch.setattr(sys, "stdin", pipe)
            assert not keys_available()
            with keypresses(lambda key: None) as reading:
                assert reading is False
    finally:
        os.close(write)
