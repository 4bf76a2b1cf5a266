"""`workshop update`: a learner's copy (a clone, or a "Use this template" copy
with unrelated history) takes the course's changes and keeps its own."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from support.repos import commit_all, tag_ids

WORKFLOW = "name: ci\non: push\njobs: {}\n"
GUIDE_1 = Path("checkpoints/step-1/README.md")


@pytest.fixture
def course(workshop_repo: Path, git, run_workshop) -> Path:
    """The fake course, with a workflow, its source recorded, and its tags."""
    workflows = workshop_repo / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(WORKFLOW)
    (workshop_repo / "pyproject.toml").write_text(
        f'[project]\nname = "course"\nversion = "1.0"\n\n'
        f"[tool.workshop]\nsource = {str(workshop_repo)!r}\n"
    )
    commit_all(workshop_repo, git, "Course: workflow and source")
    assert run_workshop("tags", cwd=workshop_repo).code == 0
    return workshop_repo


def template_copy(course: Path, dest: Path, git) -> Path:
    """What "Use this template" makes: the same files, one unrelated commit."""
    shutil.copytree(course, dest, ignore=shutil.ignore_patterns(".git"))
    git(dest, "init", "-q", "--initial-branch=main")
    git(dest, "add", "--all")
    git(dest, "commit", "-q", "-m", "Initial commit", "--date=2020-01-01T00:00:00")
    return dest


def clone(course: Path, dest: Path, git) -> Path:
    git(dest.parent, "clone", "-q", str(course), str(dest))
    return dest


def learner_works(copy: Path, git) -> None:
    """Work in app/ (committed, staged, untracked), a note in a guide, a file
    of their own."""
    main = copy / "app" / "main.py"
    main.write_text(main.read_text().replace("STEP = 0", "STEP = 1"))
    guide = copy / GUIDE_1
    guide.write_text(guide.read_text().replace("Some theory.", "Some theory. MY NOTE"))
    (copy / "notes.md").write_text("mine\n")
    commit_all(copy, git, "My work")
    (copy / "app" / "mailer.py").write_text("def send(to):\n    return to\n")
    git(copy, "add", "app/mailer.py")  # staged, not committed
    (copy / "app" / "scratch.py").write_text("# untracked\n")


def course_changes(course: Path, git) -> None:
    """A guide, a checkpoint and a workflow change in the course."""
    guide = course / GUIDE_1
    guide.write_text(guide.read_text().replace("Reach step 1.", "Reach step 1 FAST."))
    main = course / "checkpoints" / "step-2" / "app" / "main.py"
    main.write_text(main.read_text() + "# CLEARER\n")
    (course / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW + "# NEW\n")
    commit_all(course, git, "Course: clearer step 1 and 2, new workflow")


def app_state(copy: Path, git) -> tuple:
    files = {p.name: p.read_text() for p in sorted((copy / "app").iterdir())}
    return files, git(copy, "diff", "--cached", "--name-only")


@pytest.mark.parametrize("make", [template_copy, clone], ids=["template", "clone"])
def test_update_brings_the_course_in_and_keeps_the_learners_work(
    course, make, git, run_workshop, tmp_path
) -> None:
    copy = make(course, tmp_path / "copy", git)
    learner_works(copy, git)
    course_changes(course, git)
    before_app, head = app_state(copy, git), git(copy, "rev-parse", "HEAD")

    code, out, err = run_workshop("update", cwd=copy)  # a dry run

    assert (code, err) == (0, ""), out + err
    assert "step 1's guide changed" in out
    assert "step 2's checkpoint changed" in out
    assert "also: .github/workflows/ci.yml" in out
    assert re.search(r"merged with yours +checkpoints/step-1/README.md", out)
    assert re.search(r"from the course +checkpoints/step-2/app/main.py", out)
    assert "needs a token with the 'workflow' scope" in out
    assert "Dry run: nothing was written" in out
    assert git(copy, "rev-parse", "HEAD") == head
    assert app_state(copy, git) == before_app

    old_tags = tag_ids(copy, git)
    code, out, err = run_workshop("update", "--apply", cwd=copy)

    assert (code, err) == (0, ""), out + err
    guide = (copy / GUIDE_1).read_text()
    assert "Reach step 1 FAST." in guide and "Some theory. MY NOTE" in guide
    assert (copy / "checkpoints/step-2/app/main.py").read_text().endswith("# CLEARER\n")
    assert (copy / ".github/workflows/ci.yml").read_text().endswith("# NEW\n")
    assert app_state(copy, git) == before_app  # committed, staged, untracked
    assert (copy / "notes.md").read_text() == "mine\n"
    assert git(copy, "rev-parse", "HEAD~1") == head  # one commit on the branch
    assert git(copy, "status", "--porcelain") == "A  app/mailer.py\n?? app/scratch.py\n"
    record = (copy / ".workshop-course").read_text()
    assert git(course, "rev-parse", "HEAD").strip() in record
    new_tags = tag_ids(copy, git)
    assert sorted(new_tags) == ["step-0", "step-1", "step-2"]
    for name, new in new_tags.items():
        if name in old_tags:  # the clone had the course's tags
            assert f"{old_tags[name][:12]} -> {new[:12]}" in out
            assert f"restore: git tag -f {name} {old_tags[name]}" in out
        else:
            assert re.search(rf"{name} +created +{new[:12]}", out)
    assert git(copy, "rev-parse", "step-2:app/main.py") == git(
        copy, "rev-parse", "HEAD:checkpoints/step-2/app/main.py"
    )

    # twice: nothing changes
    head, tags = git(copy, "rev-parse", "HEAD"), tag_ids(copy, git)
    code, out, _ = run_workshop("update", "--apply", cwd=copy)
    assert code == 0
    assert "Up to date with the course" in out
    assert (git(copy, "rev-parse", "HEAD"), tag_ids(copy, git)) == (head, tags)
    assert app_state(copy, git) == before_app


def test_a_true_conflict_stops_and_lists_the_file(
    course, git, run_workshop, tmp_path
) -> None:
    copy = template_copy(course, tmp_path / "copy", git)
    guide = copy / GUIDE_1
    guide.write_text(guide.read_text().replace("Reach step 1.", "Reach step 1 MINE."))
    commit_all(copy, git, "My way")
    course_changes(course, git)
    head, text = git(copy, "rev-parse", "HEAD"), guide.read_text()

    code, out, err = run_workshop("update", "--apply", cwd=copy)

    assert code == 1, out + err
    assert re.search(
        r"conflict +checkpoints/step-1/README.md: you and the course changed "
        "the same lines",
        out,
    )
    assert "Nothing was written" in out
    assert "workshop update --apply --markers" in out
    assert git(copy, "rev-parse", "HEAD") == head
    assert guide.read_text() == text
    assert git(copy, "status", "--porcelain") == ""

    code, out, _ = run_workshop("update", "--apply", "--markers", cwd=copy)

    assert code == 0, out
    assert "resolve the <<<<<<< markers in checkpoints/step-1/README.md" in out
    marked = guide.read_text()
    assert "<<<<<<< yours\nReach step 1 MINE.\n" in marked
    assert "Reach step 1 FAST.\n>>>>>>> course" in marked
    assert (copy / ".github/workflows/ci.yml").read_text().endswith("# NEW\n")
    assert git(copy, "status", "--porcelain") == f" M {GUIDE_1.as_posix()}\n"
    # the committed guide is still yours; the tags wait for the resolution
    assert git(copy, "show", f"HEAD:{GUIDE_1.as_posix()}") == text
    assert "the step-N tags were not rebuilt" in out


def test_uncommitted_changes_to_a_course_file_are_refused(
    course, git, run_workshop, tmp_path
) -> None:
    copy = clone(course, tmp_path / "copy", git)
    course_changes(course, git)
    (copy / GUIDE_1).write_text("unsaved\n")
    head = git(copy, "rev-parse", "HEAD")

    code, _, err = run_workshop("update", "--apply", cwd=copy)

    assert code == 2
    assert "changes files you have not committed: checkpoints/step-1/README.md" in err
    assert git(copy, "rev-parse", "HEAD") == head
    assert (copy / GUIDE_1).read_text() == "unsaved\n"


def test_every_replaced_file_can_be_brought_back(
    course, git, run_workshop, tmp_path
) -> None:
    copy = clone(course, tmp_path / "copy", git)
    course_changes(course, git)
    head = git(copy, "rev-parse", "HEAD").strip()
    (copy / "app" / "main.py").write_text("unsaved app work\n")

    code, out, _ = run_workshop("update", "--apply", cwd=copy)

    assert code == 0
    assert f"undo: git reset --keep {head[:12]}" in out
    [ref] = git(copy, "for-each-ref", "--format=%(refname) %(objectname)",
                "refs/workshop/update/").splitlines()  # fmt: skip
    assert ref.endswith(head)
    git(copy, "reset", "-q", "--keep", head)
    assert git(copy, "rev-parse", "HEAD").strip() == head
    assert "Reach step 1 FAST." not in (copy / GUIDE_1).read_text()
    assert (copy / "app" / "main.py").read_text() == "unsaved app work\n"


def test_course_deletions_and_additions_and_the_learners_deletion(
    course, git, run_workshop, tmp_path
) -> None:
    copy = template_copy(course, tmp_path / "copy", git)
    (copy / "checkpoints" / "step-0" / "README.md").unlink()  # the learner's choice
    commit_all(copy, git, "I do not need the step 0 guide")
    (course / "checkpoints" / "step-2" / "app" / "mailer.py").unlink()
    (course / "CHANGELOG.md").write_text("new\n")
    (course / "requirements.txt").write_text("fastapi==9.9\n")
    commit_all(course, git, "Course: remove a file, add one")

    code, out, _ = run_workshop("update", "--apply", cwd=copy)

    assert code == 0, out
    assert "note: the dependencies change: the next make run" in out
    assert re.search(r"deleted +checkpoints/step-2/app/mailer.py", out)
    assert (copy / "CHANGELOG.md").read_text() == "new\n"
    assert not (copy / "checkpoints/step-2/app/mailer.py").exists()
    assert not (copy / "checkpoints/step-0/README.md").exists()  # still yours


def test_the_source_comes_from_the_argument_or_is_asked_for(
    course, git, run_workshop, tmp_path
) -> None:
    copy = template_copy(course, tmp_path / "copy", git)
    (copy / "pyproject.toml").write_text(
        '[tool.workshop]\nsource = "https://github.com/OWNER/REPO"\n'
    )
    commit_all(copy, git, "A template placeholder")

    code, _, err = run_workshop("update", cwd=copy)
    assert code == 2
    assert err == (
        "workshop: no course source known: pass it (workshop update URL-or-path), "
        "or set [tool.workshop] source in pyproject.toml\n"
    )

    code, out, _ = run_workshop("update", str(course), cwd=copy)
    assert code == 0
    assert f"Course: {course} at" in out
    assert "Your copy:" not in out  # the course changed nothing; pyproject is yours


def test_update_after_a_git_pull_uses_the_newer_base(
    course, git, run_workshop, tmp_path
) -> None:
    """A clone that updated once and later pulled merges from what it pulled."""
    copy = clone(course, tmp_path / "copy", git)
    course_changes(course, git)
    assert run_workshop("update", "--apply", cwd=copy).code == 0
    (course / "README.md").write_text("# Fake workshop, renamed\n")
    commit_all(course, git, "Course: README")
    git(copy, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    (course / "CHANGELOG.md").write_text("new\n")
    commit_all(course, git, "Course: a changelog")

    code, out, _ = run_workshop("update", cwd=copy)

    assert code == 0, out
    assert "shared history (newer than the last update)" in out
    assert [ln.split()[-1] for ln in out.splitlines() if "from the course" in ln] == [
        "CHANGELOG.md"
    ]


def test_update_refuses_on_a_step_tag_and_outside_git(
    course, git, run_workshop, tmp_path
) -> None:
    copy = clone(course, tmp_path / "copy", git)
    git(copy, "checkout", "-q", "step-1")
    code, _, err = run_workshop("update", cwd=copy)
    assert code == 2
    assert "HEAD is a generated step tag" in err
    code, _, err = run_workshop("update", str(tmp_path / "nowhere"), cwd=course)
    assert code == 2
    assert err.startswith("workshop: git fetch failed: ")


def test_in_the_course_itself_update_changes_nothing(course, git, run_workshop):
    head = git(course, "rev-parse", "HEAD")
    code, out, _ = run_workshop("update", "--apply", cwd=course)
    assert code == 0
    assert "Up to date with the course" in out
    assert git(course, "rev-parse", "HEAD") == head
    assert not (course / ".workshop-course").exists()


def test_a_file_both_added_differently_is_a_conflict(
    course, git, run_workshop, tmp_path
) -> None:
    copy = clone(course, tmp_path / "copy", git)
    (copy / "CHANGELOG.md").write_text("mine\n")
    commit_all(copy, git, "My changelog")
    (course / "CHANGELOG.md").write_text("the course's\n")
    commit_all(course, git, "Course: a changelog")

    code, out, _ = run_workshop("update", cwd=copy)

    assert code == 1
    assert re.search(
        r"conflict +CHANGELOG.md: you and the course both added it, differently", out
    )
