"""One goto or restore at a time (issue 12, item 1), on real processes.

The first command is paused by WORKSHOP_FAULT between its snapshot and its
first rename, the worst moment for a second one to start.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support.repos import backup_refs

from workshop.errors import WorkshopError


def test_a_second_goto_or_restore_refuses_while_one_is_switching(
    workshop_repo, run_workshop, start_workshop, git, files
) -> None:
    first = start_workshop("goto", "2", cwd=workshop_repo, fault="after-snapshot:pause")
    first.wait_paused()

    second = run_workshop("goto", "1", cwd=workshop_repo)
    third = run_workshop("restore", "--latest", cwd=workshop_repo)
    first.resume()
    done = first.finish()

    assert second.code == 2
    assert second.stderr == (
        f"workshop: another 'workshop goto 2' is running (pid {first.pid}): "
        "wait for it to finish, then try again\n"
    )
    assert third.code == 2
    assert f"(pid {first.pid})" in third.stderr
    assert (done.code, done.stderr) == (0, "")
    step_2 = workshop_repo / "checkpoints" / "step-2" / "app"
    assert files(workshop_repo / "app") == files(step_2)
    assert backup_refs(workshop_repo, git) == []


def test_a_killed_goto_leaves_no_lock_behind(
    workshop_repo, run_workshop, start_workshop, files
) -> None:
    first = start_workshop("goto", "2", cwd=workshop_repo, fault="after-snapshot:pause")
    first.wait_paused()
    first.process.kill()
    first.finish()

    code, _, err = run_workshop("goto", "1", cwd=workshop_repo)

    assert (code, err) == (0, "")
    step_1 = workshop_repo / "checkpoints" / "step-1" / "app"
    assert files(workshop_repo / "app") == files(step_1)


def test_without_os_locks_a_pid_file_refuses_then_is_taken_from_the_dead(
    tmp_path, monkeypatch
) -> None:
    from workshop import lock

    monkeypatch.setattr(lock, "_os_lock", lambda fd: None)
    with lock.held(tmp_path, "goto 1"):
        owner = (tmp_path / lock.FALLBACK).read_text().split()
        assert owner == [str(os.getpid()), "goto", "1"]
        busy = pytest.raises(WorkshopError, match="'workshop goto 1' is running")
        with busy, lock.held(tmp_path, "goto 2"):
            pass
    assert not (tmp_path / lock.FALLBACK).exists()

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True)  # fmt: skip
    (tmp_path / lock.FALLBACK).write_text(f"{gone.stdout.strip()}\ngoto 0\n")
    with lock.held(tmp_path, "goto 2"):
        assert "goto 2" in (tmp_path / lock.FALLBACK).read_text()
