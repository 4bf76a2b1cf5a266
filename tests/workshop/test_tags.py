"""Tests of `workshop tags` on real temporary git repos (and a bare remote)."""

from __future__ import annotations

import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from support.repos import commit_all, tag_ids

STEPS = (0, 1, 2)
PYCACHE = shutil.ignore_patterns("__pycache__")
# `python -m workshop ARGS`, and at exit every module it loaded, on stderr.
AUDIT = (
    "import atexit, runpy, sys\n"
    "atexit.register(lambda: print(*sorted(sys.modules), file=sys.stderr))\n"
    "runpy.run_module('workshop', run_name='__main__', alter_sys=True)\n"
)


def untouched(root: Path, git) -> tuple[str, ...]:
    """Branch, HEAD, index and working tree status: what tags must never change."""
    return (
        git(root, "symbolic-ref", "HEAD"),
        git(root, "rev-parse", "HEAD"),
        git(root, "ls-files", "--stage"),
        git(root, "status", "--porcelain", "--untracked-files=all"),
        (root / "app" / "main.py").read_text(),
    )


def test_tags_are_head_with_app_replaced_and_chained(
    workshop_repo, run_workshop, git
) -> None:
    (workshop_repo / "app" / "main.py").write_text("learner edit, not tagged\n")
    (workshop_repo / "scratch.txt").write_text("untracked\n")
    before = untouched(workshop_repo, git)

    code, out, err = run_workshop("tags", cwd=workshop_repo)

    assert (code, err) == (0, "")
    assert out.count("created") == 4  # three tags and the summary
    assert out.splitlines()[-1] == "3 created."
    assert untouched(workshop_repo, git) == before
    head = git(workshop_repo, "rev-parse", "HEAD").strip()
    parent = head
    for n in STEPS:
        tag = f"step-{n}"
        assert git(workshop_repo, "rev-parse", f"{tag}^").strip() == parent
        parent = git(workshop_repo, "rev-parse", tag).strip()
        checkpoint = git(workshop_repo, "rev-parse", f"HEAD:checkpoints/{tag}/app")
        assert git(workshop_repo, "rev-parse", f"{tag}:app") == checkpoint
        # everything but app/ is HEAD's tree
        assert (
            git(workshop_repo, "diff", "--name-only", "HEAD", tag, "--", ":!app") == ""
        )
        assert git(workshop_repo, "cat-file", "-t", tag) == "commit\n"  # lightweight
    log = git(workshop_repo, "log", "-1", "--format=%an <%ae>|%ad|%cd|%s", "step-1")
    head_date = git(workshop_repo, "log", "-1", "--format=%cd", "HEAD").strip()
    assert log.strip() == (
        f"Workshop Tags <tags@workshop.invalid>|{head_date}|{head_date}|"
        "Step 1 — Respond first"
    )
    assert git(workshop_repo, "diff", "--name-only", "step-1", "step-2") == (
        "app/main.py\napp/notes.txt\n"
    )


def test_building_twice_gives_identical_ids_and_changes_nothing(
    workshop_repo, run_workshop, git
) -> None:
    assert run_workshop("tags", cwd=workshop_repo).code == 0
    first = tag_ids(workshop_repo, git)

    code, out, _ = run_workshop("tags", cwd=workshop_repo)

    assert code == 0
    assert tag_ids(workshop_repo, git) == first
    assert out.count("unchanged") == 4
    assert "created" not in out
    assert "moved" not in out


def test_a_clone_without_tags_builds_the_same_tags_and_checkout_works(
    workshop_repo, run_workshop, git, files, tmp_path
) -> None:
    assert run_workshop("tags", cwd=workshop_repo).code == 0
    original = tag_ids(workshop_repo, git)
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--no-tags", str(workshop_repo), str(clone))
    assert tag_ids(clone, git) == {}
    # a different user at a different time still gets the same ids
    git(clone, "config", "user.name", "Someone Else")

    code, out, _ = run_workshop("tags", cwd=clone)

    assert code == 0
    assert out.splitlines()[-1] == "3 created."
    assert tag_ids(clone, git) == original
    git(clone, "checkout", "-q", "step-2")
    assert files(clone / "app") == files(clone / "checkpoints" / "step-2" / "app")
    assert git(clone, "status", "--porcelain") == ""


