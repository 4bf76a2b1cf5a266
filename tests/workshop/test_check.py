"""`workshop check` and `workshop status` on a real temporary workshop repo.

The fake repo's app/ starts at step 0; suite N asserts `STEP >= N`.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def catch_up(root: Path, step: int) -> None:
    """Make app/ equal to checkpoint `step`, as a learner who did the work."""
    shutil.rmtree(root / "app")
    shutil.copytree(root / "checkpoints" / f"step-{step}" / "app", root / "app")


def test_check_stops_at_the_step_you_are_on(workshop_repo, run_workshop) -> None:
    code, out, err = run_workshop("check", cwd=workshop_repo)
    assert code == 1, err
    assert "✓ Step 0 — The starting point (1/1)" in out
    assert "✗ Step 1 — Respond first (0/1)" in out
    # the failing test's docstring, in the learner's words, and its assertion
    assert "✗ The app has reached step 1." in out
    assert "assert 0 >= 1" in out
    assert "Stuck? Run: workshop hint 1" in out
    assert "Step 2" not in out  # later steps are not the learner's concern yet
    assert "Traceback" not in out and "def test_step_1" not in out
    assert err == ""


def test_check_n_runs_the_suites_up_to_n(workshop_repo, run_workshop) -> None:
    code, out, _ = run_workshop("check", "2", cwd=workshop_repo)
    assert code == 1
    assert "Checking app/ against steps 0 to 2" in out
    assert "✗ Step 2 — Async tasks (0/1)" in out
    assert "assert 0 >= 2" in out
    assert "Stuck? Run: workshop hint 1" in out  # the first red step

    code, out, _ = run_workshop("check", "0", cwd=workshop_repo)
    assert code == 0
    assert "✓ Step 0" in out and "Step 1" not in out


def test_green_check_says_what_comes_next(workshop_repo, run_workshop) -> None:
    """The run that turns a step green names the next guide, and runs no more."""
    assert run_workshop("check", cwd=workshop_repo).code == 1  # on step 1
    catch_up(workshop_repo, 1)
    code, out, _ = run_workshop("check", cwd=workshop_repo)
    assert code == 0
    assert "✓ Step 1 — Respond first (1/1)" in out
    assert (
        "Step 1 passes. Next: Step 2 — Async tasks, read checkpoints/step-2/README.md"
        in out
    )
    assert "Step 2 —" not in out.replace("Next: Step 2 —", "") and "Stuck" not in out

    code, out, _ = run_workshop("check", cwd=workshop_repo)
    assert code == 1 and "Stuck? Run: workshop hint 2" in out  # now on step 2

    code, out, _ = run_workshop("check", "1", cwd=workshop_repo)
    assert code == 0
    assert "All 2 checks of steps 0 to 1 pass." in out

    catch_up(workshop_repo, 2)
    code, out, _ = run_workshop("check", cwd=workshop_repo)
    assert code == 0
    assert "✓ Step 2 — Async tasks (1/1)" in out
    assert "Every step passes: you have finished the workshop." in out


def test_the_step_you_are_on_stays_in_focus(workshop_repo, run_workshop) -> None:
    """On step 2, a broken import shows step 2, its cause once, and hint 2."""
    catch_up(workshop_repo, 1)
    assert run_workshop("check", cwd=workshop_repo).code == 1  # on step 2
    main = workshop_repo / "app" / "main.py"
    main.write_text("STEP = 2\n\n\nprint(hello_world)\n")
    code, out, _ = run_workshop("check", cwd=workshop_repo)
    assert code == 1
    assert "Checking app/ up to step 2, the step you are on" in out
    assert "✗ Step 2 — Async tasks" in out
    assert "app/main.py:4: NameError: name 'hello_world' is not defined" in out
    assert out.count("hello_world") == 2  # the error and its fix, once
    assert "fix: import or define hello_world" in out
    assert "(steps 0 to 1 fail too, with the same error)" in out
    assert "Step 0 —" not in out and "Step 1 —" not in out
    assert "Stuck? Run: workshop hint 2" in out

    code, out, _ = run_workshop("status", cwd=workshop_repo)
    assert code == 0
    assert "✗ Step 2 — Async tasks  ← you are here" in out
    assert out.count("NameError") == 1  # under step 2, and for the others:
    assert out.count("the same error as step 2") == 2
    assert "You are on step 2: read checkpoints/step-2/README.md" in out


def test_a_step_broken_behind_you_is_named(workshop_repo, run_workshop, git) -> None:
    """Step 2 passes, but the change broke step 0: say so, point at hint 0."""
    catch_up(workshop_repo, 1)
    assert run_workshop("check", cwd=workshop_repo).code == 1  # on step 2
    suite = workshop_repo / "tests" / "steps" / "test_step_0.py"
    suite.write_text(
        "from app.main import STEP\n\n\ndef test_step_0() -> None:\n"
        '    """The app stays at an even step."""\n    assert STEP % 2 == 0\n'
    )
    git(workshop_repo, "commit", "-qam", "the course's suite")  # not the learner's
    main = workshop_repo / "app" / "main.py"
    main.write_text(main.read_text().replace("STEP = 1", "STEP = 3"))
    code, out, _ = run_workshop("check", cwd=workshop_repo)
    assert code == 1
    assert "✗ Step 0 — The starting point (0/1)" in out
    assert "Step 2 passes, but step 0 no longer does:" in out
    assert "✗ The app stays at an even step." in out
    assert "Stuck? Run: workshop hint 0" in out


def test_check_imports_the_app_fresh_from_disk(workshop_repo, run_workshop) -> None:
    assert run_workshop("check", "1", cwd=workshop_repo).code == 1
    main = workshop_repo / "app" / "main.py"
    main.write_text(main.read_text().replace("STEP = 0", "STEP = 1"))
    assert run_workshop("check", "1", cwd=workshop_repo).code == 0


def test_check_a_checkpoint_instead_of_app(workshop_repo, run_workshop) -> None:
    code, out, _ = run_workshop("check", "--checkpoint", "2", cwd=workshop_repo)
    assert code == 0
    assert "Checking checkpoints/step-2/app against steps 0 to 2" in out

    code, out, _ = run_workshop("check", "2", "--checkpoint", "1", cwd=workshop_repo)
    assert code == 1
    assert "✓ Step 1" in out and "✗ Step 2" in out


def test_the_environment_cannot_swap_the_app(workshop_repo, run_workshop) -> None:
    """check always tests app/, whatever WORKSHOP_APP_DIR says."""
    checkpoint = str(workshop_repo / "checkpoints" / "step-2")
    env = {"WORKSHOP_APP_DIR": checkpoint}
    assert run_workshop("check", "2", cwd=workshop_repo, env=env).code == 1


def test_check_works_from_a_subfolder(workshop_repo, run_workshop) -> None:
    code, out, _ = run_workshop("check", "0", cwd=workshop_repo / "app")
    assert code == 0 and "✓ Step 0" in out


def test_verbose_shows_pytest_output(workshop_repo, run_workshop) -> None:
    # pytest's output goes straight to the terminal: a real process to see it
    code, out, _ = run_workshop("check", "1", "-v", cwd=workshop_repo, process=True)
    assert code == 1
    assert "test_step_1.py::test_step_1 FAILED" in out
    assert "def test_step_1" in out  # pytest's traceback
    assert "Stuck? Run: workshop hint 1" in out  # and the summary after it


def test_a_test_without_docstring_is_named(workshop_repo, run_workshop, git) -> None:
    suite = workshop_repo / "tests" / "steps" / "test_step_1.py"
    suite.write_text(
        "import pytest\n\n\n"
        "def test_mail_is_sent_later():\n"
        "    pytest.fail('x' * 500 + '\\n' + 'many lines\\n' * 100)\n"
    )
    git(workshop_repo, "commit", "-qam", "the course's suite")  # not the learner's
    code, out, _ = run_workshop("check", "1", cwd=workshop_repo)
    assert code == 1
    assert "✗ test_mail_is_sent_later" in out
    # the message is cut short: a few lines, none very long (the first, what
    # is wrong and its fix, up to twice the others: test_a_long_first_line...)
    assert len(out.splitlines()) < 20
    assert max(len(line) for line in out.splitlines()) < 450


def test_a_broken_app_is_a_red_step_not_a_crash(workshop_repo, run_workshop) -> None:
    (workshop_repo / "app" / "main.py").write_text("STEP = = 0\n")
    code, out, err = run_workshop("check", cwd=workshop_repo)
    assert code == 1, err
    assert "✗ Step 0" in out
    assert "SyntaxError" in out
    assert "Stuck? Run: workshop hint 0" in out
    assert "Step 1" not in out


def test_a_missing_suite_is_red(workshop_repo, run_workshop, git) -> None:
    (workshop_repo / "tests" / "steps" / "test_step_1.py").unlink()
    git(workshop_repo, "commit", "-qam", "the course lost a suite")
    code, out, _ = run_workshop("check", "1", cwd=workshop_repo)
    assert code == 1
    assert "missing suite tests/steps/test_step_1.py" in out


def test_status_lists_every_step_and_where_you_are(workshop_repo, run_workshop) -> None:
    code, out, err = run_workshop("status", cwd=workshop_repo)
    assert code == 0, err
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    assert lines[1:5] == [
        "✓ Step 0 — The starting point (1/1)",
        "✗ Step 1 — Respond first (0/1)  ← you are here",
        "The app has reached step 1.",  # what fails, in one line
        "· Step 2 — Async tasks",  # not run: it builds on step 1
    ]
    assert "You are on step 1: read checkpoints/step-1/README.md" in out
    assert "(· not checked yet: 'workshop status --all' checks them)" in out

    code, out, _ = run_workshop("status", "--all", cwd=workshop_repo)
    assert code == 0
    assert "✗ Step 2 — Async tasks (0/1)" in out and "not checked" not in out

    catch_up(workshop_repo, 2)
    code, out, _ = run_workshop("status", cwd=workshop_repo)
    assert code == 0
    assert "you are here" not in out
    assert "you have finished the workshop" in out


def test_status_title_falls_back_without_a_guide(workshop_repo, run_workshop) -> None:
    (workshop_repo / "checkpoints" / "step-2" / "README.md").unlink()
    _, out, _ = run_workshop("status", "--all", cwd=workshop_repo)
    assert "✗ Step 2 (0/1)" in out


def test_status_reads_a_title_next_to_bytes_that_are_not_utf8(
    workshop_repo, run_workshop
) -> None:
    guide = workshop_repo / "checkpoints" / "step-2" / "README.md"
    guide.write_bytes(guide.read_bytes() + b"\nCaf\xe9\n")
    code, out, err = run_workshop("status", "--all", cwd=workshop_repo)
    assert (code, err) == (0, "")
    assert "✗ Step 2 — Async tasks (0/1)" in out


def test_errors_are_one_line(workshop_repo, run_workshop, tmp_path: Path) -> None:
    code, out, err = run_workshop("check", "7", cwd=workshop_repo)
    assert (code, out) == (2, "")
    assert err == "workshop: unknown step '7': valid steps are 0, 1, 2\n"

    code, _, err = run_workshop("check", "--checkpoint", "x", cwd=workshop_repo)
    assert code == 2 and "valid steps are 0, 1, 2" in err

    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for command in ("check", "status"):
        code, _, err = run_workshop(command, cwd=outside)
        assert code == 2
        assert err.startswith("workshop: not inside the workshop")
        assert err.count("\n") == 1

    shutil.rmtree(workshop_repo / "app")
    code, _, err = run_workshop("status", cwd=workshop_repo)
    assert code == 2 and "no app/ folder" in err and err.count("\n") == 1


def test_a_zip_download_checks_and_hints_but_goto_needs_git(
    workshop_repo, run_workshop, tmp_path: Path
) -> None:
    """Without .git (a ZIP download), only the commands that need git say so."""
    unzipped = tmp_path / "unzipped"
    shutil.copytree(workshop_repo, unzipped, ignore=shutil.ignore_patterns(".git"))
    code, out, err = run_workshop("check", cwd=unzipped / "app")
    assert (code, err) == (1, "") and "✗ Step 1" in out
    code, out, err = run_workshop("hint", "1", cwd=unzipped)
    assert (code, err) == (0, "") and "hint 1 of 2" in out
    for command in (["goto", "1"], ["restore"], ["diff", "1"], ["tags"]):
        code, out, err = run_workshop(*command, cwd=unzipped)
        assert (code, out) == (2, ""), command
        assert f"'workshop {command[0]}' needs git" in err and err.count("\n") == 1


def test_the_spare_has_pytests_plugins_imported_before_the_save(
    workshop_repo, run_workshop
) -> None:
    """pytest imports (and rewrites) installed plugins at every start, a third
    of a second: the spare child does it while waiting; pytest says nothing."""
    import subprocess
    import sys

    probe = (
        "import sys; from importlib.metadata import entry_points;"
        "from workshop.checks.child import warm_up; warm_up();"
        "plugins = [p.module for p in entry_points(group='pytest11')];"
        "print(plugins, [p for p in plugins if p not in sys.modules])"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    plugins, missing = done.stdout.strip().rsplit("] [", 1)
    assert plugins != "[", "no pytest plugin installed: nothing to check"
    assert missing == "]", done.stdout
    code, out, err = run_workshop("check", "0", "--verbose", cwd=workshop_repo)
    assert code == 0
    assert "PytestAssertRewriteWarning" not in out + err


def test_one_error_through_every_step_offers_the_hint_of_the_step_asked_for(
    workshop_repo, run_workshop
) -> None:
    """`check 2` on an app every suite fails the same way: step 0 shows the
    error first only because its suite reached the code first; the hint is
    step 2's, the one being worked on."""
    (workshop_repo / "app" / "main.py").write_text("STEP = = 0\n")
    code, out, _ = run_workshop("check", "2", cwd=workshop_repo)
    assert code == 1
    assert "(the same error as step 0)" in out
    assert "Stuck? Run: workshop hint 2" in out


