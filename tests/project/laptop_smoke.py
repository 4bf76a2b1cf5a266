"""The workshop's commands as a learner runs them, on whatever OS this is.

CI's Windows and macOS jobs run it after `python -m workshop setup`; it also
runs on Linux. Standard library only, run with the venv's Python (its
`workshop` command is the one beside it):

    .venv/bin/python tests/project/laptop_smoke.py            # POSIX
    .venv\\Scripts\\python tests\\project\\laptop_smoke.py      # Windows

In a throw-away clone of this checkout (committed files only), it proves:

- serve:  `workshop serve` answers on its port, and Ctrl-C (CTRL_BREAK_EVENT
          on Windows, where a console group cannot be sent Ctrl-C) stops it
          with no process of its tree left and the port free;
- goto:   `workshop goto 1` replaces a learner's edited app/, and
          `workshop restore --latest` brings the edit back byte for byte;
- watch:  `workshop watch 0 --poll` notices a save and runs the check;
- worker: `workshop worker --checkpoint 8` starts on the threads pool (the
          step 8 guide's Windows note: prefork does not run there) and stops
          on Ctrl-C with no process left;
- orphan: `workshop serve` and `workshop worker` killed outright (SIGKILL,
          TerminateProcess on Windows: a closed terminal, a crash) take
          their app and worker processes with them, and the port is free.

Each part prints PASS, FAIL or SKIP with its reason (never a silent skip);
the exit status is 1 when any part failed. `laptop_smoke.py serve watch` runs
only those parts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WINDOWS = os.name == "nt"
BIN = Path(sys.executable).parent
WORKSHOP = BIN / ("workshop.exe" if WINDOWS else "workshop")
START_LIMIT = 120.0  # seconds: a cold start on a shared CI runner
STOP_LIMIT = 30.0


class Failed(Exception):
    """A part of the smoke test failed: the message says what was seen."""


class Skipped(Exception):
    """A part cannot run on this OS: the message says why."""


# --- processes ------------------------------------------------------------------


class Command:
    """`workshop ARGS` in a process group of its own, its output in a file."""

    def __init__(self, clone: Path, *args: str) -> None:
        self.log = clone.parent / f"{args[0]}.log"
        group = (
            {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
            if WINDOWS
            else {"start_new_session": True}
        )
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(WORKSHOP), *args], cwd=clone, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT, env=child_env(), **group,
            )  # fmt: skip

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, text: str, limit: float = START_LIMIT) -> None:
        def seen() -> bool:
            if self.process.poll() is not None and text not in self.output:
                raise Failed(f"it ended ({self.process.returncode}) before {text!r}")
            return text in self.output

        wait(seen, f"{text!r} in its output", limit)

    def interrupt(self) -> None:
        """What Ctrl-C in its terminal does (CTRL_BREAK_EVENT on Windows)."""
        if WINDOWS:
            self.process.send_signal(signal.CTRL_BREAK_EVENT)
        else:
            os.killpg(self.process.pid, signal.SIGINT)

    def stop_and_check(self) -> tuple[int, int]:
        """Ctrl-C; then it must end, and every process it started with it.
        Returns its exit status and how many processes its tree had."""
        tree = descendants(self.process.pid)
        self.interrupt()
        try:
            status = self.process.wait(STOP_LIMIT)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failed(f"still running {STOP_LIMIT:g} s after Ctrl-C") from None
        what = f"its processes {sorted(tree)} to end"
        wait(lambda: not alive(tree), what, STOP_LIMIT)
        return status, len(tree)

    def kill_alone(self) -> set[int]:
        """Kill the command's own process only, as a crash would, and return
        the processes it had started, which must now end on their own."""
        started = descendants(self.process.pid) - {self.process.pid}
        self.process.kill()  # SIGKILL, TerminateProcess on Windows
        self.process.wait(STOP_LIMIT)
        return started

    def kill(self) -> None:
        """The cleanup after a failure: the process and all it started."""
        if self.process.poll() is not None:
            return
        if WINDOWS:
            subprocess.run(
                ["taskkill", "/F", "/T", "/PID", str(self.process.pid)],
                capture_output=True, check=False,
            )  # fmt: skip
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(STOP_LIMIT)


def child_env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    env.pop("REDIS_URL", None)  # the worker's default broker: SQLite, no server
    env.pop("CELERY_BROKER_URL", None)
    return env


def process_table() -> dict[int, int]:
    """Every process's parent, {pid: ppid}, from the OS's own tool."""
    if WINDOWS:
        command = [
            "powershell", "-NoProfile", "-Command",
            "Get-CimInstance Win32_Process | ForEach-Object "
            '{ "$($_.ProcessId) $($_.ParentProcessId)" }',
        ]  # fmt: skip
    else:
        command = ["ps", "-A", "-o", "pid=,ppid="]
    lines = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    table = {}
    for line in lines.split("\n"):
        if len(fields := line.split()) == 2:
            table[int(fields[0])] = int(fields[1])
    return table


def descendants(pid: int) -> set[int]:
    """`pid` and every process it started that still runs."""
    table = process_table()
    found, more = {pid}, True
    while more:
        more = {p for p, parent in table.items() if parent in found} - found
        found |= more
    return found


def alive(pids: set[int]) -> set[int]:
    return pids & set(process_table())


def wait(done: Callable[[], bool], what: str, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not done():
        if time.monotonic() > deadline:
            raise Failed(f"waited {limit:g} s for {what}")
        time.sleep(0.2)  # polling interval, not a wait for an event


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bind_again(port: int) -> None:
    """The port is free again: a new server could listen on it. POSIX keeps a
    closed connection's port in TIME_WAIT for a while; servers bind with
    SO_REUSEADDR for that (uvicorn does), which still fails while anyone
    listens. (On Windows that option would let two listen: plain bind there.)"""
    with socket.socket() as s:
        if not WINDOWS:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def workshop(clone: Path, *args: str) -> str:
    result = subprocess.run(
        [str(WORKSHOP), *args], cwd=clone, capture_output=True, text=True,
        env=child_env(), timeout=START_LIMIT,
    )  # fmt: skip
    if result.returncode != 0:
        raise Failed(f"workshop {' '.join(args)}: {result.returncode}\n{result.stderr}")
    return result.stdout


# --- the parts --------------------------------------------------------------------


def serve(clone: Path) -> str:
    port = free_port()
    command = Command(clone, "serve", "--port", str(port))
    try:
        url = f"http://127.0.0.1:{port}/docs"
        wait(lambda: answers(url), f"{url} to answer", START_LIMIT)
        status, count = command.stop_and_check()
    finally:
        command.kill()
    if not WINDOWS and status != 0:
        raise Failed(f"exit status {status} after Ctrl-C (expected 0)")
    if answers(url):
        raise Failed(f"{url} still answers after Ctrl-C")
    bind_again(port)
    return f"answered; Ctrl-C: status {status}, its {count} processes all gone"


def goto_and_restore(clone: Path) -> str:
    main = clone / "app" / "main.py"
    main.write_bytes(main.read_bytes() + b"\n# the learner's own line\n")
    before = snapshot(clone / "app")
    workshop(clone, "goto", "1")
    if snapshot(clone / "app") != snapshot(clone / "checkpoints" / "step-1" / "app"):
        raise Failed("after goto 1, app/ differs from checkpoints/step-1/app")
    workshop(clone, "restore", "--latest")
    if snapshot(clone / "app") != before:
        raise Failed("after restore --latest, app/ differs from the learner's work")
    return "goto 1 replaced app/, restore --latest brought the edit back"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def watch_poll(clone: Path) -> str:
    command = Command(clone, "watch", "0", "--poll")
    try:
        command.wait_for("Waiting for changes")
        main = clone / "app" / "main.py"
        original = main.read_bytes()

        def saved_and_seen() -> bool:  # a save before the first look goes unseen
            main.write_bytes(original + f"\n# saved {time.time()}\n".encode())
            time.sleep(1)  # watch looks every 300 ms
            return "changed: app/main.py" in command.output

        wait(saved_and_seen, "watch to notice the save", START_LIMIT)
        command.wait_for("checks of step 0 pass")
        main.write_bytes(original)
        command.stop_and_check()
    finally:
        command.kill()
    return "noticed a save of app/main.py and ran the check"


def worker(clone: Path) -> str:
    if not (clone / "checkpoints" / "step-8" / "app" / "worker.py").exists():
        raise Skipped("checkpoints/step-8 has no worker.py")
    command = Command(clone, "worker", "--checkpoint", "8")
    try:
        command.wait_for(" ready.")
        if "(thread)" not in command.output:
            raise Failed(f"not on the threads pool:\n{command.output}")
        status, count = command.stop_and_check()
    finally:
        command.kill()
    if not WINDOWS and status != 0:
        raise Failed(f"exit status {status} after Ctrl-C (expected 0)")
    return f"threads pool; Ctrl-C: status {status}, its {count} processes all gone"


def orphan(clone: Path) -> str:
    port = free_port()
    serving = Command(clone, "serve", "--port", str(port))
    working = Command(clone, "worker", "--checkpoint", "8")
    try:
        url = f"http://127.0.0.1:{port}/docs"
        wait(lambda: answers(url), f"{url} to answer", START_LIMIT)
        working.wait_for(" ready.")
        left = serving.kill_alone() | working.kill_alone()
        if not left:
            raise Failed("serve and worker had started no process to check")
        wait(
            lambda: not alive(left),
            f"their processes {sorted(left)} to end",
            STOP_LIMIT,
        )
    finally:
        serving.kill()
        working.kill()
    bind_again(port)
    return f"both killed alone; their {len(left)} processes ended, the port is free"


PARTS: dict[str, Callable[[Path], str]] = {
    "serve": serve,
    "goto": goto_and_restore,
    "watch": watch_poll,
    "worker": worker,
    "orphan": orphan,
}


def run(name: str, part: Callable[[Path], str], clone: Path) -> bool:
    try:
        print(f"PASS {name}: {part(clone)}", flush=True)
    except Skipped as reason:
        print(f"SKIP {name}: {reason}", flush=True)
    except (Failed, OSError, subprocess.SubprocessError) as error:
        print(f"FAIL {name}: {error}", flush=True)
        for log in sorted(clone.parent.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        return False
    return True


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in PARTS]
    if unknown:
        print(f"unknown part {unknown[0]!r}: choose from {', '.join(PARTS)}")
        return 2
    if not WORKSHOP.exists():
        print(f"no {WORKSHOP}: run this with the venv's Python")
        return 2
    print(f"laptop smoke on {sys.platform}, Python {sys.version.split()[0]}")
    results = []
    for name in argv or list(PARTS):
        with tempfile.TemporaryDirectory(
            prefix="laptop-smoke-", ignore_cleanup_errors=True
        ) as folder:
            clone = Path(folder) / "clone"
            subprocess.run(
                ["git", "clone", "--quiet", "--no-local", str(ROOT), str(clone)],
                check=True,
            )
            results.append(run(name, PARTS[name], clone))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