def test_a_checkpoint_edit_changes_only_that_step_app(
    workshop_repo, run_workshop, git
) -> None:
    assert run_workshop("tags", cwd=workshop_repo).code == 0
    old = tag_ids(workshop_repo, git)
    main = workshop_repo / "checkpoints" / "step-1" / "app" / "main.py"
    main.write_text(main.read_text() + "# clearer\n")
    commit_all(workshop_repo, git, "Clearer step 1")

    code, out, _ = run_workshop("tags", cwd=workshop_repo)

    assert code == 0
    # Every tag moves: the chain starts at the new HEAD (see the design) ...
    assert out.splitlines()[-1] == "3 moved."
    new = tag_ids(workshop_repo, git)
    # ... but only step 1's app/ differs, and step 2 shows step 2's change only.
    for n in STEPS:
        changed = git(
            workshop_repo,
            "diff",
            "--name-only",
            old[f"step-{n}"],
            new[f"step-{n}"],
            "--",
            "app",
        )
        assert changed == ("app/main.py\n" if n == 1 else "")
    assert "+# clearer" in git(workshop_repo, "diff", "step-0", "step-1")
    assert "# clearer" in git(workshop_repo, "diff", "step-1", "step-2")


def test_tags_that_are_not_generated_step_tags_are_kept(
    workshop_repo, run_workshop, git
) -> None:
    git(workshop_repo, "tag", "v1.0")
    git(workshop_repo, "tag", "step-one")  # not a step tag
    git(workshop_repo, "tag", "step-7")  # a step tag, but the user's own
    code, out, _ = run_workshop("tags", cwd=workshop_repo)
    assert code == 0
    assert "step-7 is not a generated tag: left alone" in lines(out)
    assert out.splitlines()[-1] == "3 created, 1 left alone."
    assert sorted(tag_ids(workshop_repo, git)) == [
        "step-0",
        "step-1",
        "step-2",
        "step-7",
        "step-one",
        "v1.0",
    ]


def test_dry_run_writes_no_tag(workshop_repo, run_workshop, git) -> None:
    code, out, _ = run_workshop("tags", "--dry-run", cwd=workshop_repo)
    assert code == 0
    assert out.count("would be created") == 3
    assert out.splitlines()[-1] == "dry run, no tag written: 3 created."
    assert tag_ids(workshop_repo, git) == {}


def test_uncommitted_checkpoint_changes_are_refused(
    workshop_repo, run_workshop, git
) -> None:
    (workshop_repo / "app" / "main.py").write_text("app/ edits do not matter\n")
    (workshop_repo / "checkpoints" / "step-1" / "app" / "new.py").write_text("x\n")

    code, out, err = run_workshop("tags", cwd=workshop_repo)

    assert (code, out) == (2, "")
    assert err == (
        "workshop: checkpoints/ has 1 uncommitted change: tags are built from "
        "HEAD, so commit (or undo) them first\n"
    )
    assert tag_ids(workshop_repo, git) == {}

    (workshop_repo / "checkpoints" / "step-1" / "app" / "new.py").unlink()
    (workshop_repo / "checkpoints" / "step-2" / "README.md").write_text("# edited\n")
    git(workshop_repo, "add", "checkpoints")  # staged is not committed
    code, _, err = run_workshop("tags", cwd=workshop_repo)
    assert code == 2
    assert "uncommitted change" in err


def test_on_a_step_tag_checkout_tags_refuses(workshop_repo, run_workshop, git) -> None:
    assert run_workshop("tags", cwd=workshop_repo).code == 0
    git(workshop_repo, "checkout", "-q", "step-1")
    code, _, err = run_workshop("tags", cwd=workshop_repo)
    assert code == 2
    assert "HEAD is a generated step tag" in err


def make_remote(tmp_path: Path, workshop_repo: Path, git) -> tuple[Path, Path]:
    """A bare remote whose update hook logs every ref a push changes."""
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    log = tmp_path / "pushed.log"
    hook = remote / "hooks" / "update"
    hook.write_text(f'#!/bin/sh\necho "$1" >> "{log}"\n')
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    git(workshop_repo, "remote", "add", "origin", str(remote))
    return remote, log


