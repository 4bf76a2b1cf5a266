"""`workshop watch`: a real watcher process, a real file edit, a real Ctrl-C."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

TIMEOUT = 60  # seconds; generous for a loaded machine, reached only on failure


class Output:
    """Lines of a process's output, read in a thread, waited for with a timeout."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.process = process
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.put(line)

    def wait_for(self, text: str, timeout: float = TIMEOUT) -> bool:
        """True once a line containing `text` arrives; False after `timeout`."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                return False
            self.seen.append(line)
            if text in line:
                return True
        return False

    def stop(self) -> None:
        """Kill the process if it still runs, and let the reader see the end."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=TIMEOUT)
        self.thread.join(timeout=TIMEOUT)
        assert self.process.stdout is not None
        self.process.stdout.close()


def start_watch(root: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "workshop", "watch", *args],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **env},
    )


def save_until_seen(output: Output, path: Path, text: str, seen: str) -> None:
    """Save `text` into `path` until the watcher shows `seen` (normally the
    first save does it: the watcher may still be starting)."""
    for _ in range(10):
        path.write_text(text)
        if output.wait_for(seen, timeout=TIMEOUT / 10):
            return
    raise AssertionError(f"watch never showed {seen!r}: {output.seen}")


def test_watch_checks_again_after_each_save(workshop_repo) -> None:
    process = start_watch(workshop_repo)
    output = Output(process)
    try:
        assert output.wait_for("Stuck? Run: workshop hint 1"), output.seen
        assert output.wait_for("Waiting for changes"), output.seen

        main = workshop_repo / "app" / "main.py"
        text = main.read_text().replace("STEP = 0", "STEP = 1")
        # The watcher starts right after "Waiting for changes" is printed: save
        # until it notices (normally the first save does it).
        for _ in range(10):
            main.write_text(text)
            if output.wait_for("changed: app/main.py", timeout=TIMEOUT / 10):
                break
        else:
            raise AssertionError(f"watch never noticed the save: {output.seen}")
        # a fresh process imports the saved app: step 1 is green now
        assert output.wait_for("✓ Step 1 — Respond first"), output.seen
        assert output.wait_for("Step 1 passes. Next: Step 2"), output.seen
        assert output.wait_for("Waiting for changes"), output.seen

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=TIMEOUT) == 130
        assert output.wait_for("Stopped watching."), output.seen
    finally:
        output.stop()


def test_files_that_are_not_code_do_not_trigger(workshop_repo) -> None:
    """A database file written into app/ must not start a check."""
    process = start_watch(workshop_repo, "0")
    output = Output(process)
    try:
        assert output.wait_for("Waiting for changes"), output.seen
        for _ in range(10):
            (workshop_repo / "app" / "data.db").write_bytes(b"\0" * 10)
            (workshop_repo / "app" / "main.py").write_text("STEP = 0\n")
            if output.wait_for("changed:", timeout=TIMEOUT / 10):
                break
        else:
            raise AssertionError(f"watch never noticed the save: {output.seen}")
        changed = next(line for line in output.seen if "changed:" in line)
        assert "changed: app/main.py (" in changed  # and not data.db
    finally:
        output.stop()


def test_a_save_stops_a_check_that_hangs(workshop_repo, tmp_path: Path) -> None:
    """The save that fixes an endless loop is checked at once, not never."""
    started = tmp_path / "looping"
    main = workshop_repo / "app" / "main.py"
    main.write_text(f"STEP = 1\nopen({str(started)!r}, 'w')\nwhile True: pass\n")
    process = start_watch(workshop_repo, WORKSHOP_IMPORT_LIMIT="600")
    output = Output(process)
    try:
        assert output.wait_for("watching app/"), output.seen
        deadline = time.monotonic() + TIMEOUT
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.01)  # polling for an event: the check is stuck now
        save_until_seen(output, main, "STEP = 1\n", "a newer save came in")
        assert output.wait_for("✓ Step 1 — Respond first"), output.seen
    finally:
        output.stop()


def test_watch_goes_on_after_app_is_removed_and_restored(workshop_repo) -> None:
    process = start_watch(workshop_repo, "0")
    output = Output(process)
    try:
        assert output.wait_for("Waiting for changes"), output.seen
        shutil.rmtree(workshop_repo / "app")
        subprocess.run(["git", "checkout", "--", "app"], cwd=workshop_repo, check=True)
        assert output.wait_for("changed: app/"), output.seen
        assert output.wait_for("All 1 checks of step 0 pass."), output.seen
        save_until_seen(
            output,
            workshop_repo / "app" / "main.py",
            "STEP = 2\n",
            "changed: app/main.py",
        )
    finally:
        output.stop()


def test_unknown_step_fails_before_watching(workshop_repo, run_workshop) -> None:
    code, out, err = run_workshop("watch", "9", cwd=workshop_repo)
    assert (code, out) == (2, "")
    assert err == "workshop: unknown step '9': valid steps are 0, 1, 2\n"
