"""Edits saved while a goto runs are kept (issue 12, item 3).

An editor's autosave or format-on-save can write to app/ between the moment
goto reads it (its snapshot) and the rename that moves the file aside. The
command is paused at those moments (WORKSHOP_FAULT), so the edit always
lands in that window.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

SAVED = re.compile(r"while goto 2 ran \((\d+) files?\) as (\S+)\.")


def saved_versions(root: Path, git, path: str) -> list[str]:
    """`path` as every backup holds it."""
    refs = git(root, "for-each-ref", "--format=%(refname)", "refs/workshop/").split()
    found = []
    for ref in refs:
        listed = git(root, "ls-tree", "--name-only", ref, "--", path).strip()
        if listed:
            found.append(git(root, "show", f"{ref}:{path}"))
    return found


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
    count, name = SAVED.search(out).groups()
    assert count == "1"
    assert f"workshop restore {name}" in out
    assert git(workshop_repo, "show", f"refs/workshop/backup/{name}:app/main.py") == (
        "STEP = 0  # my edit, formatted on save\n"
    )


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
    goto.wait_paused()  # renamed, not yet cleaned up: the writer stops here
    stop.set()
    thread.join()
    goto.resume()
    code, out, _ = goto.finish()

    assert code == 0
    kept = "".join(saved_versions(workshop_repo, git, "app/work.txt"))
    kept += work.read_text() if work.exists() else ""
    assert [line for line in written if line not in kept] == []
    assert SAVED.search(out)  # and said so


def test_an_unchanged_app_saves_no_extra_backup(
    workshop_repo, run_workshop, git
) -> None:
    (workshop_repo / "app" / "main.py").write_text("STEP = 0  # my edit\n")

    code, out, _ = run_workshop("goto", "2", cwd=workshop_repo)

    assert code == 0
    assert "while goto 2 ran" not in out
    assert len(git(workshop_repo, "for-each-ref", "refs/workshop/").splitlines()) == 1


def test_undo_keeps_a_file_that_took_a_moved_path_meanwhile(tmp_path) -> None:
    from workshop.moves import Moves, undo

    stage, app = tmp_path / "stage", tmp_path / "app"
    (stage / "old").mkdir(parents=True)
    app.mkdir()
    (app / "notes.txt").write_text("old notes\n")
    renames = Moves(tmp_path, stage)
    renames.aside(app / "notes.txt")
    renames.close()
    (app / "notes.txt").write_text("saved by an editor meanwhile\n")

    assert undo(tmp_path, stage, renames.done) == []

    assert (app / "notes.txt").read_text() == "old notes\n"
    kept = stage / "old" / "1" / "app" / "notes.txt"
    assert kept.read_text() == "saved by an editor meanwhile\n"


def test_an_edit_to_a_half_switched_app_survives_the_undo_after_a_kill(
    workshop_repo, start_workshop, run_workshop, git, files
) -> None:
    lib = workshop_repo / "checkpoints" / "step-2" / "app" / "lib"
    lib.mkdir()
    for number in range(20):
        (lib / f"m{number:02}.py").write_text(f"N = {number}\n")
    git(workshop_repo, "add", "--all")
    git(workshop_repo, "commit", "-q", "-m", "step 2 has a lib")
    killed = start_workshop("goto", "2", cwd=workshop_repo, fault="moved@10:sigkill")
    killed.finish()
    # The learner opens the half switched app/ and saves a file that came in.
    (workshop_repo / "app" / "lib" / "m00.py").write_text("N = 'edited'\n")

    code, out, _ = run_workshop("goto", "1", cwd=workshop_repo)

    assert code == 0
    assert out.startswith("Undid 'workshop goto 2'")
    assert "Saved changes made to app/ while goto 2 ran (1 file) as" in out
    assert saved_versions(workshop_repo, git, "app/lib/m00.py") == ["N = 'edited'\n"]
    step_1 = workshop_repo / "checkpoints" / "step-1" / "app"
    assert files(workshop_repo / "app") == files(step_1)
