"""Tests of `workshop diff N` on real temporary git repos."""

from __future__ import annotations

import shutil

ESC = "\x1b["


def test_diff_shows_the_step_change_with_app_paths(workshop_repo, run_workshop) -> None:
    code, out, err = run_workshop("diff", "2", cwd=workshop_repo)

    assert (code, err) == (0, "")
    assert "diff --git a/app/main.py b/app/main.py" in out
    assert "-STEP = 1\n+STEP = 2\n" in out
    assert "deleted file mode 100644" in out  # notes.txt
    assert "--- a/app/notes.txt\n+++ /dev/null" in out
    assert "mailer.py" not in out  # same in steps 1 and 2
    assert ESC not in out


def test_the_diff_applied_to_the_previous_checkpoint_gives_the_step(
    workshop_repo, run_workshop, git, files
) -> None:
    app = workshop_repo / "app"  # equals step 0
    for step in (1, 2):
        patch = run_workshop("diff", str(step), cwd=workshop_repo).stdout
        git(workshop_repo, "apply", input=patch)
        checkpoint = workshop_repo / "checkpoints" / f"step-{step}" / "app"
        assert files(app) == files(checkpoint)


def test_diff_stat_lists_the_changed_files(workshop_repo, run_workshop) -> None:
    code, out, _ = run_workshop("diff", "2", "--stat", cwd=workshop_repo)
    assert code == 0
    assert "app/main.py" in out
    assert "app/notes.txt" in out
    assert "2 files changed" in out
    assert "@@" not in out


def test_diff_reads_checkpoints_from_disk_without_ignored_files(
    workshop_repo, run_workshop
) -> None:
    step_1 = workshop_repo / "checkpoints" / "step-1" / "app"
    (step_1 / "__pycache__").mkdir()
    (step_1 / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0binary")
    (step_1 / "extra.py").write_text("not committed yet\n")

    out = run_workshop("diff", "1", cwd=workshop_repo).stdout

    assert "app/extra.py" in out
    assert "__pycache__" not in out


def test_diff_colour(workshop_repo, run_workshop) -> None:
    piped = run_workshop("diff", "1", cwd=workshop_repo, env={"NO_COLOR": None})
    assert ESC not in piped.stdout

    forced = run_workshop("diff", "1", "--color", cwd=workshop_repo)
    assert ESC in forced.stdout

    never = run_workshop(
        "diff", "1", "--color=never", cwd=workshop_repo, env={"FORCE_COLOR": "1"}
    )
    assert ESC not in never.stdout

    auto = run_workshop(
        "diff", "1", cwd=workshop_repo, env={"NO_COLOR": None, "FORCE_COLOR": "1"}
    )
    assert ESC in auto.stdout


def test_diff_of_step_0_is_a_clear_error(workshop_repo, run_workshop) -> None:
    code, out, err = run_workshop("diff", "0", cwd=workshop_repo)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "step 0 is the first step: it has no previous step" in err
    assert "workshop diff 1" in err


def test_diff_help_says_step_0_has_no_previous_step(
    workshop_repo, run_workshop
) -> None:
    out = run_workshop("diff", "--help", cwd=workshop_repo).stdout
    assert "step 0 has no previous step" in " ".join(out.split())


def test_diff_unknown_step_names_the_valid_ones(workshop_repo, run_workshop) -> None:
    code, _, err = run_workshop("diff", "7", cwd=workshop_repo)
    assert code == 2
    assert err == "workshop: unknown step '7': valid steps are 0, 1, 2\n"


def test_diff_outside_a_workshop_checkout(tmp_path, run_workshop, git) -> None:
    code, _, err = run_workshop("diff", "1", cwd=tmp_path)
    assert code == 2
    assert "not inside the workshop" in err

    git(tmp_path, "init", "-q")
    code, _, err = run_workshop("diff", "1", cwd=tmp_path)
    assert code == 2
    assert "not inside the workshop: no checkpoints/ folder" in err


def test_diff_with_a_checkpoint_without_app_says_so(
    workshop_repo, run_workshop
) -> None:
    # Not a diff that deletes (or adds) every file: one clear line.
    shutil.rmtree(workshop_repo / "checkpoints" / "step-1" / "app")
    for step in ("1", "2"):
        code, out, err = run_workshop("diff", step, cwd=workshop_repo)
        assert (code, out) == (2, "")
        assert (
            err == "workshop: checkpoints/step-1/app/ is missing: step 1 has no app\n"
        )


def test_the_diff_applies_whatever_the_users_git_config_says(
    workshop_repo, run_workshop, git, files
) -> None:
    """`diff.noprefix`, `diff.mnemonicPrefix` in the user's config must not
    change the patch: `workshop diff 1 | git apply` still works."""
    git(workshop_repo, "config", "diff.noprefix", "true")
    git(workshop_repo, "config", "diff.mnemonicPrefix", "true")
    patch = run_workshop("diff", "1", cwd=workshop_repo).stdout
    assert "--- a/app/main.py" in patch and "+++ b/app/main.py" in patch
    git(workshop_repo, "config", "--unset", "diff.noprefix")
    git(workshop_repo, "apply", input=patch)
    checkpoint = workshop_repo / "checkpoints" / "step-1" / "app"
    assert files(workshop_repo / "app") == files(checkpoint)
