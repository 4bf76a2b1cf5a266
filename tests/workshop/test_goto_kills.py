"""goto under fire, on real processes: a second goto, signals, SIGKILL at any
moment, an editor saving meanwhile, a file that will not move.

WORKSHOP_FAULT makes each happen at an exact moment (`after-snapshot`: app/
read and saved, nothing moved yet; `moved@N`: after the Nth rename;
`switched`: every file moved), so no test hopes a timing falls right. Step 2's
checkpoint gets 200 files in app/lib; the learner has edited app/.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from workshop.errors import WorkshopError

HALF = "moved@100"  # of about 200 renames
CATCHABLE = ("SIGINT", "SIGTERM", "SIGHUP")
SIGNALS = [getattr(signal, n) for n in CATCHABLE if hasattr(signal, n)]
SAVED_LATE = "Saved what else left app/ while goto 2 ran (1 file: edited meanwhile"


def name(number: int) -> str:
    return "Ctrl-C" if number == signal.SIGINT else signal.Signals(number).name


def add_lib(root: Path, git, count: int) -> Path:
    """Step 2 adds app/lib/ with `count` files; app/ holds the learner's edits."""
    lib = root / "checkpoints" / "step-2" / "app" / "lib"
    lib.mkdir()
    for number in range(count):
        (lib / f"m{number:04}.py").write_text(f"N = {number}\n")
    git(root, "add", "--all")
    git(root, "commit", "-q", "-m", "step 2 has a big lib")
    (root / "app" / "main.py").write_text("STEP = 0  # my edit\n")
    (root / "app" / "mine.py").write_text("mine = True\n")
    return root


@pytest.fixture
def big_repo(workshop_repo: Path, git) -> Path:
    return add_lib(workshop_repo, git, 200)


def leftovers(root: Path, git) -> list[str]:
    """Anything a switch may leave behind: stages, its record, backups."""
    kept = ("lock", "progress.json")
    state = sorted(p.name for p in (root / ".workshop").glob("*") if p.name not in kept)
    refs = git(root, "for-each-ref", "--format=%(refname)", "refs/workshop/")
    return state + refs.split()


def backups(root: Path, git) -> list[str]:
    refs = git(root, "for-each-ref", "--format=%(refname:lstrip=3)", "refs/workshop/")
    return refs.split()


def saved_versions(root: Path, git, path: str) -> list[str]:
    """`path` as every backup holds it."""
    found = []
    for ref in git(
        root, "for-each-ref", "--format=%(refname)", "refs/workshop/"
    ).split():
        if git(root, "ls-tree", "--name-only", ref, "--", path).strip():
            found.append(git(root, "show", f"{ref}:{path}"))
    return found


def step(root: Path, number: int) -> Path:
    return root / "checkpoints" / f"step-{number}" / "app"


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
    assert files(workshop_repo / "app") == files(step(workshop_repo, 2))
    assert backups(workshop_repo, git) == []


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


@pytest.mark.parametrize("number", SIGNALS, ids=name)
def test_a_signal_before_the_first_rename_leaves_app_as_it_was(
    big_repo, start_workshop, git, files, number
) -> None:
    before = files(big_repo / "app")
    fault = f"after-snapshot:{signal.Signals(number).name.lower()}"

    code, out, err = start_workshop("goto", "2", cwd=big_repo, fault=fault).finish()

    assert (code, out) == (128 + number, "")
    assert err == f"workshop: interrupted by {name(number)}: app/ left as it was\n"
    assert files(big_repo / "app") == before
    assert leftovers(big_repo, git) == []  # the backup made is dropped too


@pytest.mark.parametrize("number", SIGNALS, ids=name)
def test_a_signal_mid_switch_waits_for_the_switch_and_says_so(
    big_repo, start_workshop, git, files, number
) -> None:
    fault = f"{HALF}:{signal.Signals(number).name.lower()}"

    code, out, err = start_workshop("goto", "2", cwd=big_repo, fault=fault).finish()

    (saved,) = backups(big_repo, git)
    assert code == 128 + number
    assert f"Saved your changes to app/ (2 files) as {saved}." in out
    assert err == (
        f"workshop: interrupted by {name(number)} after the switch: app/ is now "
        f"step 2; your work was saved as {saved}\n"
    )
    assert files(big_repo / "app") == files(step(big_repo, 2))
    assert leftovers(big_repo, git) == [f"refs/workshop/backup/{saved}"]