def test_push_sends_only_tags_that_differ(
    workshop_repo, run_workshop, git, tmp_path
) -> None:
    remote, log = make_remote(tmp_path, workshop_repo, git)

    code, out, err = run_workshop("tags", "--push", "origin", cwd=workshop_repo)

    assert (code, err) == (0, ""), err
    assert tag_ids(remote, git) == tag_ids(workshop_repo, git)
    assert log.read_text().split() == [f"refs/tags/step-{n}" for n in STEPS]

    # step-2 is wrong on the remote, the rest is right
    git(workshop_repo, "push", "-q", "origin", "+HEAD:refs/tags/step-2")
    log.unlink()
    code, out, _ = run_workshop("tags", "--push", "origin", cwd=workshop_repo)

    assert code == 0
    assert log.read_text().split() == ["refs/tags/step-2"]
    assert "moved (forced)" in out
    assert tag_ids(remote, git) == tag_ids(workshop_repo, git)

    log.unlink()
    code, out, _ = run_workshop("tags", "--push", "origin", cwd=workshop_repo)
    assert code == 0
    assert "origin: every step tag is up to date." in out
    assert not log.exists()


def test_push_dry_run_pushes_nothing(
    workshop_repo, run_workshop, git, tmp_path
) -> None:
    remote, log = make_remote(tmp_path, workshop_repo, git)
    code, out, _ = run_workshop(
        "tags", "--push", "origin", "--dry-run", cwd=workshop_repo
    )
    assert code == 0
    assert "would push to origin" in out
    assert tag_ids(remote, git) == {}
    assert not log.exists()


def test_push_to_an_unknown_remote_is_one_clear_error(
    workshop_repo, run_workshop
) -> None:
    code, _, err = run_workshop("tags", "--push", "nowhere", cwd=workshop_repo)
    assert code == 2
    assert err.startswith("workshop: git ls-remote failed:")
    assert err.count("\n") == 1


def test_tags_errors_outside_a_checkout_and_without_git(
    tmp_path, run_workshop, workshop_repo
) -> None:
    code, _, err = run_workshop("tags", cwd=tmp_path)
    assert code == 2
    assert "not inside the workshop" in err

    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    code, _, err = run_workshop("tags", cwd=workshop_repo, env={"PATH": str(empty_bin)})
    assert (code, err) == (2, "workshop: git is not installed or not on PATH\n")


