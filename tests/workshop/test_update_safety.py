"""`workshop update --apply` is as safe as `goto` (issue 21): one finding a test.

The copies are clones of the fake course of test_update.py; the course then
changes, and the update meets what a learner has (ignored files, folders of
data, files of their own), a signal in the middle, a second update, an undo.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import test_update
from test_update import clone, commit_all, course_changes, tag_ids

ROOT = Path(__file__).resolve().parents[2]
course = test_update.course  # the fixture: the fake course, its tags built


def exclude(copy: Path, pattern: str) -> None:
    """Ignored by the learner's own rule (no course file changes)."""
    with (copy / ".git" / "info" / "exclude").open("a") as rules:
        rules.write(pattern + "\n")


def course_adds(course: Path, git, files: dict[str, str]) -> None:
    for name, text in files.items():
        (course / name).parent.mkdir(parents=True, exist_ok=True)
        (course / name).write_text(text)
    commit_all(course, git, "Course: new files")


def test_an_ignored_file_where_the_course_adds_one_is_kept_and_listed(
    course, git, run_workshop, tmp_path
) -> None:
    copy = clone(course, tmp_path / "copy", git)
    exclude(copy, ".vscode/")
    (copy / ".vscode").mkdir()
    (copy / ".vscode" / "settings.json").write_text('{"mine": true}\n')
    course_adds(course, git, {".vscode/settings.json": '{"course": true}\n'})

    code, out, err = run_workshop("update", "--apply", cwd=copy)

    assert (code, err) == (0, ""), out + err
    assert (copy / ".vscode" / "settings.json").read_text() == '{"mine": true}\n'
    assert "kept yours" in out and ".vscode/settings.json" in out


def test_a_folder_of_ignored_data_where_the_course_adds_a_file_is_kept(
    course, git, run_workshop, tmp_path
) -> None:
    copy = clone(course, tmp_path / "copy", git)
    exclude(copy, "*.db")
    (copy / "notes").mkdir()
    (copy / "notes" / "data.db").write_bytes(b"my data")
    course_adds(course, git, {"notes": "the course's notes\n"})

    code, out, err = run_workshop("update", "--apply", cwd=copy)

    assert (code, err) == (0, ""), out + err
    assert (copy / "notes" / "data.db").read_bytes() == b"my data"
    assert "a folder of yours is there" in out


def test_a_committed_file_where_the_course_adds_a_folder_is_kept_and_listed(
    course, git, run_workshop, tmp_path
) -> None:
    copy = clone(course, tmp_path / "copy", git)
    (copy / "extras").write_text("my extras\n")
    commit_all(copy, git, "My extras")
    course_adds(course, git, {"extras/README.md": "course extras\n"})

    code, out, err = run_workshop("update", "--apply", cwd=copy)

    assert (code, err) == (0, ""), out + err
    assert (copy / "extras").read_text() == "my extras\n"
    assert git(copy, "show", "HEAD:extras") == "my extras\n"
    assert "your file extras is where the course has a folder" in out


# Runs `workshop update --apply` and signals itself just after the working
# tree moved and before the branch did: the window of the finding.
INTERRUPTED = """
import os, signal, sys
from pathlib import Path
from workshop import git
from workshop.commands.update import update
real = git.run
def run(root, *args, **kw):
    out = real(root, *args, **kw)
    if args[:1] == ("read-tree",) and "-u" in args:
        os.kill(os.getpid(), getattr(signal, sys.argv[1]))
    return out
git.run = run
update(Path.cwd(), apply=True)
"""


def interrupt(copy: Path, signum: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", INTERRUPTED, signum], cwd=copy, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_sigterm_in_the_middle_waits_until_branch_and_tree_agree(
    course, git, tmp_path
) -> None:
    copy = clone(course, tmp_path / "copy", git)
    course_changes(course, git)
    head = git(copy, "rev-parse", "HEAD").strip()

    done = interrupt(copy, "SIGTERM")

    assert done.returncode == -signal.SIGTERM
    assert git(copy, "rev-parse", "HEAD~1").strip() == head  # the commit is made
    assert git(copy, "status", "--porcelain") == ""  # and the tree agrees
    assert f"undo: git reset --keep {head[:12]}" in done.stdout  # and said so
    new = git(copy, "rev-parse", "HEAD").strip()
    assert git(copy, "rev-parse", "step-2:checkpoints") == git(
        copy, "rev-parse", f"{new}:checkpoints"
    )  # the tags follow the update


def test_a_kill_in_the_middle_is_finished_by_the_next_update(
    course, git, run_workshop, tmp_path
) -> None:
    copy = clone(course, tmp_path / "copy", git)
    course_changes(course, git)
    head = git(copy, "rev-parse", "HEAD").strip()

    done = interrupt(copy, "SIGKILL")
    assert done.returncode == -signal.SIGKILL
    assert git(copy, "rev-parse", "HEAD").strip() == head  # half done

    code, out, err = run_workshop("update", "--apply", cwd=copy)

    assert (code, err) == (0, ""), out + err
    assert "Finished the update that was interrupted" in out
    assert git(copy, "rev-parse", "HEAD~1").strip() == head
    assert git(copy, "status", "--porcelain") == ""
    assert "Up to date with the course" in out
    assert git(copy, "rev-parse", "step-2:checkpoints") == git(
        copy, "rev-parse", "HEAD:checkpoints"
    )  # the tags follow the finished update


def test_a_second_update_at_once_refuses_in_one_line_and_writes_nothing(
    course, git, run_workshop, tmp_path
) -> None:
    from workshop import lock

    copy = clone(course, tmp_path / "copy", git)
    course_changes(course, git)
    head = git(copy, "rev-parse", "HEAD")
    (copy / ".workshop").mkdir(exist_ok=True)

    with lock.held(copy / ".workshop", "update"):
        code, _, err = run_workshop("update", "--apply", cwd=copy)

    assert code != 0
    assert err.startswith("workshop: another 'workshop update' is running (pid ")
    assert len(err.strip().splitlines()) == 1
    assert git(copy, "rev-parse", "HEAD") == head
    assert git(copy, "status", "--porcelain") == ""


def test_the_undo_line_puts_the_tags_back_too(
    course, git, run_workshop, tmp_path
) -> None:
    copy = clone(course, tmp_path / "copy", git)
    course_changes(course, git)
    head, tags = git(copy, "rev-parse", "HEAD"), tag_ids(copy, git)

    code, out, err = run_workshop("update", "--apply", cwd=copy)
    assert (code, err) == (0, ""), out + err
    assert tag_ids(copy, git) != tags

    [undo] = [
        line.split("undo: ", 1)[1] for line in out.splitlines() if "undo: " in line
    ]
    subprocess.run(undo, shell=True, cwd=copy, check=True, capture_output=True)

    assert git(copy, "rev-parse", "HEAD") == head
    assert tag_ids(copy, git) == tags
