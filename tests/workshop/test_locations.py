"""`workshop check` names where each failure is, as `path:line: message`, and the
problem matchers of .vscode/tasks.json turn that output into Problems."""

from __future__ import annotations

import re
from typing import Any

import pytest
from project.project_files import ROOT, load_jsonc

Problem = tuple[str, int, str]  # (file, line, message)


def matchers(task: str) -> list[dict[str, Any]]:
    tasks = load_jsonc(ROOT / ".vscode" / "tasks.json")["tasks"]
    [found] = [t for t in tasks if t["label"] == f"workshop: {task}"]
    return found["problemMatcher"]


def problems(output: str, matcher: dict[str, Any]) -> list[Problem]:
    """What VS Code finds with `matcher`: a window of as many lines as the
    matcher has patterns slides over the output, and each pattern must match
    its line; file, line and message come from whichever pattern has them."""
    patterns = matcher["pattern"]
    patterns = patterns if isinstance(patterns, list) else [patterns]
    lines = output.splitlines()
    found = []
    for start in range(len(lines) - len(patterns) + 1):
        fields: dict[str, str] = {}
        for pattern, line in zip(patterns, lines[start:], strict=False):
            match = re.search(pattern["regexp"], line)
            if match is None:
                break
            for key in ("file", "line", "message"):
                if key in pattern:
                    fields[key] = match.group(pattern[key])
        else:
            found.append((fields["file"], int(fields["line"]), fields["message"]))
    return found


def all_problems(output: str, task: str = "check") -> list[Problem]:
    return [p for matcher in matchers(task) for p in problems(output, matcher)]


@pytest.mark.parametrize("color", ["NO_COLOR", "FORCE_COLOR"])
def test_the_problem_matchers_find_the_failure(
    workshop_repo, run_workshop, color: str
) -> None:
    """In colour or not, with the check task's matchers and the watch task's:
    the problem is the expectation, at the line of the test that failed."""
    env = {"NO_COLOR": None, "FORCE_COLOR": None, color: "1"}
    code, out, _ = run_workshop("check", "1", cwd=workshop_repo, env=env)
    assert code == 1
    assert ("\033[" in out) == (color == "FORCE_COLOR")
    if color == "NO_COLOR":
        line = "          tests/steps/test_step_1.py:6: assert 0 >= 1"
        assert line in out.splitlines()
    for task in ("check", "watch"):
        found = all_problems(out, task)
        expected = ("tests/steps/test_step_1.py", 6, "The app has reached step 1.")
        assert found == [expected], task
    assert (workshop_repo / found[0][0]).is_file()


def test_a_broken_import_is_one_problem_in_app(workshop_repo, run_workshop) -> None:
    (workshop_repo / "app" / "main.py").write_text("STEP = 0\nmissing_name\n")
    code, out, _ = run_workshop("check", "0", cwd=workshop_repo)
    assert code == 1
    [(file, line, message)] = set(all_problems(out))
    assert (file, line) == ("app/main.py", 2)
    assert message.startswith("NameError: name 'missing_name' is not defined")


def test_a_hang_points_at_the_line_in_the_app_it_was_stuck_on(
    workshop_repo, run_workshop
) -> None:
    """The location is from the checkout's root, so it opens even for a checkpoint."""
    main = workshop_repo / "checkpoints" / "step-1" / "app" / "main.py"
    main.write_text("STEP = 1\n\n\ndef hello():\n    while True:\n        pass\n")
    suite = workshop_repo / "tests" / "steps" / "test_step_1.py"
    suite.write_text(
        "from app.main import hello\n\n\ndef test_hello():\n"
        '    """hello() answers."""\n    hello()\n'
    )
    env = {"WORKSHOP_TEST_LIMIT": "1"}
    code, out, _ = run_workshop(
        "check", "1", "--checkpoint", "1", cwd=workshop_repo, env=env
    )
    assert code == 1
    assert "stuck at app/main.py:" in out
    [(file, line, message)] = all_problems(out)
    assert file == "checkpoints/step-1/app/main.py"
    assert line in (5, 6)
    assert message == "hello() answers."
