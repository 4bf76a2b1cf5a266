"""`workshop verify` on a real temporary workshop repo, and each way it can fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import workshop


def table_row(out: str, name: str) -> list[str]:
    """The cells of the table row of `name` (split on runs of two spaces)."""
    line = next(line for line in out.splitlines() if line.startswith(name + " "))
    return [cell.strip() for cell in line.split("  ") if cell.strip()]


def test_a_sound_workshop_verifies(workshop_repo, run_workshop) -> None:
    code, out, err = run_workshop("verify", cwd=workshop_repo)
    assert code == 0, out + err
    assert table_row(out, "step-0") == ["step-0", "✓ ok", "✓ 1 block", "✓ 1 test", "-"]
    assert table_row(out, "step-2") == [
        "step-2",
        "✓ ok",
        "✓ 1 block",
        "✓ 3 tests",
        "✓ yes",
    ]
    assert "✓ app/ equals checkpoints/step-0/app" in out
    assert "All checkpoints, steps, guides and app/ verified" in out
    assert out.splitlines()[-1] == "verify: 11 passed, 0 failed"


def test_a_step_tag_checkout_verifies_against_its_checkpoint(
    workshop_repo, run_workshop, git
) -> None:
    """On `git checkout step-2`, app/ is checkpoint 2, and that is what it must be."""
    assert run_workshop("tags", cwd=workshop_repo)[0] == 0
    git(workshop_repo, "checkout", "--quiet", "step-2")
    code, out, err = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert code == 0, out + err
    assert "✓ app/ equals checkpoints/step-2/app" in out
    git(workshop_repo, "checkout", "--quiet", "step-1")
    (workshop_repo / "app" / "main.py").write_text("STEP = 2\n")
    code, out, _ = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert code == 1
    assert "✗ app/ equals checkpoints/step-1/app" in out


def break_checkpoint_2(root: Path) -> None:
    """Checkpoint 2 fails suite 2, yet its guide's code still matches."""
    main = root / "checkpoints" / "step-2" / "app" / "main.py"
    main.write_text(main.read_text() + "STEP = 1\n")


def test_a_checkpoint_that_fails_its_suites(workshop_repo, run_workshop) -> None:
    break_checkpoint_2(workshop_repo)
    code, out, _ = run_workshop("verify", cwd=workshop_repo)
    assert code == 1
    assert table_row(out, "step-2")[3] == "✗ step 2"
    assert "step-2: step 2: tests/steps/test_step_2.py::test_step_2 failed" in out
    assert "verify failed: 1 problem" in out


def test_a_suite_that_is_green_before_its_step(workshop_repo, run_workshop) -> None:
    suite = workshop_repo / "tests" / "steps" / "test_step_2.py"
    suite.write_text(suite.read_text().replace("STEP >= 2", "STEP >= 1"))
    code, out, _ = run_workshop("verify", cwd=workshop_repo)
    assert code == 1
    assert table_row(out, "step-2")[4] == "✗ passes on step-1"
    assert "its suite passes on checkpoint step-1: it must fail there" in out


def test_missing_suite_and_missing_guide(workshop_repo, run_workshop) -> None:
    (workshop_repo / "tests" / "steps" / "test_step_1.py").unlink()
    (workshop_repo / "checkpoints" / "step-2" / "README.md").unlink()
    code, out, _ = run_workshop("verify", cwd=workshop_repo)
    assert code == 1
    assert "checkpoints/step-2/README.md (the step's guide) is missing" in out
    assert "suite of step 1: missing suite tests/steps/test_step_1.py" in out
    assert "cannot prove red on step-0: missing suite" in out
    assert table_row(out, "step-2")[1:3] == ["✗ missing", "-"]


def test_guide_shape_and_snippets(workshop_repo, run_workshop) -> None:
    guide = workshop_repo / "checkpoints" / "step-1" / "README.md"
    text = guide.read_text().replace("## Theory\n", "").replace("STEP = 1", "STEP = 9")
    guide.write_text(text)
    code, out, _ = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert code == 1
    assert "checkpoints/step-1/README.md: no '## Theory' section" in out
    assert (
        "checkpoints/step-1/README.md line 25: `STEP = 9` is not in app/main.py" in out
    )
    assert table_row(out, "step-1") == [
        "step-1",
        "✗ no '## Theory' section",
        "✗ 1 of 1 differ",
    ]
    assert "verify failed: 2 problems" in out


