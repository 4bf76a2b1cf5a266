"""Tests of `workshop goto` and `workshop restore` on real temporary git repos."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support.repos import backup_refs

BACKUP = re.compile(r"workshop restore (\S+)")


def repo_state(root: Path, git) -> dict[str, str]:
    """What goto must never change: branch, HEAD, index, files outside app/."""
    outside = {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.relative_to(root).parts[0] not in ("app", ".git")
        and ".workshop" not in path.parts
    }  # fmt: skip
    return {
        "branch": git(root, "symbolic-ref", "HEAD"),
        "head": git(root, "rev-parse", "HEAD"),
        "index": git(root, "ls-files", "--stage"),
        "outside": repr(outside),
    }


def test_fixture_repo_is_clean_and_app_is_step_0(workshop_repo, git, files) -> None:
    assert git(workshop_repo, "status", "--porcelain") == ""
    step_0 = workshop_repo / "checkpoints" / "step-0" / "app"
    assert files(workshop_repo / "app") == files(step_0)


def test_goto_on_a_clean_app_replaces_it_and_saves_nothing(
    workshop_repo, run_workshop, git, files
) -> None:
    before = repo_state(workshop_repo, git)

    code, out, err = run_workshop("goto", "2", cwd=workshop_repo)

    assert (code, err) == (0, "")
    step_2 = workshop_repo / "checkpoints" / "step-2" / "app"
    assert files(workshop_repo / "app") == files(step_2)  # notes.txt removed
    assert "Saved" not in out
    assert "Step 2 — Async tasks" in out
    assert backup_refs(workshop_repo, git) == []
    assert repo_state(workshop_repo, git) == before


def test_goto_from_an_untouched_checkpoint_saves_nothing(
    workshop_repo, run_workshop, git, files
) -> None:
    assert run_workshop("goto", "1", cwd=workshop_repo).code == 0
    code, out, _ = run_workshop("goto", "step-2", cwd=workshop_repo)
    assert code == 0
    assert "Saved" not in out
    assert backup_refs(workshop_repo, git) == []

    code, out, _ = run_workshop("goto", "2", cwd=workshop_repo)
    assert code == 0
    assert "already equals step 2" in out


def test_goto_saves_tracked_untracked_and_staged_edits_and_restore_brings_them_back(
    workshop_repo, run_workshop, git, files
) -> None:
    app = workshop_repo / "app"
    (app / "main.py").write_text("STEP = 0  # my edit\n")  # tracked, modified
    (app / "mine.py").write_text("print('mine')\n")  # untracked
    (app / "notes.txt").write_text("staged note\n")
    git(workshop_repo, "add", "app/notes.txt")  # staged
    (app / "__init__.py").unlink()  # deleted
    (app / "__pycache__").mkdir()
    (app / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"ignored")
    (workshop_repo / "README.md").write_text("changed outside app/\n")
    (workshop_repo / "scratch.txt").write_text("untracked outside app/\n")
    git(workshop_repo, "add", "README.md")
    mine = files(app)
    before = repo_state(workshop_repo, git)

    code, out, err = run_workshop("goto", "1", cwd=workshop_repo)

    assert (code, err) == (0, "")
    assert files(app) == files(workshop_repo / "checkpoints" / "step-1" / "app")
    name = BACKUP.search(out).group(1)
    ref = f"refs/workshop/backup/{name}"
    assert f"git restore --source={ref} --worktree -- app" in out
    assert "staged changes under app/" in out
    assert backup_refs(workshop_repo, git) == [ref]
    assert git(workshop_repo, "rev-parse", f"{ref}^") == before["head"]
    # the index, branch and everything outside app/ are as they were
    assert repo_state(workshop_repo, git) == before
    # ignored files stay where they are
    assert (app / "__pycache__" / "main.cpython-311.pyc").read_bytes() == b"ignored"

    code, out, _ = run_workshop("restore", cwd=workshop_repo)
    assert code == 0
    assert name in out
    assert "before goto 1" in out
    assert "4 files" in out

    code, out, err = run_workshop("restore", name, cwd=workshop_repo)

    assert (code, err) == (0, "")
    assert files(app) == mine
    assert repo_state(workshop_repo, git) == before
    # app/ was an untouched checkpoint: nothing new needed saving
    assert backup_refs(workshop_repo, git) == [ref]


def test_the_printed_git_command_gets_the_saved_files_back(
    workshop_repo, run_workshop, git
) -> None:
    app = workshop_repo / "app"
    (app / "main.py").write_text("STEP = 0  # my edit\n")
    (app / "mine.py").write_text("print('mine')\n")
    out = run_workshop("goto", "2", cwd=workshop_repo).stdout
    command = re.search(r"or with git:\s+(git .*)", out).group(1)

    git(workshop_repo, *command.split()[1:])

    assert (app / "main.py").read_text() == "STEP = 0  # my edit\n"
    assert (app / "mine.py").read_text() == "print('mine')\n"


def test_restore_saves_the_current_edits_first(
    workshop_repo, run_workshop, git, files
) -> None:
    app = workshop_repo / "app"
    (app / "main.py").write_text("first edits\n")
    first_files = files(app)
    first = BACKUP.search(run_workshop("goto", "1", cwd=workshop_repo).stdout)[1]
    (app / "mailer.py").write_text("second edits\n")
    second_files = files(app)

    code, out, _ = run_workshop("restore", "--latest", cwd=workshop_repo)

    assert code == 0
    assert files(app) == first_files
    second = BACKUP.search(out)[1]
    assert second != first
    code, _, _ = run_workshop("restore", second, cwd=workshop_repo)
    assert code == 0
    assert files(app) == second_files
    # the restored states are known backups: no third save
    assert len(backup_refs(workshop_repo, git)) == 2


def test_an_ignored_file_in_the_way_of_a_new_file_is_saved_first(
    workshop_repo, run_workshop, git
) -> None:
    step_2 = workshop_repo / "checkpoints" / "step-2" / "app"
    (step_2 / "cache.pyc").write_text("the course's\n")
    git(workshop_repo, "add", "--force", "checkpoints")
    git(workshop_repo, "commit", "-q", "-m", "step 2 tracks an ignored name")
    mine = workshop_repo / "app" / "cache.pyc"
    mine.write_text("the learner's, ignored\n")

    code, out, _ = run_workshop("goto", "2", cwd=workshop_repo)

    assert code == 0
    assert mine.read_text() == "the course's\n"
    name = re.search(r"while goto 2 ran \(1 file: .*\) as (\S+)\.", out)[1]
    saved = git(workshop_repo, "show", f"refs/workshop/backup/{name}:app/cache.pyc")
    assert saved == "the learner's, ignored\n"


def test_goto_turns_a_file_into_a_folder_and_back(
    workshop_repo, run_workshop, git, files
) -> None:
    step_2 = workshop_repo / "checkpoints" / "step-2" / "app"
    (step_2 / "notes.txt").mkdir()
    (step_2 / "notes.txt" / "todo.md").write_text("a folder now\n")
    git(workshop_repo, "add", "--all")
    git(workshop_repo, "commit", "-q", "-m", "notes.txt is a folder in step 2")
    app = workshop_repo / "app"

    for step in ("2", "0", "2"):
        assert run_workshop("goto", step, cwd=workshop_repo).code == 0
        checkpoint = workshop_repo / "checkpoints" / f"step-{step}" / "app"
        assert files(app) == files(checkpoint)


def test_a_bad_checkpoint_leaves_app_as_it_was(
    workshop_repo, run_workshop, git, files
) -> None:
    app = workshop_repo / "app"
    (app / "main.py").write_text("my edit\n")
    (app / "mine.py").write_text("mine\n")
    mine = files(app)
    nested = workshop_repo / "checkpoints" / "step-2" / "app" / "nested"
    nested.mkdir()
    git(nested, "init", "-q")
    (nested / "x.py").write_text("x = 1\n")
    git(nested, "add", "x.py")
    git(nested, "commit", "-q", "-m", "nested")

    code, out, err = run_workshop("goto", "2", cwd=workshop_repo)

    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "nested git repository" in err
    assert files(app) == mine
    assert backup_refs(workshop_repo, git) == []
    assert list(workshop_repo.glob(".workshop/goto-*")) == []  # no staging left


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads unreadable files")
def test_an_unreadable_checkpoint_leaves_app_as_it_was(
    workshop_repo, run_workshop, git, files
) -> None:
    (workshop_repo / "app" / "main.py").write_text("my edit\n")
    mine = files(workshop_repo / "app")
    secret = workshop_repo / "checkpoints" / "step-1" / "app" / "main.py"
    secret.chmod(0)
    try:
        code, _, err = run_workshop("goto", "1", cwd=workshop_repo)
    finally:
        secret.chmod(0o644)

    assert code == 2
    assert err.count("\n") == 1
    assert files(workshop_repo / "app") == mine
    assert backup_refs(workshop_repo, git) == []


def test_unknown_step_names_the_valid_ones(workshop_repo, run_workshop, files) -> None:
    before = files(workshop_repo / "app")
    code, out, err = run_workshop("goto", "9", cwd=workshop_repo)
    assert (code, out) == (2, "")
    assert err == "workshop: unknown step '9': valid steps are 0, 1, 2\n"
    assert files(workshop_repo / "app") == before


def test_a_checkpoint_without_app_is_an_error(workshop_repo, run_workshop) -> None:
    (workshop_repo / "checkpoints" / "step-3").mkdir()
    (workshop_repo / "checkpoints" / "step-3" / "README.md").write_text("# Step 3\n")
    code, _, err = run_workshop("goto", "3", cwd=workshop_repo)
    assert code == 2
    assert err == "workshop: checkpoints/step-3/app/ is missing: step 3 has no app\n"


def test_goto_outside_a_git_checkout_says_so(tmp_path, run_workshop) -> None:
    code, _, err = run_workshop("goto", "1", cwd=tmp_path)
    assert code == 2
    assert "not inside the workshop" in err
    assert err.count("\n") == 1


def test_goto_without_git_says_so(workshop_repo, run_workshop, tmp_path) -> None:
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    code, _, err = run_workshop(
        "goto", "1", cwd=workshop_repo, env={"PATH": str(empty_bin)}
    )
    assert code == 2
    assert err == "workshop: git is not installed or not on PATH\n"


def test_restore_errors(workshop_repo, run_workshop) -> None:
    code, out, _ = run_workshop("restore", cwd=workshop_repo)
    assert code == 0
    assert "No saved work" in out

    code, _, err = run_workshop("restore", "--latest", cwd=workshop_repo)
    assert code == 2
    assert "there is no saved work" in err

    (workshop_repo / "app" / "main.py").write_text("edit\n")
    out = run_workshop("goto", "1", cwd=workshop_repo).stdout
    name = BACKUP.search(out)[1]

    code, _, err = run_workshop("restore", "nope", cwd=workshop_repo)
    assert code == 2
    assert err == f"workshop: no saved work named 'nope': saved are {name}\n"

    code, _, err = run_workshop("restore", name, "--latest", cwd=workshop_repo)
    assert code == 2
    assert "not both" in err


def test_goto_in_a_repo_without_commits_says_so(
    workshop_repo, run_workshop, tmp_path
) -> None:
    fresh = tmp_path / "fresh"
    subprocess.run(["git", "init", "-q", str(fresh)], check=True)
    (fresh / "checkpoints" / "step-0" / "app").mkdir(parents=True)
    (fresh / "checkpoints" / "step-0" / "app" / "main.py").write_text("x = 0\n")
    code, _, err = run_workshop("goto", "0", cwd=fresh)
    assert code == 2
    assert "no commit yet" in err


def test_goto_after_deleting_app_recreates_it_and_saves_nothing(
    workshop_repo, run_workshop, git, files
) -> None:
    shutil.rmtree(workshop_repo / "app")  # nothing of the learner's is lost
    code, out, _ = run_workshop("goto", "1", cwd=workshop_repo)
    assert code == 0
    assert "Saved" not in out
    assert backup_refs(workshop_repo, git) == []
    step_1 = workshop_repo / "checkpoints" / "step-1" / "app"
    assert files(workshop_repo / "app") == files(step_1)


def test_a_nested_repository_in_app_is_never_deleted(
    workshop_repo, run_workshop, git, files
) -> None:
    # A backup records a nested repository as a bare commit id, not its files:
    # moving it out of app/ would lose them, so goto and restore refuse.
    nested = workshop_repo / "app" / "vendor"
    nested.mkdir()
    git(nested, "init", "-q")
    (nested / "kept.py").write_text("committed = 1\n")
    git(nested, "add", "kept.py")
    git(nested, "commit", "-q", "-m", "vendor")
    (nested / "draft.py").write_text("uncommitted = 1\n")
    mine = files(workshop_repo / "app")

    code, out, err = run_workshop("goto", "2", cwd=workshop_repo)

    assert (code, out) == (2, "")
    assert err == (
        "workshop: app/vendor is a nested git repository: move it out of app/ "
        "first (goto and restore cannot save it)\n"
    )
    assert files(workshop_repo / "app") == mine
    assert backup_refs(workshop_repo, git) == []


def test_a_file_where_app_should_be_is_never_deleted(
    workshop_repo, run_workshop, git
) -> None:
    app = workshop_repo / "app"
    shutil.rmtree(app)
    app.write_text("my notes, in a file called app\n")

    code, out, err = run_workshop("goto", "1", cwd=workshop_repo)

    assert (code, out) == (2, "")
    assert err == (
        "workshop: app is a file, not a folder: rename or move it, then try again\n"
    )
    assert app.read_text() == "my notes, in a file called app\n"
    assert backup_refs(workshop_repo, git) == []