def test_tags_without_checkpoints_in_head(tmp_path, run_workshop, git) -> None:
    root = tmp_path / "r"
    (root / "checkpoints").mkdir(parents=True)
    (root / "README.md").write_text("x\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    commit_all(root, git, "no checkpoints")
    code, _, err = run_workshop("tags", cwd=root)
    assert code == 2
    assert "HEAD has no checkpoints/step-N/app/ folders to tag" in err


def test_a_guide_that_is_not_utf8_still_gets_its_tag(
    workshop_repo, run_workshop, git
) -> None:
    guide = workshop_repo / "checkpoints" / "step-1" / "README.md"
    guide.write_bytes(guide.read_bytes().replace(b"Respond first", b"Caf\xe9", 1))
    commit_all(workshop_repo, git, "a Latin-1 guide")

    code, out, err = run_workshop("tags", cwd=workshop_repo)

    assert (code, err) == (0, ""), err
    assert "3 created." in out
    subjects = [
        git(workshop_repo, "log", "-1", "--format=%s", f"step-{n}") for n in STEPS
    ]
    assert subjects == [
        "Step 0 — The starting point\n",
        "Step 1 — Caf\ufffd\n",
        "Step 2 — Async tasks\n",
    ]


# --- issue 12: only the tool's own tags are touched, and every change can be undone


def lines(out: str) -> list[str]:
    """The output's lines with runs of spaces made one (columns are padded)."""
    return [" ".join(line.split()) for line in out.splitlines()]


def add_checkpoint(root: Path, git, number: int) -> None:
    """Commit a checkpoint step-`number` (a copy of step 2's app and guide)."""
    source = root / "checkpoints" / "step-2"
    target = root / "checkpoints" / f"step-{number}"
    for path in source.rglob("*"):
        if path.is_file():
            copy = target / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            copy.write_bytes(path.read_bytes())
    commit_all(root, git, f"add step {number}")


def remove_checkpoint(root: Path, git, number: int) -> None:
    git(root, "rm", "-r", "-q", f"checkpoints/step-{number}")
    git(root, "commit", "-q", "-m", f"remove step {number}")


def test_step_tags_with_leading_zeros_are_not_ours(
    workshop_repo, run_workshop, git, tmp_path
) -> None:
    """step-03 is not step-3: it neither blocks the build nor gets pushed or deleted."""
    remote, log = make_remote(tmp_path, workshop_repo, git)
    git(workshop_repo, "tag", "step-01")
    git(workshop_repo, "tag", "-a", "-m", "a user's own", "step-002")
    git(workshop_repo, "push", "-q", "origin", "HEAD:refs/tags/step-09")
    log.unlink()
    theirs = tag_ids(remote, git)

    code, out, err = run_workshop("tags", "--push", "origin", cwd=workshop_repo)

    assert (code, err) == (0, ""), err
    assert lines(out)[3] == "3 created."
    assert not re.search(r"step-0\d|step-9", out)
    assert log.read_text().split() == [f"refs/tags/step-{n}" for n in STEPS]
    assert {
        t: i for t, i in tag_ids(remote, git).items() if re.fullmatch(r"step-0\d+", t)
    } == theirs
    assert {"step-01", "step-002"} <= set(tag_ids(workshop_repo, git))

    log.unlink()
    code, out, _ = run_workshop("tags", "--push", "origin", cwd=workshop_repo)
    assert code == 0
    assert "origin: every step tag is up to date." in out
    assert not log.exists()


def test_a_users_step_tag_without_checkpoint_is_left_alone(
    workshop_repo, run_workshop, git, tmp_path
) -> None:
    """A step-N the tool did not make (no checkpoint N) is kept here and there."""
    remote, log = make_remote(tmp_path, workshop_repo, git)
    assert run_workshop("tags", cwd=workshop_repo).code == 0
    git(workshop_repo, "tag", "step-8")  # the user's own, on their commit
    git(workshop_repo, "tag", "step-5", "step-1")  # a generated commit, renamed
    git(workshop_repo, "tag", "-a", "-m", "mine", "step-7", "step-2")
    git(workshop_repo, "push", "-q", "origin", "step-8", "step-5", "step-7")
    log.unlink()
    mine = {n: i for n, i in tag_ids(workshop_repo, git).items() if n[-1] in "578"}

    code, out, err = run_workshop("tags", "--push", "origin", cwd=workshop_repo)

    assert (code, err) == (0, ""), err
    for name in ("step-5", "step-7", "step-8"):
        assert lines(out).count(f"{name} is not a generated tag: left alone") == 1
        assert tag_ids(workshop_repo, git)[name] == mine[name]
        assert tag_ids(remote, git)[name] == mine[name]
    assert "deleted" not in out
    assert log.read_text().split() == [f"refs/tags/step-{n}" for n in STEPS]


def test_every_moved_tag_shows_its_old_id_and_how_to_restore_it(
    workshop_repo, run_workshop, git, tmp_path
) -> None:
    """An annotated step-1 is replaced (the name is the tool's), never lost."""
    remote, _ = make_remote(tmp_path, workshop_repo, git)
    git(workshop_repo, "tag", "-a", "-m", "my notes", "step-1")
    git(workshop_repo, "push", "-q", "origin", "step-1")
    old = tag_ids(workshop_repo, git)["step-1"]

    code, out, err = run_workshop("tags", "--push", "origin", cwd=workshop_repo)

    assert (code, err) == (0, ""), err
    new = tag_ids(workshop_repo, git)["step-1"]
    assert (
        f"step-1 moved {old[:12]} -> {new[:12]}; restore: git tag -f step-1 {old}"
        in (lines(out))
    )
    assert (
        f"step-1 moved (forced) {old[:12]} -> {new[:12]}; "
        f"restore: git push origin +{old}:refs/tags/step-1"
    ) in lines(out)
    assert tag_ids(remote, git)["step-1"] == new
    git(workshop_repo, "tag", "-f", "step-1", old)  # the printed restore works
    assert git(workshop_repo, "tag", "-l", "--format=%(contents)", "step-1") == (
        "my notes\n\n"
    )


def test_a_stale_generated_tag_is_deleted_here_and_there_with_its_restore(
    workshop_repo, run_workshop, git, tmp_path
) -> None:
    """A tag the tool made for a checkpoint that is gone is deleted, even on a
    remote whose tag this clone has never seen, and the old id is printed."""
    remote, log = make_remote(tmp_path, workshop_repo, git)
    add_checkpoint(workshop_repo, git, 3)
    assert run_workshop("tags", "--push", "origin", cwd=workshop_repo).code == 0
    old = tag_ids(workshop_repo, git)["step-3"]
    remove_checkpoint(workshop_repo, git, 3)

    code, out, _ = run_workshop("tags", cwd=workshop_repo)

    assert code == 0
    assert (
        f"step-3 deleted {old[:12]} (its checkpoint no longer exists); "
        f"restore: git tag step-3 {old}"
    ) in lines(out)
    assert "step-3" not in tag_ids(workshop_repo, git)

    clone = tmp_path / "clone"  # has neither the tag nor its commit
    git(tmp_path, "clone", "-q", "--no-tags", str(workshop_repo), str(clone))
    git(clone, "remote", "set-url", "origin", str(remote))
    log.unlink()
    code, out, err = run_workshop("tags", "--push", "origin", cwd=clone)

    assert (code, err) == (0, ""), err
    assert (
        f"step-3 deleted {old[:12]} (its checkpoint no longer exists); "
        f"restore: git push origin {old}:refs/tags/step-3"
    ) in lines(out)
    assert "step-3" not in tag_ids(remote, git)
    assert "refs/tags/step-3" in log.read_text().split()


def test_a_push_from_a_shallow_clone_says_why_and_what_to_do(
    workshop_repo, run_workshop, git, tmp_path
) -> None:
    """The error names git's cause, not "failed to push some refs", and the fix."""
    (workshop_repo / "README.md").write_text("# second commit\n")
    commit_all(workshop_repo, git, "second")
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth=1", workshop_repo.as_uri(), str(shallow))
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "target.git"))
    git(shallow, "remote", "add", "target", str(tmp_path / "target.git"))

    code, _, err = run_workshop("tags", "--push", "target", cwd=shallow)

    assert code == 2
    assert err.count("\n") == 1, err
    assert err.startswith("workshop: git push failed: ")
    assert "(shallow update not allowed)" in err
    assert "this clone is shallow: run git fetch --unshallow, then again" in err


