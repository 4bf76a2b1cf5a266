"""`workshop status --json` (progress as data) and `--summary FILE` (for CI)."""

from __future__ import annotations

import json

import workshop


def test_status_json_is_progress_as_data(workshop_repo, run_workshop) -> None:
    """Steps with green/red, the current step, the first failing check and its
    message, the tool's and the course's version; nothing else on stdout."""
    code, out, err = run_workshop("status", "--json", cwd=workshop_repo)

    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data["tool"] == {"name": "workshop", "version": workshop.__version__}
    assert data["course"] == {"version": None, "source": None, "commit": None}
    assert data["current_step"] == 1
    assert data["finished"] is False
    zero, one, two = data["steps"]
    assert zero == {
        "number": 0,
        "title": "Step 0 — The starting point",
        "state": "green",
        "passed": 1,
        "failed": 0,
        "first_failure": None,
    }
    assert one["state"] == "red"
    assert (one["passed"], one["failed"]) == (0, 1)
    assert one["first_failure"]["check"] == "The app has reached step 1."
    assert "assert 0 >= 1" in one["first_failure"]["message"]
    assert one["first_failure"]["test"].endswith("test_step_1.py::test_step_1")
    assert two["state"] == "not checked"


def test_status_json_all_and_a_finished_app(workshop_repo, run_workshop) -> None:
    main = workshop_repo / "app" / "main.py"
    main.write_text(main.read_text().replace("STEP = 0", "STEP = 2"))
    code, out, _ = run_workshop("status", "--json", "--all", cwd=workshop_repo)
    data = json.loads(out)
    assert code == 0
    assert [s["state"] for s in data["steps"]] == ["green"] * 3
    assert (data["current_step"], data["finished"]) == (None, True)


def test_status_json_names_a_load_error_once(workshop_repo, run_workshop) -> None:
    (workshop_repo / "app" / "main.py").write_text("def broken(:\n")
    code, out, _ = run_workshop("status", "--json", cwd=workshop_repo)
    data = json.loads(out)
    assert code == 0
    assert data["current_step"] == 0
    failure = data["steps"][0]["first_failure"]
    assert failure["check"] is None
    assert failure["message"].startswith("app/main.py:1: SyntaxError")


def test_status_json_reads_the_course_version_and_source(
    workshop_repo, run_workshop
) -> None:
    (workshop_repo / "pyproject.toml").write_text(
        '[project]\nname = "w"\nversion = "1.2.0"\n\n'
        '[tool.workshop]\nsource = "https://example.invalid/course.git"\n'
    )
    (workshop_repo / ".workshop-course").write_text(
        'source = "/elsewhere"\ncommit = "' + "a" * 40 + '"\n'
    )
    _, out, _ = run_workshop("status", "--json", cwd=workshop_repo)
    assert json.loads(out)["course"] == {
        "version": "1.2.0",
        "source": "https://example.invalid/course.git",
        "commit": "a" * 40,
    }


def test_status_summary_appends_a_markdown_table(
    workshop_repo, run_workshop, tmp_path
) -> None:
    """In CI the table goes to $GITHUB_STEP_SUMMARY: appended (other steps
    write there too), while the log keeps the usual text."""
    summary = tmp_path / "summary.md"
    summary.write_text("earlier\n")

    code, out, _ = run_workshop(
        "status", "--all", "--summary", str(summary), cwd=workshop_repo
    )

    assert code == 0
    assert "You are on step 1" in out
    text = summary.read_text()
    assert text.startswith("earlier\n")
    assert "| step | result | checks | first problem |" in text
    assert "| Step 0 — The starting point | ✅ passes | 1/1 |  |" in text
    assert "| **Step 1 — Respond first** | ❌ fails (you are here) | 0/1 |" in text
    assert "The app has reached step 1." in text
    assert "| Step 2 — Async tasks | ❌ fails | 0/1 |" in text
    assert "You are on step 1: read `checkpoints/step-1/README.md`" in text


def test_summary_escapes_table_characters(workshop_repo, run_workshop, tmp_path):
    suite = workshop_repo / "tests" / "steps" / "test_step_1.py"
    suite.write_text(
        "def test_step_1():\n"
        '    """A | pipe and a\\nnew line."""\n'
        "    assert False, 'x | y'\n"
    )
    summary = tmp_path / "summary.md"
    run_workshop("status", "--summary", str(summary), cwd=workshop_repo)
    [row] = [line for line in summary.read_text().splitlines() if "Step 1" in line]
    assert row.count("|") - row.count("\\|") == 5
