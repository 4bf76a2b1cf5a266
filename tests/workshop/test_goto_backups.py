"""Committed work, the list of backups, --latest and progress (issue 12, item 5)."""

from __future__ import annotations

import json
import re
from pathlib import Path

BACKUP = re.compile(r"workshop restore (\S+)")
PREFIX = "refs/workshop/backup/"


def recorded(root: Path) -> int | None:
    path = root / ".workshop" / "progress.json"
    return json.loads(path.read_text())["done"] if path.exists() else None


def record(root: Path, done: int) -> None:
    (root / ".workshop").mkdir(exist_ok=True)
    (root / ".workshop" / "progress.json").write_text(json.dumps({"done": done}))


def test_goto_says_where_committed_work_is_and_how_to_get_it_back(
    workshop_repo, run_workshop, git
) -> None:
    main = workshop_repo / "app" / "main.py"
    main.write_text("STEP = 0  # committed work\n")
    git(workshop_repo, "commit", "-q", "-am", "my work")
    short = git(workshop_repo, "rev-parse", "--short", "HEAD").strip()

    code, out, _ = run_workshop("goto", "2", cwd=workshop_repo)

    assert code == 0
    assert out.splitlines()[:2] == [
        f"Nothing uncommitted to save: your work is in HEAD ({short}).",
        "  get it back:  git restore --source=HEAD -- app",
    ]
    git(workshop_repo, "restore", "--source=HEAD", "--", "app")
    assert main.read_text() == "STEP = 0  # committed work\n"


def test_restore_lists_newest_first_with_time_and_step(
    workshop_repo, run_workshop
) -> None:
    app = workshop_repo / "app"
    record(workshop_repo, 1)
    (app / "main.py").write_text("first\n")
    first = BACKUP.search(run_workshop("goto", "2", cwd=workshop_repo).stdout)[1]
    (app / "main.py").write_text("second\n")
    second = BACKUP.search(run_workshop("goto", "0", cwd=workshop_repo).stdout)[1]

    code, out, _ = run_workshop("restore", cwd=workshop_repo)

    assert code == 0
    when = r"\d{4}-\d\d-\d\d \d\d:\d\d"
    assert re.search(
        rf"  {second}  {when}  before goto 0  \(all steps done\)\n"
        r"      3 files: app/mailer.py, app/main.py, app/notes.txt\n"
        rf"  {first}  {when}  before goto 2  \(on step 2\)\n"
        r"      1 file: app/main.py\n",
        out,
    ), out


def test_latest_is_the_newest_by_time_not_by_name(
    workshop_repo, run_workshop, git, files
) -> None:
    head = git(workshop_repo, "rev-parse", "HEAD").strip()
    for number in (9, 10):  # two backups made in the same second: -9, then -10
        (workshop_repo / "app" / "main.py").write_text(f"backup {number}\n")
        git(workshop_repo, "add", "app")
        tree = git(workshop_repo, "write-tree").strip()
        commit = git(workshop_repo, "commit-tree", tree, "-p", head, "-m", "x").strip()
        git(workshop_repo, "update-ref", f"{PREFIX}2026-01-01T120000Z-{number}", commit)
    git(workshop_repo, "reset", "-q", "--hard")

    code, out, _ = run_workshop("restore", "--latest", cwd=workshop_repo)

    assert code == 0
    assert (workshop_repo / "app" / "main.py").read_text() == "backup 10\n"
    assert "2026-01-01T120000Z-10" in out


def test_goto_records_the_step_done_and_restore_brings_the_record_back(
    workshop_repo, run_workshop
) -> None:
    record(workshop_repo, 0)
    (workshop_repo / "app" / "main.py").write_text("my step 1 work\n")

    out = run_workshop("goto", "2", cwd=workshop_repo).stdout
    assert recorded(workshop_repo) == 2  # the learner is on step 3 now

    name = BACKUP.search(out)[1]
    code, out, _ = run_workshop("restore", name, cwd=workshop_repo)
    assert code == 0
    assert recorded(workshop_repo) == 0
    assert f"as {name} (" in out and "before goto 2, on step 1)" in out

    code, out, _ = run_workshop("goto", "1", cwd=workshop_repo)
    assert code == 0
    assert f"Nothing new to save: app/ equals {name}, saved before." in out
    assert recorded(workshop_repo) == 1
    assert run_workshop("goto", "1", cwd=workshop_repo).code == 0  # nothing to do
    assert recorded(workshop_repo) == 1


def test_a_backup_holds_the_progress_as_a_trailer(workshop_repo, run_workshop, git):
    record(workshop_repo, 1)
    (workshop_repo / "app" / "main.py").write_text("edit\n")
    name = BACKUP.search(run_workshop("goto", "2", cwd=workshop_repo).stdout)[1]

    message = git(workshop_repo, "log", "-1", "--format=%B", PREFIX + name)

    assert message.rstrip().endswith("\n\nWorkshop-Progress: 1")