def test_checking_ahead_says_which_steps_are_not_yours_yet(
    workshop_repo, run_workshop
) -> None:
    """`check 2` on step 1: step 2 is red because the learner is not there yet,
    and the output says so in one line, with the guide of the step they are on;
    the hint stays the step they are on."""
    assert run_workshop("check", cwd=workshop_repo).code == 1  # on step 1
    code, out, _ = run_workshop("check", "2", cwd=workshop_repo)
    assert code == 1
    assert (
        "Step 2: after step 1, the step you are on, so red until you get there"
        " (step 1's guide: checkpoints/step-1/README.md)." in out
    )
    assert "Stuck? Run: workshop hint 1" in out
    catch_up(workshop_repo, 1)
    assert run_workshop("check", cwd=workshop_repo).code == 0  # step 1 done
    code, out, _ = run_workshop("check", "2", cwd=workshop_repo)
    assert code == 1 and "after step" not in out  # step 2 is the learner's now
    assert "Stuck? Run: workshop hint 2" in out


def test_one_first_line_is_one_error_whatever_each_test_adds(
    workshop_repo, run_workshop, git
) -> None:
    """Two steps whose first failure starts with the same line (the app's error,
    the fix) and goes on with each test's own reading: one error, shown once,
    at the step you are on; the earlier step only names it."""
    for n in (0, 1):
        suite = workshop_repo / "tests" / "steps" / f"test_step_{n}.py"
        suite.write_text(
            "import pytest\n\n\n"
            f"def test_step_{n}() -> None:\n"
            f'    """Step {n} works."""\n'
            f"    pytest.fail('app/main.py:1: the same fix\\nwhat test {n} saw')\n"
        )
    git(workshop_repo, "commit", "-qam", "the course's suites")  # not the learner's
    (workshop_repo / ".workshop").mkdir(exist_ok=True)
    (workshop_repo / ".workshop" / "progress.json").write_text('{"done": 0}\n')
    code, out, _ = run_workshop("check", cwd=workshop_repo)
    assert code == 1
    assert out.count("the same fix") == 1, out
    assert "(step 0 fails too, with the same error)" in out


