"""How `check` and `status` print a step's result on the terminal."""

from __future__ import annotations

from workshop.project import Step
from workshop.results import StepResult
from workshop.ui import FAIL, PASS, SKIP, bad, indent, ok, style


def span(numbers: list[int]) -> str:
    return f"step {numbers[0]}" if len(numbers) == 1 else f"steps 0 to {numbers[-1]}"


def print_step(
    step: Step, result: StepResult, *, details: bool, here: bool = False
) -> None:
    total = result.passed + len(result.failures)
    count = style(f"({result.passed}/{total})", "dim") if total else ""
    marker = style("  ← you are here", "bold") if here else ""
    if not result.ran:
        print(f"  {style(SKIP, 'dim')} {step.label}{marker}")
        return
    mark = ok(PASS) if result.ok else bad(FAIL)
    print(f"  {mark} {' '.join(filter(None, [step.label, count]))}{marker}")
    if not details:
        return
    for error in result.messages:
        print(f"      {bad(FAIL)} {indent(error, 8)}")
    for failure in result.failures:
        print(f"      {bad(FAIL)} {failure.expectation}")
        print(style(indent(failure.message, 10, first=True), "dim"))