def test_tags_needs_the_standard_library_only(
    workshop_repo, run_workshop, git, tmp_path
) -> None:
    """The publishing job runs `python3 -S -E -m workshop tags --push origin` in
    the checkout: no site-packages, only the standard library and workshop/ from
    the current directory, and that is all `workshop tags` imports."""
    import workshop

    remote, _ = make_remote(tmp_path, workshop_repo, git)
    shutil.copytree(
        Path(workshop.__file__).parent, workshop_repo / "workshop", ignore=PYCACHE
    )
    assert git(workshop_repo, "status", "--porcelain") == "?? workshop/\n"
    bare = [sys.executable, "-S", "-E"]

    pushed = subprocess.run(
        [*bare, "-m", "workshop", "tags", "--push", "origin"],
        cwd=workshop_repo,
        capture_output=True,
        text=True,
    )
    audited = subprocess.run(  # the same again, listing the modules it loaded
        [*bare, "-c", AUDIT, "tags", "--push", "origin"],
        cwd=workshop_repo,
        capture_output=True,
        text=True,
    )

    assert (pushed.returncode, pushed.stderr) == (0, "")
    assert "pushed to origin:" in pushed.stdout
    assert tag_ids(remote, git) == tag_ids(workshop_repo, git) != {}
    assert audited.returncode == 0, audited.stderr
    assert "origin: every step tag is up to date." in audited.stdout
    modules = {name.split(".")[0] for name in audited.stderr.split()}
    assert "workshop" in modules
    assert modules - set(sys.stdlib_module_names) == {"__main__", "workshop"}