def test_the_step_you_are_on_red_gets_the_hint_whatever_broke_before_it(
    workshop_repo, run_workshop
) -> None:
    """On step 2, a change that reddens steps 0 to 2 (each its own way): the
    hint is step 2's, the step being worked on, not step 0's."""
    (workshop_repo / ".workshop").mkdir(exist_ok=True)
    (workshop_repo / ".workshop" / "progress.json").write_text('{"done": 1}\n')
    main = workshop_repo / "app" / "main.py"
    main.write_text(main.read_text().replace("STEP = 0", "STEP = -1"))
    code, out, _ = run_workshop("check", "2", cwd=workshop_repo)
    assert code == 1
    assert "✗ Step 0" in out and "✗ Step 2" in out
    assert "Stuck? Run: workshop hint 2" in out


def test_a_long_first_line_keeps_its_fix() -> None:
    """The first line (what is wrong, then the fix) may run to twice the width
    before it is cut, so a fix after a long explanation stays; later lines are
    cut at the width."""
    from workshop.checks.plugin import LINE_WIDTH, shorten

    first = "no audit entry: " + "the row was dropped " * 15 + "fix: write `with db:`"
    assert LINE_WIDTH < len(first) < 2 * LINE_WIDTH
    line, later = shorten(first + "\n" + "y" * 500).splitlines()
    assert line == first
    assert len(later) == LINE_WIDTH and later.endswith("…")
    assert len(shorten("x" * 900)) == 2 * LINE_WIDTH
