"""Tests of `workshop tags --release NAME`: NAME-step-N tags that never move."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from test_tags import AUDIT, PYCACHE, commit_all, make_remote, tag_ids

STEPS = (0, 1, 2)


def release_ids(root: Path, git, name: str = "v1") -> dict[str, str]:
    return {k: v for k, v in tag_ids(root, git).items() if k.startswith(f"{name}-")}


def test_release_tags_are_the_step_commits_under_a_release_name(
    workshop_repo, run_workshop, git
) -> None:
    """v1-step-N is the very commit `workshop tags` makes for step-N."""
    code, out, err = run_workshop("tags", "--release", "v1", cwd=workshop_repo)

    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "3 created."
    assert run_workshop("tags", cwd=workshop_repo).code == 0
    ids = tag_ids(workshop_repo, git)
    for n in STEPS:
        assert ids[f"v1-step-{n}"] == ids[f"step-{n}"]
    head = git(workshop_repo, "rev-parse", "HEAD").strip()
    assert git(workshop_repo, "rev-parse", "v1-step-0^").strip() == head


def test_a_release_built_twice_has_identical_ids_even_in_another_clone(
    workshop_repo, run_workshop, git, tmp_path
) -> None:
    assert run_workshop("tags", "--release", "v1", cwd=workshop_repo).code == 0
    first = release_ids(workshop_repo, git)
    code, out, _ = run_workshop("tags", "--release", "v1", cwd=workshop_repo)
    assert code == 0
    assert out.splitlines()[-1] == "3 unchanged."
    assert release_ids(workshop_repo, git) == first

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--no-tags", str(workshop_repo), str(clone))
    git(clone, "config", "user.name", "Someone Else")
    assert run_workshop("tags", "--release", "v1", cwd=clone).code == 0
    assert release_ids(clone, git) == first


def test_an_existing_release_tag_is_never_moved(
    workshop_repo, run_workshop, git
) -> None:
    assert run_workshop("tags", "--release", "v1", cwd=workshop_repo).code == 0
    before = tag_ids(workshop_repo, git)
    guide = workshop_repo / "checkpoints" / "step-1" / "README.md"
    guide.write_text(guide.read_text() + "\nA fix.\n")
    commit_all(workshop_repo, git, "Fix the step 1 guide")

    code, out, err = run_workshop("tags", "--release", "v1", cwd=workshop_repo)

    assert code == 2
    assert err.count("\n") == 1, err
    assert "release v1 exists: v1-step-0" in err
    assert "a release tag never moves: pick a new name" in err
    assert tag_ids(workshop_repo, git) == before
    # a new name works, and plain `workshop tags` leaves the release alone
    assert run_workshop("tags", "--release", "v2", cwd=workshop_repo).code == 0
    code, out, _ = run_workshop("tags", cwd=workshop_repo)
    assert code == 0
    assert "v1-" not in out
    assert release_ids(workshop_repo, git) == {
        k: v for k, v in before.items() if k.startswith("v1-")
    }


def test_a_release_tag_made_by_hand_is_not_replaced(
    workshop_repo, run_workshop, git
) -> None:
    git(workshop_repo, "tag", "v1-step-1")  # points at HEAD, not at the step commit
    code, _, err = run_workshop("tags", "--release", "v1", cwd=workshop_repo)
    assert code == 2
    assert "v1-step-1" in err
    assert sorted(tag_ids(workshop_repo, git)) == ["v1-step-1"]


def test_bad_release_names_are_one_clear_line(workshop_repo, run_workshop) -> None:
    for name in ("", "-x", "a..b", "v1/x", "x.lock", "v 1", "é"):
        code, _, err = run_workshop("tags", f"--release={name}", cwd=workshop_repo)
        assert code == 2, name
        assert err.startswith(f"workshop: invalid release name {name!r}"), err
        assert err.count("\n") == 1


def test_release_dry_run_writes_nothing(workshop_repo, run_workshop, git) -> None:
    code, out, _ = run_workshop(
        "tags", "--release", "v1", "--dry-run", cwd=workshop_repo
    )
    assert code == 0
    assert "v1-step-0" in out
    assert out.splitlines()[-1] == "dry run, no tag written: 3 created."
    assert tag_ids(workshop_repo, git) == {}


def test_release_push_creates_and_never_replaces_remote_tags(
    workshop_repo, run_workshop, git, tmp_path
) -> None:
    remote, log = make_remote(tmp_path, workshop_repo, git)

    code, out, err = run_workshop(
        "tags", "--release", "v1", "--push", "origin", cwd=workshop_repo
    )

    assert (code, err) == (0, "")
    assert "pushed to origin: v1-step-0, v1-step-1, v1-step-2" in out
    assert release_ids(remote, git) == release_ids(workshop_repo, git) != {}
    assert log.read_text().split() == [f"refs/tags/v1-step-{n}" for n in STEPS]
    log.unlink()
    assert (
        run_workshop(
            "tags", "--release", "v1", "--push", "origin", cwd=workshop_repo
        ).code
        == 0
    )
    assert not log.exists()  # nothing to send

    # someone pushed another v1-step-2 there: refused, nothing pushed
    git(workshop_repo, "push", "-q", "origin", "+HEAD:refs/tags/v1-step-2")
    there = release_ids(remote, git)
    log.unlink()
    code, _, err = run_workshop(
        "tags", "--release", "v1", "--push", "origin", cwd=workshop_repo
    )
    assert code == 2
    assert "release v1 exists on origin: v1-step-2 is" in err
    assert release_ids(remote, git) == there
    assert not log.exists()


def test_release_tags_need_the_standard_library_only(
    workshop_repo, git, tmp_path
) -> None:
    """The tags workflow runs `python3 -S -E -m workshop tags --release NAME
    --push origin` when a release is published: standard library only."""
    import workshop

    remote, _ = make_remote(tmp_path, workshop_repo, git)
    shutil.copytree(
        Path(workshop.__file__).parent, workshop_repo / "workshop", ignore=PYCACHE
    )
    audited = subprocess.run(
        [sys.executable, "-S", "-E", "-c", AUDIT, "tags", "--release", "v1.0",
         "--push", "origin"],
        cwd=workshop_repo,
        capture_output=True,
        text=True,
    )  # fmt: skip
    assert audited.returncode == 0, audited.stderr
    assert sorted(release_ids(remote, git, "v1.0")) == [f"v1.0-step-{n}" for n in STEPS]
    modules = {name.split(".")[0] for name in audited.stderr.split()}
    assert modules - set(sys.stdlib_module_names) == {"__main__", "workshop"}
