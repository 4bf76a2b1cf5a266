"""The checks cannot be wedged: hangs, exits and Ctrl-C in real processes.

Each test runs `python -m workshop` in a subprocess on the fake workshop repo,
with an app that misbehaves the way a learner's app can. Time limits are set
low through the environment (WORKSHOP_TEST_LIMIT, WORKSHOP_IMPORT_LIMIT), so a
hang costs about a second; the subprocess timeout only stops a test that would
otherwise hang for good (as these did before the checks were supervised).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workshop.checks.scratch import memory_folder

LIMITS = {"WORKSHOP_TEST_LIMIT": "1", "WORKSHOP_IMPORT_LIMIT": "1"}
GIVE_UP = 30  # seconds: only reached when the command hangs


def workshop(root: Path, *args: str, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "workshop", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, **LIMITS, **(env or {})},
        timeout=GIVE_UP,
    )


def write_main(root: Path, code: str) -> None:
    (root / "app" / "main.py").write_text(f"STEP = 0\n{code}", encoding="utf-8")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_an_endless_loop_at_import_is_one_line_naming_the_place(workshop_repo) -> None:
    write_main(workshop_repo, "while True: pass\n")
    done = workshop(workshop_repo, "check", "1")
    assert done.returncode == 1, done.stderr
    assert "importing app/ did not finish in 1 s" in done.stdout
    assert "stuck at app/main.py:2 in <module>" in done.stdout
    assert done.stdout.count("did not finish") == 1  # once, not once per step


def test_a_test_that_never_ends_is_stopped_and_named(workshop_repo, git) -> None:
    write_main(workshop_repo, "\n\ndef hello() -> str:\n    while True: pass\n")
    suite = workshop_repo / "tests" / "steps" / "test_step_0.py"
    suite.write_text(
        "from app.main import hello\n\n\ndef test_hello() -> None:\n"
        '    """hello() answers."""\n    assert hello()\n',
        encoding="utf-8",
    )
    git(workshop_repo, "commit", "-qam", "the course's suite")
    done = workshop(workshop_repo, "check", "0")
    assert done.returncode == 1
    assert "✗ hello() answers." in done.stdout
    assert "did not finish in 1 s (stuck at app/main.py:5 in hello)" in done.stdout
    assert "never end? The test client waits for every task" in done.stdout


def test_the_whole_process_group_is_killed(workshop_repo, tmp_path: Path) -> None:
    """A server or worker the app started at import does not outlive the check."""
    pid_file = tmp_path / "grandchild.pid"
    write_main(
        workshop_repo,
        "import subprocess, sys\n"
        "sleeper = [sys.executable, '-c', 'import time; time.sleep(600)']\n"
        "child = subprocess.Popen(sleeper)\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "while True:\n    pass\n",
    )
    done = workshop(workshop_repo, "check", "0")
    assert done.returncode == 1
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # the kill is sent; the kernel reaps it
    assert not alive(pid)


def test_a_thread_left_running_at_import_does_not_hold_the_check(
    workshop_repo,
) -> None:
    write_main(
        workshop_repo,
        "import threading, time\n"
        "threading.Thread(target=time.sleep, args=(600,)).start()\n",
    )
    done = workshop(workshop_repo, "check", "0")
    assert done.returncode == 0, done.stdout
    assert "All 1 checks of step 0 pass." in done.stdout


@pytest.mark.parametrize(
    "code", ["import os\nos._exit(0)\n", "import os\nos._exit(3)\n"]
)
def test_an_app_that_ends_the_process_is_never_green(workshop_repo, code) -> None:
    write_main(workshop_repo, code)
    for command in (["check", "2"], ["status"]):
        done = workshop(workshop_repo, *command)
        assert "ended while app/ was imported, without a result" in done.stdout
        if command[0] == "check":
            assert done.returncode == 1
        assert "Every step passes" not in done.stdout and "All " not in done.stdout


def test_sys_exit_at_import_is_one_line_with_its_place(workshop_repo) -> None:
    write_main(workshop_repo, "import sys\nsys.exit(3)\n")
    done = workshop(workshop_repo, "check", "2")
    assert done.returncode == 1
    assert "app/main.py:3: calls sys.exit(3) while app/ is imported" in done.stdout
    assert "AssertionError" not in done.stdout


@pytest.mark.parametrize("command", [["check"], ["status"], ["hint"]])
def test_ctrl_c_ends_the_command_with_one_line(
    workshop_repo, tmp_path: Path, command
) -> None:
    """While the checks hang, Ctrl-C ends the command at once: 130, no traceback."""
    started = tmp_path / "importing"
    write_main(workshop_repo, f"open({str(started)!r}, 'w')\nwhile True:\n    pass\n")
    process = subprocess.Popen(
        [sys.executable, "-m", "workshop", *command],
        cwd=workshop_repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "WORKSHOP_IMPORT_LIMIT": "60"},
    )
    deadline = time.monotonic() + GIVE_UP
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.01)  # polling for an event: the app is being imported
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=GIVE_UP)
    assert process.returncode == 130
    assert err == "workshop: interrupted\n"
    assert "Traceback" not in out + err


def test_a_missing_init_file_names_the_fix(workshop_repo) -> None:
    (workshop_repo / "app" / "__init__.py").unlink()
    done = workshop(workshop_repo, "check", "1")
    assert done.returncode == 1
    assert "app/__init__.py is missing: create it" in done.stdout
    assert "UsageError" not in done.stdout and "WORKSHOP_APP_DIR" not in done.stdout


def test_a_slow_test_outside_app_says_the_machine_may_be_busy(
    workshop_repo, git
) -> None:
    """No frame of app/ was running: no blame on the learner's code."""
    suite = workshop_repo / "tests" / "steps" / "test_step_0.py"
    suite.write_text(
        "def test_slow() -> None:\n"
        '    """The check itself takes long."""\n'
        "    while True:\n        pass\n",
        encoding="utf-8",
    )
    git(workshop_repo, "commit", "-qam", "the course's suite")
    done = workshop(workshop_repo, "check", "0")
    assert done.returncode == 1
    assert "no code of app/ was running: the machine may be busy" in done.stdout
    assert "WORKSHOP_TEST_LIMIT=30 workshop check" in done.stdout