def test_a_second_signal_mid_switch_changes_nothing(
    big_repo, start_workshop, files
) -> None:
    fault = "moved@50:sigint,moved@100:sigterm,moved@150:sighup"

    code, _, err = start_workshop("goto", "2", cwd=big_repo, fault=fault).finish()

    assert code == 130
    assert err.startswith("workshop: interrupted by Ctrl-C after the switch: ")
    assert files(big_repo / "app") == files(step(big_repo, 2))


def test_a_kill_mid_switch_is_named_by_status_and_check_and_finished_by_goto(
    big_repo, start_workshop, run_workshop, git, files
) -> None:
    before = files(big_repo / "app")
    killed = start_workshop("goto", "2", cwd=big_repo, fault=f"{HALF}:sigkill")
    assert killed.finish().code == -signal.SIGKILL
    (saved,) = backups(big_repo, git)
    half = (
        f"workshop: app/ is half-switched: 'workshop goto 2' (pid {killed.pid}) did "
        f"not finish; run 'workshop goto 2' to finish it (your work is saved as "
        f"{saved})\n"
    )

    for command in (["status"], ["check", "0"]):
        assert run_workshop(*command, cwd=big_repo).stderr.startswith(half), command

    code, out, err = run_workshop("goto", "1", cwd=big_repo)

    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        f"Finished 'workshop goto 2' (pid {killed.pid}), which stopped halfway: "
        f"app/ is now step 2; your work was saved as {saved}."
    )
    assert files(big_repo / "app") == files(step(big_repo, 1))
    assert leftovers(big_repo, git) == [f"refs/workshop/backup/{saved}"]
    # the one backup holds the learner's app/, not a mix of two steps
    assert run_workshop("restore", "--latest", cwd=big_repo).code == 0
    assert files(big_repo / "app") == before
    assert backups(big_repo, git) == [saved]


def test_a_kill_while_finishing_is_finished_by_the_next_goto(
    big_repo, start_workshop, run_workshop, git, files
) -> None:
    before = files(big_repo / "app")
    first = start_workshop("goto", "2", cwd=big_repo, fault=f"{HALF}:sigkill")
    first.finish()
    again = start_workshop("goto", "2", cwd=big_repo, fault="moved@50:sigkill")
    assert again.finish().code == -signal.SIGKILL

    code, out, _ = run_workshop("goto", "2", cwd=big_repo)

    (saved,) = backups(big_repo, git)
    assert code == 0
    assert out.splitlines() == [
        f"Finished 'workshop goto 2' (pid {first.pid}), which stopped halfway: "
        f"app/ is now step 2; your work was saved as {saved}.",
        "app/ already equals step 2: nothing to do.",
    ]
    assert files(big_repo / "app") == files(step(big_repo, 2))
    assert leftovers(big_repo, git) == [f"refs/workshop/backup/{saved}"]
    assert run_workshop("restore", saved, cwd=big_repo).code == 0
    assert files(big_repo / "app") == before


def test_a_kill_after_the_last_rename_is_finished_by_the_next_goto(
    big_repo, start_workshop, run_workshop, git, files
) -> None:
    killed = start_workshop("goto", "2", cwd=big_repo, fault="switched:sigkill")
    assert killed.finish().code == -signal.SIGKILL

    code, out, _ = run_workshop("goto", "2", cwd=big_repo)

    (saved,) = backups(big_repo, git)  # made, never announced until now
    assert code == 0
    assert out.splitlines() == [
        f"Finished 'workshop goto 2' (pid {killed.pid}), which stopped halfway: "
        f"app/ is now step 2; your work was saved as {saved}.",
        "app/ already equals step 2: nothing to do.",
    ]
    assert files(big_repo / "app") == files(step(big_repo, 2))
    assert leftovers(big_repo, git) == [f"refs/workshop/backup/{saved}"]


