"""`workshop hint`: progressive hints from the guide, then the solution diff."""

from __future__ import annotations

import json


def test_hints_come_one_at_a_time_then_the_solution(
    workshop_repo, run_workshop, git
) -> None:
    code, out, err = run_workshop("hint", "1", cwd=workshop_repo)
    assert code == 0, err
    assert "Step 1, hint 1 of 2" in out
    assert "Open `app/main.py`." in out
    assert "Change the number." not in out
    assert "Run workshop hint 1 again for the next hint." in out

    _, out, _ = run_workshop("hint", "1", cwd=workshop_repo)
    assert "Step 1, hint 2 of 2" in out
    assert "Change the number." in out and "Open `app/main.py`." not in out
    assert "again for the solution" in out

    for _ in range(2):  # the solution, and again the solution
        _, out, _ = run_workshop("hint", "1", cwd=workshop_repo)
        assert "Step 1, solution" in out
        assert "+++ b/app/main.py" in out
        assert "-STEP = 0\n+STEP = 1" in out
        assert "+++ b/app/mailer.py" in out
        assert "workshop hint --reset 1" in out

    # progress lives in the checkout's (git-ignored) .workshop/ folder
    state = json.loads((workshop_repo / ".workshop" / "hints.json").read_text())
    assert state == {"1": 3}
    assert git(workshop_repo, "status", "--porcelain") == ""


def test_hints_are_read_from_the_guide(workshop_repo, run_workshop) -> None:
    guide = workshop_repo / "checkpoints" / "step-2" / "README.md"
    guide.write_text(guide.read_text().replace("Open `app/main.py`.", "Try harder."))
    _, out, _ = run_workshop("hint", "2", cwd=workshop_repo)
    assert "Try harder." in out


def test_progress_is_kept_per_step_and_reset(workshop_repo, run_workshop) -> None:
    run_workshop("hint", "1", cwd=workshop_repo)
    run_workshop("hint", "2", cwd=workshop_repo / "app")  # from a subfolder too
    _, out, _ = run_workshop("hint", "2", cwd=workshop_repo)
    assert "hint 2 of 2" in out

    code, out, _ = run_workshop("hint", "--reset", "2", cwd=workshop_repo)
    assert code == 0 and "step 2 start again from hint 1" in out
    assert "hint 1 of 2" in run_workshop("hint", "2", cwd=workshop_repo).stdout
    assert "hint 2 of 2" in run_workshop("hint", "1", cwd=workshop_repo).stdout

    run_workshop("hint", "--reset", cwd=workshop_repo)
    assert "hint 1 of 2" in run_workshop("hint", "1", cwd=workshop_repo).stdout


def test_all_shows_everything_without_moving_on(workshop_repo, run_workshop) -> None:
    code, out, _ = run_workshop("hint", "2", "--all", cwd=workshop_repo)
    assert code == 0
    first, second, solution = (
        out.index("hint 1 of 2"),
        out.index("hint 2 of 2"),
        out.index("Step 2, solution"),
    )
    assert first < second < solution
    assert "-STEP = 1\n+STEP = 2" in out
    assert "-only in steps 0 and 1" in out  # step 2 removes notes.txt
    assert "hint 1 of 2" in run_workshop("hint", "2", cwd=workshop_repo).stdout


def test_default_step_is_the_step_you_are_on(workshop_repo, run_workshop) -> None:
    _, out, _ = run_workshop("hint", cwd=workshop_repo)
    assert "Step 1, hint 1 of 2" in out
    main = workshop_repo / "app" / "main.py"
    main.write_text(main.read_text().replace("STEP = 0", "STEP = 1"))
    _, out, _ = run_workshop("hint", cwd=workshop_repo)
    assert "Step 2, hint 1 of 2" in out


def test_the_first_step_shows_its_guides_solution(workshop_repo, run_workshop) -> None:
    for _ in range(2):
        run_workshop("hint", "0", cwd=workshop_repo)
    _, out, _ = run_workshop("hint", "0", cwd=workshop_repo)
    assert "Step 0, solution" in out
    assert '```python title="app/main.py"\nSTEP = 0\n```' in out


def test_a_guide_without_hints_gives_the_solution(workshop_repo, run_workshop) -> None:
    (workshop_repo / "checkpoints" / "step-2" / "README.md").unlink()
    code, out, _ = run_workshop("hint", "2", cwd=workshop_repo)
    assert code == 0
    assert "Step 2's guide has no hints: here is its solution." in out
    assert "+STEP = 2" in out


def test_broken_progress_file_starts_over(workshop_repo, run_workshop) -> None:
    (workshop_repo / ".workshop").mkdir()
    (workshop_repo / ".workshop" / "hints.json").write_text("{not json")
    code, out, _ = run_workshop("hint", "1", cwd=workshop_repo)
    assert code == 0 and "hint 1 of 2" in out


def test_a_count_that_makes_no_sense_starts_over(workshop_repo, run_workshop) -> None:
    (workshop_repo / ".workshop").mkdir()
    state = workshop_repo / ".workshop" / "hints.json"
    for bad in ('{"1": -5}', '{"1": true}', '{"1": 2.5}'):
        state.write_text(bad)
        code, out, err = run_workshop("hint", "1", cwd=workshop_repo)
        assert (code, err) == (0, ""), bad
        assert "Step 1, hint 1 of 2" in out, bad


def test_a_guide_that_is_not_utf8_is_one_line(workshop_repo, run_workshop) -> None:
    guide = workshop_repo / "checkpoints" / "step-1" / "README.md"
    guide.write_bytes(guide.read_bytes() + b"\nCaf\xe9\n")
    code, out, err = run_workshop("hint", "1", cwd=workshop_repo)
    assert (code, out) == (2, "")
    assert err.startswith("workshop: ") and err.count("\n") == 1
    assert "checkpoints/step-1/README.md is not UTF-8 text" in err


def test_unknown_step_is_one_line(workshop_repo, run_workshop) -> None:
    code, out, err = run_workshop("hint", "5", cwd=workshop_repo)
    assert (code, out) == (2, "")
    assert err == "workshop: unknown step '5': valid steps are 0, 1, 2\n"
    code, _, err = run_workshop("hint", "--reset", "5", cwd=workshop_repo)
    assert code == 2 and err.count("\n") == 1
