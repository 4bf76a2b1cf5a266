"""How `check` and `status` print step results on the terminal.

Each root cause is printed once: a failure message that repeats (the same
load error in every step, the same exception in every test) is named once
and then counted.
"""

from __future__ import annotations

from workshop.checks.results import Failure, StepResult
from workshop.project import Step
from workshop.ui import FAIL, PASS, SKIP, bad, indent, ok, plural, style


def span(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"step {numbers[0]}"
    return f"steps {numbers[0]} to {numbers[-1]}"


def root_cause(result: StepResult) -> str | None:
    """The first thing wrong with a step, as its first line (the one a learner
    reads): what makes two steps fail alike, whatever each test adds below."""
    if result.messages:
        return result.messages[0].partition("\n")[0]
    return result.failures[0].message.partition("\n")[0] if result.failures else None


def first_problem(result: StepResult) -> dict[str, str | None] | None:
    """A red step's first problem as data: the check in the learner's words
    (None when the suite or app/ did not even load), its message, the test."""
    if result.messages:
        return {"check": None, "message": result.messages[0], "test": None}
    if result.failures:
        first = result.failures[0]
        return {
            "check": first.expectation,
            "message": first.message,
            "test": first.test,
        }
    return None


def state(result: StepResult | None) -> str:
    """'green', 'red' or 'not checked' (not run: the steps after yours)."""
    if result is None or not result.ran:
        return "not checked"
    return "green" if result.ok else "red"


def headline(result: StepResult) -> str:
    """The first problem of a red step, in one line."""
    if result.messages:
        return result.messages[0].splitlines()[0]
    return result.failures[0].expectation if result.failures else ""


def first_cause(result: StepResult, width: int = 160) -> str:
    """A red step's first problem in one line, `where: what`, for a step that
    is not the one in focus: shown, but never a second wall of details."""
    if result.messages:
        text, where = result.messages[0], None
    else:
        first = result.failures[0]
        text, where = first.message, first.location
    line = (text.strip().splitlines() or [""])[0]
    if not line and result.failures:
        line = result.failures[0].expectation
    line = f"{where}: {line}" if where else line
    if len(line) > width:
        line = line[: width - 1] + "…"
    return f"      {bad(FAIL)} {style(line, 'dim')}"


def step_line(step: Step, result: StepResult, here: bool = False) -> str:
    total = result.passed + len(result.failures)
    count = style(f"({result.passed}/{total})", "dim") if total else ""
    marker = style("  ← you are here", "bold") if here else ""
    if not result.ran:
        return f"  {style(SKIP, 'dim')} {step.label}{marker}"
    mark = ok(PASS) if result.ok else bad(FAIL)
    line = f"  {mark} {' '.join(filter(None, [step.label, count]))}{marker}"
    return "\n".join([line, *skip_lines(result)])


def skip_lines(result: StepResult) -> list[str]:
    """One dim line per reason a test of the step was skipped, counted."""
    reasons = dict.fromkeys(result.skipped)
    counted = [(result.skipped.count(r), r) for r in reasons]
    lines = [f"      - {plural(n, 'check')} skipped: {r}" for n, r in counted]
    return [style(line, "dim") for line in lines]


def print_details(result: StepResult) -> None:
    """Every problem of a step; failures with the same message once, counted."""
    for error in result.messages:
        print(f"      {bad(FAIL)} {indent(error, 8)}")
    seen: dict[str, int] = {}
    for failure in result.failures:
        if failure.message in seen:
            seen[failure.message] += 1
            continue
        seen[failure.message] = 0
        print(f"      {bad(FAIL)} {failure.expectation}")
        print(located(failure))
    repeats = sum(seen.values())
    if repeats:
        more = plural(repeats, "more check")
        print(style(f"          (and {more} with the same message)", "dim"))


def located(failure: Failure) -> str:
    """The message under a failure, its first line led by `path:line: `: the
    form editors, problem matchers and terminals turn into a link."""
    pad = " " * 10
    if not failure.location:
        return style(indent(failure.message, 10, first=True), "dim")
    first, _, rest = failure.message.partition("\n")
    lines = [f"{pad}{failure.location}: {style(first, 'dim')}"]
    if rest:
        lines.append(style(indent(rest, 10, first=True), "dim"))
    return "\n".join(lines)


def same_error_note(numbers: list[int]) -> str:
    """'(steps 0 to 2 fail too, with the same error)'."""
    verb = "fails" if len(numbers) == 1 else "fail"
    return f"  ({span(numbers)} {verb} too, with the same error)"
