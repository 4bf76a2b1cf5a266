"""`workshop tours` writes a CodeTour per step, and `workshop verify` proves that
every stop still lands on its line of the checkpoint the step starts from."""

from __future__ import annotations

import json
import re
from pathlib import Path

from workshop.course.tours import matching_lines, pattern_for


def tour(root: Path, number: int) -> dict:
    return json.loads((root / ".tours" / f"step-{number}.tour").read_text())


def line_of(root: Path, number: int, text: str) -> int:
    """The line of the tour file on which `text` stands."""
    lines = (root / ".tours" / f"step-{number}.tour").read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def test_a_tour_per_step_after_the_first(workshop_repo, run_workshop) -> None:
    code, out, _ = run_workshop("tours", cwd=workshop_repo)
    assert code == 0, out
    assert sorted(p.name for p in (workshop_repo / ".tours").iterdir()) == [
        "step-1.tour",
        "step-2.tour",
    ]
    two = tour(workshop_repo, 2)
    assert two["title"] == "Step 2 — Async tasks"
    assert tour(workshop_repo, 1)["nextTour"] == two["title"]
    first, *stops, last = two["steps"]
    assert "Reach step 2." in first["description"]  # the guide's goal
    assert last["description"].startswith("Check step 2:\n\n>> workshop check 2")
    # main.py's two changed lines (one stop each), and notes.txt, removed
    assert [(s["file"], s["pattern"]) for s in stops] == [
        ("app/main.py", pattern_for("STEP = 1")),
        ("app/main.py", pattern_for('    return "hello"')),
        ("app/notes.txt", pattern_for("only in steps 0 and 1")),
    ]
    assert stops[2]["description"].startswith(
        "**Change 3 of 3** in `app/notes.txt`: remove this line."
    )
    assert all("line" not in stop for stop in two["steps"])  # patterns only


def test_patterns_are_codetours_own_and_match_one_line() -> None:
    """Leading blanks, then the text with the characters regexes use escaped
    (as CodeTour's recorder writes them); searched line by line."""
    pattern = pattern_for('    send(to, f"{x}") * 2  # [a|b]?')
    assert pattern == r'^[^\S\n]*send\(to, f"\{x\}"\) \* 2  # \[a\|b\]\?'
    text = 'a = 1\n    send(to, f"{x}") * 2  # [a|b]?\nb = 2\n'
    assert matching_lines(pattern, text) == [2]
    assert matching_lines(pattern_for("b = 2"), text + "  b = 2\n") == [3, 4]


def test_tours_check_and_a_second_run_change_nothing(workshop_repo, run_workshop):
    assert run_workshop("tours", cwd=workshop_repo)[0] == 0
    code, out, _ = run_workshop("tours", "--check", cwd=workshop_repo)
    assert (code, out.strip()) == (0, "All 2 tours are up to date.")
    code, out, _ = run_workshop("tours", cwd=workshop_repo)
    assert "2 tours: 0 written, 2 unchanged." in out
    code, out, _ = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert code == 0, out
    assert "✓ lands" in out and "tour" in out.splitlines()[1]


def test_an_anchor_that_moved_fails_verify_naming_tour_and_line(
    workshop_repo, run_workshop
) -> None:
    """Checkpoint 1 changes the line step 2's tour stops at: verify names the
    tour file, the line of the pattern in it, and the checkpoint file."""
    assert run_workshop("tours", cwd=workshop_repo)[0] == 0
    main = workshop_repo / "checkpoints" / "step-1" / "app" / "main.py"
    main.write_text(main.read_text().replace('return "hello"', 'return "hi"'))
    code, out, _ = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert code == 1
    line = line_of(workshop_repo, 2, '"pattern": "^[^\\\\S\\\\n]*return')
    moved = pattern_for('    return "hello"')
    assert (
        f"step-2: .tours/step-2.tour:{line}: pattern {moved!r} matches no line of "
        "checkpoints/step-1/app/main.py (run workshop tours)"
    ) in out
    assert re.search(r"^step-2 .*✗ 1 off$", out, re.MULTILINE), out
    code, out, _ = run_workshop("tours", "--check", cwd=workshop_repo)
    assert code == 1 and "✗ .tours/step-2.tour is not what" in out
    assert run_workshop("tours", cwd=workshop_repo)[0] == 0
    assert run_workshop("verify", "--fast", cwd=workshop_repo)[0] == 0


def test_an_anchor_on_two_lines_is_named(workshop_repo, run_workshop) -> None:
    assert run_workshop("tours", cwd=workshop_repo)[0] == 0
    main = workshop_repo / "checkpoints" / "step-0" / "app" / "main.py"
    main.write_text(main.read_text() + "STEP = 0\n")
    code, out, _ = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert code == 1
    assert "matches 2 lines of checkpoints/step-0/app/main.py (1, 6)" in out


def test_missing_stale_and_broken_tours(workshop_repo, run_workshop) -> None:
    assert run_workshop("tours", cwd=workshop_repo)[0] == 0
    folder = workshop_repo / ".tours"
    (folder / "step-1.tour").unlink()
    (folder / "step-9.tour").write_text("{}")
    data = tour(workshop_repo, 2)
    data["steps"][1].pop("pattern")
    data["steps"][1]["line"] = 1
    (folder / "step-2.tour").write_text(json.dumps(data, indent=2))
    code, out, _ = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert code == 1
    assert "step-1: .tours/step-1.tour is missing (run workshop tours)" in out
    assert ".tours/step-9.tour: no step 9 starts from a checkpoint" in out
    assert "app/main.py has no pattern: a line number drifts" in out
    code, out, _ = run_workshop("tours", cwd=workshop_repo)
    assert "removed .tours/step-9.tour" in out
    assert run_workshop("verify", "--fast", cwd=workshop_repo)[0] == 0


def test_a_checkout_without_tours_needs_none(workshop_repo, run_workshop) -> None:
    code, out, _ = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert code == 0
    assert "tour" not in out