def test_a_kill_before_the_first_rename_leaves_nothing_in_the_way(
    big_repo, start_workshop, run_workshop, git, files
) -> None:
    before = files(big_repo / "app")
    killed = start_workshop("goto", "2", cwd=big_repo, fault="after-snapshot:sigkill")
    assert killed.finish().code == -signal.SIGKILL
    assert files(big_repo / "app") == before
    assert "switch.json" not in leftovers(big_repo, git)  # not half-switched
    (saved,) = backups(big_repo, git)

    code, out, err = run_workshop("goto", "2", cwd=big_repo)  # no lock left either

    assert (code, err) == (0, "")
    assert out.startswith(f"Nothing new to save: app/ equals {saved}, saved before.")
    assert files(big_repo / "app") == files(step(big_repo, 2))
    assert leftovers(big_repo, git) == [f"refs/workshop/backup/{saved}"]


def test_an_edit_to_a_half_switched_app_is_saved_when_it_is_finished(
    big_repo, start_workshop, run_workshop, git, files
) -> None:
    killed = start_workshop("goto", "2", cwd=big_repo, fault=f"{HALF}:sigkill")
    killed.finish()
    # The learner opens the half switched app/ and saves a file that came in.
    (big_repo / "app" / "lib" / "m0000.py").write_text("N = 'edited'\n")

    code, out, _ = run_workshop("goto", "1", cwd=big_repo)

    assert code == 0
    assert out.startswith(f"Finished 'workshop goto 2' (pid {killed.pid})")
    assert SAVED_LATE in out
    versions = saved_versions(big_repo, git, "app/lib/m0000.py")
    assert versions == ["N = 'edited'\n"]
    assert files(big_repo / "app") == files(step(big_repo, 1))


def test_an_edit_between_snapshot_and_move_is_saved_and_announced(
    workshop_repo, start_workshop, git
) -> None:
    main = workshop_repo / "app" / "main.py"
    main.write_text("STEP = 0  # my edit\n")
    goto = start_workshop("goto", "2", cwd=workshop_repo, fault="after-snapshot:pause")
    goto.wait_paused()
    main.write_text("STEP = 0  # my edit, formatted on save\n")  # too late for it
    goto.resume()

    code, out, err = goto.finish()

    assert (code, err) == (0, "")
    assert SAVED_LATE in out
    assert saved_versions(workshop_repo, git, "app/main.py") == [
        "STEP = 0  # my edit\n",
        "STEP = 0  # my edit, formatted on save\n",
    ]


def test_a_writer_appending_every_2_ms_loses_no_line(
    workshop_repo, start_workshop, git
) -> None:
    work = workshop_repo / "app" / "work.txt"
    work.write_text("line 0\n")
    written, stop = ["line 0\n"], threading.Event()

    def writer() -> None:
        while not stop.wait(0.002):
            line = f"line {len(written)}\n"
            with open(work, "a") as handle:
                handle.write(line)
            written.append(line)

    goto = start_workshop(
        "goto", "2", cwd=workshop_repo, fault="after-snapshot:pause,switched:pause"
    )
    goto.wait_paused()  # app/ was read: every line from now on is "late"
    thread = threading.Thread(target=writer)
    thread.start()
    while len(written) < 20:
        stop.wait(0.01)
    goto.resume()
    goto.wait_paused()  # renamed, not yet compared: the writer stops here
    stop.set()
    thread.join()
    goto.resume()
    code, out, _ = goto.finish()

    assert code == 0
    kept = "".join(saved_versions(workshop_repo, git, "app/work.txt"))
    kept += work.read_text() if work.exists() else ""
    assert [line for line in written if line not in kept] == []
    assert SAVED_LATE in out  # and said so


def test_an_unchanged_app_saves_no_extra_backup(
    workshop_repo, run_workshop, git
) -> None:
    (workshop_repo / "app" / "main.py").write_text("STEP = 0  # my edit\n")

    code, out, _ = run_workshop("goto", "2", cwd=workshop_repo)

    assert code == 0
    assert "while goto 2 ran" not in out
    assert len(backups(workshop_repo, git)) == 1