def test_a_test_may_ask_for_a_longer_limit(workshop_repo, git) -> None:
    """@pytest.mark.time_limit(N): the supervisor gives that test N s, and says
    so when it still runs out; the default limit stays for the others."""
    suite = workshop_repo / "tests" / "steps" / "test_step_0.py"
    suite.write_text(
        "import time\n\nimport pytest\n\n\n"
        "@pytest.mark.time_limit(4)\n"
        "def test_slow() -> None:\n"
        '    """Takes longer than the default limit, as it asked."""\n'
        "    time.sleep(1.5)\n\n\n"
        "@pytest.mark.time_limit(2)\n"
        "def test_endless() -> None:\n"
        '    """Asked for 2 s and never ends."""\n'
        "    while True:\n        pass\n",
        encoding="utf-8",
    )
    git(workshop_repo, "commit", "-qam", "the course's suite")
    started = time.monotonic()
    done = workshop(workshop_repo, "check", "0")
    assert done.returncode == 1, done.stdout
    assert "✗ Asked for 2 s and never ends." in done.stdout
    assert "Takes longer than the default limit" not in done.stdout
    assert "did not finish in 2 s" in done.stdout
    assert time.monotonic() - started < GIVE_UP


@pytest.mark.skipif(
    memory_folder() is None, reason="no folder in memory here (/dev/shm): disk it is"
)
def test_the_checks_write_their_files_in_memory(workshop_repo, git) -> None:
    """Each test's database is synced on every commit: on a folder in memory
    that costs nothing (workshop/checks/scratch.py), on a disk about 1 ms."""
    suite = workshop_repo / "tests" / "steps" / "test_step_0.py"
    suite.write_text(
        "import tempfile\nfrom pathlib import Path\n\n\n"
        "def test_in_memory(tmp_path: Path) -> None:\n"
        '    """The test\'s folders are in memory."""\n'
        "    for folder in (tmp_path, Path(tempfile.gettempdir())):\n"
        "        assert folder.resolve().is_relative_to(Path('/dev/shm')), folder\n",
        encoding="utf-8",
    )
    git(workshop_repo, "commit", "-qam", "the course's suite")
    done = workshop(workshop_repo, "check", "0")
    assert done.returncode == 0, done.stdout
    assert "✓ Step 0" in done.stdout
    assert not any(
        Path("/dev/shm").glob("workshop-check-*/tmp/pytest-of-*/*/test_in_memory0")
    )


def test_folders_of_killed_checks_are_swept(tmp_path: Path) -> None:
    """A check killed before it removed its folder (in memory: a reboot is the
    only other way back) leaves it to the next check, never another's."""
    from workshop.checks.scratch import prefix, sweep

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    left = tmp_path / f"workshop-check-{gone.pid}-abc123"
    mine = tmp_path / f"{prefix()}def456"
    for folder in (left, mine):
        (folder / "tmp").mkdir(parents=True)
    sweep(tmp_path)
    assert not left.exists()
    assert mine.exists()