def test_a_guide_or_snippet_file_that_is_not_utf8(workshop_repo, run_workshop) -> None:
    guide = workshop_repo / "checkpoints" / "step-1" / "README.md"
    start = len(guide.read_bytes()) + len(b"\nCaf")
    guide.write_bytes(guide.read_bytes() + b"\nCaf\xe9, saved as Latin-1\n")
    main = workshop_repo / "checkpoints" / "step-2" / "app" / "main.py"
    offset = len(main.read_bytes()) + len(b"# caf")
    main.write_bytes(main.read_bytes() + b"# caf\xe9\n")
    code, out, err = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert (code, err) == (1, "")
    assert (
        "checkpoints/step-1/README.md is not UTF-8 text "
        f"(byte 0xe9 at offset {start}): save it as UTF-8"
    ) in out
    assert (
        "checkpoints/step-2/README.md line 25: app/main.py is not UTF-8 text "
        f"(byte 0xe9 at offset {offset})"
    ) in out
    assert table_row(out, "step-1")[1] == "✗ not UTF-8"
    assert "verify failed: 2 problems" in out


def test_app_must_equal_step_0(workshop_repo, run_workshop) -> None:
    app = workshop_repo / "app"
    (app / "__pycache__").mkdir()
    (app / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    code, out, _ = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert code == 0, out  # caches do not count

    (app / "main.py").write_text("STEP = 0\n")
    (app / "extra.py").write_text("")
    (app / "notes.txt").unlink()
    code, out, _ = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert code == 1
    assert "✗ app/ equals checkpoints/step-0/app" in out
    for problem in ("notes.txt is missing", "extra.py is extra", "main.py differs"):
        assert f"app/: {problem}" in out


def test_fast_skips_the_suites(workshop_repo, run_workshop) -> None:
    break_checkpoint_2(workshop_repo)
    code, out, _ = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert code == 0
    assert "passes 0..N" not in out
    assert "All guides and app/ verified" in out


def test_fast_needs_only_the_standard_library(workshop_repo) -> None:
    """The pre-commit hook may run it with a bare Python: no site-packages."""
    source = str(Path(workshop.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": source}
    bare = [sys.executable, "-S"]
    probe = subprocess.run([*bare, "-c", "import pytest"], env=env, capture_output=True)
    assert probe.returncode != 0  # the probe proves pytest is really out of reach
    done = subprocess.run(
        [*bare, "-m", "workshop", "verify", "--fast"],
        cwd=workshop_repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "All guides and app/ verified" in done.stdout


def test_step_numbering(workshop_repo, run_workshop) -> None:
    checkpoints = workshop_repo / "checkpoints"
    (checkpoints / "step-2").rename(checkpoints / "step-3")
    code, out, _ = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert code == 1
    assert "checkpoints are not step-0, step-1, ... in a row: [0, 1, 3]" in out
    assert "tests/steps/test_step_2.py has no checkpoint (checkpoints/step-2)" in out


def test_bad_jobs_and_outside_a_checkout(
    workshop_repo, run_workshop, tmp_path: Path
) -> None:
    code, out, err = run_workshop("verify", "--jobs", "0", cwd=workshop_repo)
    assert (code, out) == (2, "")
    assert err == "workshop: --jobs must be at least 1, not 0\n"
    outside = tmp_path / "plain"
    outside.mkdir()
    code, _, err = run_workshop("verify", "--fast", cwd=outside)
    assert code == 2 and err.startswith("workshop: not inside the workshop")


def test_skip_app_leaves_a_learners_app_alone(workshop_repo, run_workshop) -> None:
    """--skip-app: a learner's own app/ does not fail verify (their template copy)."""
    (workshop_repo / "app" / "main.py").write_text("STEP = 1  # my work\n")
    code, out, _ = run_workshop("verify", "--fast", cwd=workshop_repo)
    assert code == 1
    code, out, err = run_workshop("verify", "--fast", "--skip-app", cwd=workshop_repo)
    assert code == 0, out + err
    assert "app/ equals checkpoints/step-0/app: not checked (--skip-app)" in out


CRASH_TIER = '''\
def test_step_2_under_a_real_kill() -> None:
    """The crash tier of step 2 (here: red, to be seen)."""
    assert False, "the crash tier ran"
'''


def test_the_crash_tier_runs_in_verify_and_on_demand(
    workshop_repo, run_workshop
) -> None:
    """test_step_N_crash.py: not in `workshop check` (seconds), in `workshop
    check --crash` and in `workshop verify`, counted under step N."""
    suites = workshop_repo / "tests" / "steps"
    (suites / "test_step_2_crash.py").write_text(CRASH_TIER, encoding="utf-8")
    code, out, _ = run_workshop("check", "2", "--checkpoint", "2", cwd=workshop_repo)
    assert code == 0, out
    code, out, _ = run_workshop(
        "check", "2", "--checkpoint", "2", "--crash", cwd=workshop_repo
    )
    assert code == 1 and "the crash tier ran" in out, out
    code, out, _ = run_workshop("verify", cwd=workshop_repo)
    assert code == 1
    assert "step 2: tests/steps/test_step_2_crash.py::test_step_2_under" in out


NOTING_TIER = """\
import os
from pathlib import Path


def test_step_2_under_a_real_kill() -> None:
    \"\"\"The crash tier of step 2 (here: notes the checkpoint it ran on).\"\"\"
    runs = Path(__file__).resolve().parents[2] / "crash-runs.txt"
    with runs.open("a", encoding="utf-8") as notes:
        notes.write(Path(os.environ["WORKSHOP_APP_DIR"]).name + "\\n")
"""


def test_the_next_steps_crash_tier_is_not_run_to_see_it_red(
    workshop_repo, run_workshop
) -> None:
    """Suite K+1 is seen red on checkpoint K by its fast tier: its crash tier
    runs on checkpoint K+1 and on, never on K (step 9's took 77 s there)."""
    suites = workshop_repo / "tests" / "steps"
    (suites / "test_step_2_crash.py").write_text(NOTING_TIER, encoding="utf-8")
    code, out, _ = run_workshop("verify", cwd=workshop_repo)
    assert code == 0, out
    assert table_row(out, "step-2")[4] == "✓ yes", out  # red on step-1, still
    runs = (workshop_repo / "crash-runs.txt").read_text(encoding="utf-8")
    assert runs.split() == ["step-2"], runs


WAITING_SUITE = """\
from app.main import STEP


def test_step_2() -> None:
    \"\"\"The app has reached step 2.\"\"\"
    assert STEP >= 2, "the page has no list\\n(gave up after 3 s)"
"""


def test_a_red_suite_that_waits_out_a_bound_fails_verify(
    workshop_repo, run_workshop
) -> None:
    """Suite K+1 must fail on checkpoint K on what happened, at once: a
    message that a wait ran out ('gave up after 3 s') is a red run that cost
    the learner a timeout."""
    suites = workshop_repo / "tests" / "steps"
    (suites / "test_step_2.py").write_text(WAITING_SUITE, encoding="utf-8")
    code, out, _ = run_workshop("verify", cwd=workshop_repo)
    assert code == 1, out
    assert table_row(out, "step-2")[4] == "✗ waits on step-1", out
    assert (
        "step-2: its suite waits out a bound on checkpoint step-1, where it must "
        "fail at once on what happened: tests/steps/test_step_2.py::test_step_2: "
        "(gave up after 3 s)"
    ) in out, out


def test_the_last_checkpoint_starts_first(workshop_repo, monkeypatch) -> None:
    """It runs the most suites and the crash tiers: started last, it ran on
    alone long after the others were done."""
    from workshop.commands import verify
    from workshop.project import all_steps

    started: list[int] = []
    monkeypatch.setattr(
        verify, "run_checkpoint", lambda _, row, *__: started.append(row.step.number)
    )
    rows = [verify.Row(step) for step in all_steps(workshop_repo)]
    verify.check_suites(workshop_repo, rows, jobs=1)
    assert started == [2, 1, 0]


def test_only_runs_those_checkpoints_suites(workshop_repo, run_workshop) -> None:
    break_checkpoint_2(workshop_repo)
    code, out, _ = run_workshop("verify", "--only", "1", cwd=workshop_repo)
    assert code == 0, out
    assert table_row(out, "step-2")[3] == "-"  # not run
    code, out, err = run_workshop("verify", "--only", "7", cwd=workshop_repo)
    assert code != 0 and "--only: no such checkpoint" in out + err
