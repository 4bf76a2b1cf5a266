"""Odd states end in one clear line, never a traceback (issue 12, item 6)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

BACKUP = re.compile(r"workshop restore (\S+)")


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and err.startswith("workshop: ")


@contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` refuses new entries: chmod, or for root (who ignores it) chattr +i."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if shutil.which("chattr") is None:
        pytest.skip("root ignores chmod and chattr is missing")
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
        pytest.skip("root ignores chmod and chattr +i is not allowed here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_workshop_as_a_file_is_one_line_for_goto_restore_and_hint(
    workshop_repo, run_workshop, files
) -> None:
    (workshop_repo / ".workshop").write_text("not a folder\n")
    (workshop_repo / "app" / "main.py").write_text("my edit\n")
    mine = files(workshop_repo / "app")

    for args in (["goto", "2"], ["restore", "--latest"]):
        code, out, err = run_workshop(*args, cwd=workshop_repo)
        assert (code, out) == (2, ""), args
        assert err == (
            "workshop: .workshop is a file, not a folder: the workshop keeps its "
            "state there; rename or remove it, then try again\n"
        )
    assert files(workshop_repo / "app") == mine
    assert run_workshop("restore", cwd=workshop_repo).code == 0  # a list needs none

    code, out, err = run_workshop("hint", "1", cwd=workshop_repo)
    assert code == 0
    assert "Step 1, hint 1 of 2" in out
    assert err == (
        "workshop: note: cannot save hint progress in .workshop/hints.json: "
        ".workshop is a file, not a folder\n"
    )


def test_hints_json_as_a_folder_is_one_line(workshop_repo, run_workshop) -> None:
    (workshop_repo / ".workshop" / "hints.json").mkdir(parents=True)

    code, out, err = run_workshop("hint", "1", cwd=workshop_repo)
    assert code == 0
    assert "hint 1 of 2" in out
    assert err.startswith("workshop: note: cannot save hint progress in ")
    assert one_line(err)

    code, _, err = run_workshop("hint", "--reset", cwd=workshop_repo)
    assert code == 2
    assert one_line(err)


def test_a_read_only_root_is_one_line_and_app_stays(
    workshop_repo, run_workshop, files
) -> None:
    (workshop_repo / "app" / "main.py").write_text("my edit\n")
    mine = files(workshop_repo / "app")

    with read_only(workshop_repo):
        goto = run_workshop("goto", "2", cwd=workshop_repo)
        hint = run_workshop("hint", "1", cwd=workshop_repo)
        listing = run_workshop("restore", cwd=workshop_repo)

    assert (goto.code, goto.stdout) == (2, "")
    assert re.fullmatch(
        r"workshop: cannot create \.workshop/ in .*: (Permission denied|Operation "
        r"not permitted|Read-only file system) \(goto and restore keep their lock "
        r"and journal there\)\n",
        goto.stderr,
    ), goto.stderr
    assert files(workshop_repo / "app") == mine
    assert hint.code == 0
    assert one_line(hint.stderr)
    assert (listing.code, listing.stderr) == (0, "")


def test_refs_that_cannot_be_written_leave_app_as_it_was(
    workshop_repo, run_workshop, files, git
) -> None:
    (workshop_repo / "app" / "main.py").write_text("my edit\n")
    mine = files(workshop_repo / "app")
    refs = workshop_repo / ".git" / "refs"

    with read_only(refs):
        code, out, err = run_workshop("goto", "2", cwd=workshop_repo)

    assert (code, out) == (2, "")
    assert err.startswith(
        "workshop: app/ left as it was: could not save it first: git update-ref "
        "failed: fatal: "
    ), err
    assert "unable to create directory for .git/refs/workshop/backup/" in err
    assert one_line(err)
    assert files(workshop_repo / "app") == mine


def test_a_file_that_will_not_move_leaves_app_half_switched_and_goto_finishes(
    workshop_repo, run_workshop, git, files
) -> None:
    stuck = workshop_repo / "app" / "zz"  # the learner's: moved after notes.txt
    stuck.mkdir()
    (stuck / "x.py").write_text("x = 1\n")
    before = files(workshop_repo / "app")

    with read_only(stuck):
        code, out, err = run_workshop("goto", "2", cwd=workshop_repo)
        status = run_workshop("status", cwd=workshop_repo)

    assert (code, out) == (2, "")
    assert re.fullmatch(
        r"workshop: (Permission denied|Operation not permitted): .*/app/zz/x\.py; "
        r"app/ is half-switched: run 'workshop goto 2' to finish it\n",
        err,
    ), err
    assert status.stderr.startswith("workshop: app/ is half-switched: 'workshop goto")
    code, out, _ = run_workshop("goto", "2", cwd=workshop_repo)
    assert code == 0
    assert out.startswith("Finished 'workshop goto 2'")
    step_2 = workshop_repo / "checkpoints" / "step-2" / "app"
    assert files(workshop_repo / "app") == files(step_2)
    assert run_workshop("restore", "--latest", cwd=workshop_repo).code == 0
    assert files(workshop_repo / "app") == before


def test_a_file_name_with_a_record_separator_never_breaks_later_commands(
    workshop_repo, run_workshop, files
) -> None:
    app = workshop_repo / "app"
    (app / "odd\x1ename.py").write_text("odd = 1\n")
    (app / "new\nline.py").write_text("odd = 2\n")
    mine = files(app)
    first = run_workshop("goto", "1", cwd=workshop_repo)
    assert first.code == 0
    name = BACKUP.search(first.stdout)[1]

    second = run_workshop("goto", "2", cwd=workshop_repo)
    listing = run_workshop("restore", cwd=workshop_repo)
    back = run_workshop("restore", name, cwd=workshop_repo)

    assert (second.code, second.stderr) == (0, "")
    assert (listing.code, listing.stderr) == (0, "")
    assert "app/new?line.py, app/odd?name.py" in listing.stdout
    assert (back.code, back.stderr) == (0, "")
    assert files(app) == mine


def test_output_that_cannot_encode_the_dash_degrades(workshop_repo, files) -> None:
    (workshop_repo / "app" / "main.py").write_text("my edit\n")

    # A process of its own: the encoding of stdout is set when Python starts.
    done = subprocess.run(
        [sys.executable, "-m", "workshop", "goto", "2"], cwd=workshop_repo,
        env={**os.environ, "PYTHONIOENCODING": "ascii"}, capture_output=True,
    )  # fmt: skip
    code, out, err = done.returncode, done.stdout.decode(), done.stderr.decode()

    assert (code, err) == (0, "")
    assert "app/ is now Step 2 ? Async tasks (checkpoints/step-2/app)." in out
    step_2 = workshop_repo / "checkpoints" / "step-2" / "app"
    assert files(workshop_repo / "app") == files(step_2)


def test_workshop_on_another_file_system_than_app(
    workshop_repo, run_workshop, files, tmp_path
) -> None:
    elsewhere = Path("/dev/shm")
    if not elsewhere.is_dir() or elsewhere.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on a file system of its own")
    state = Path(
        subprocess.check_output(
            ["mktemp", "-d", "-p", str(elsewhere)], text=True
        ).strip()
    )
    try:
        (workshop_repo / ".workshop").symlink_to(state)
        (workshop_repo / "app" / "main.py").write_text("my edit\n")
        mine = files(workshop_repo / "app")

        code, out, err = run_workshop("goto", "2", cwd=workshop_repo)
        assert (code, err) == (0, "")
        step_2 = workshop_repo / "checkpoints" / "step-2" / "app"
        assert files(workshop_repo / "app") == files(step_2)
        assert list((workshop_repo / "app").glob(".workshop-goto-*")) == []

        name = BACKUP.search(out)[1]
        assert run_workshop("restore", name, cwd=workshop_repo).code == 0
        assert files(workshop_repo / "app") == mine
    finally:
        shutil.rmtree(state)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root")
def test_app_as_a_mount_of_its_own(workshop_repo, run_workshop, files) -> None:
    app = workshop_repo / "app"
    saved = files(app)
    if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(app)]).returncode:
        pytest.skip("cannot mount here")
    try:
        for name, data in saved.items():
            (app / name).write_bytes(data)
        (app / "main.py").write_text("my edit\n")

        code, _, err = run_workshop("goto", "2", cwd=workshop_repo)

        assert (code, err) == (0, "")
        step_2 = workshop_repo / "checkpoints" / "step-2" / "app"
        assert files(app) == files(step_2)
    finally:
        subprocess.run(["umount", str(app)], check=True)
