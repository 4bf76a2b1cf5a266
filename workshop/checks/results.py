"""What running a step's checks found: passed tests, failures in the learner's
words, and problems that kept the checks from running at all."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Failure:
    """One failed test: what was expected, in the learner's words, and why not."""

    test: str  # pytest node id
    expectation: str  # the test's docstring (or its name when it has none)
    message: str  # the essential assertion message, a few lines at most
    # 'tests/steps/test_step_1.py:42' (from the checkout's root): where it failed,
    # so the terminal, an editor's problem matcher or a click can jump there
    location: str | None = None


@dataclass
class StepResult:
    number: int
    ran: bool = False  # False: not run (stopped after a red step)
    passed: int = 0
    failures: list[Failure] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why, one per skipped test
    errors: list[str] = field(default_factory=list)  # the suite or app did not load
    problem: str | None = None  # no suite to run: missing, empty, pytest broken

    @property
    def ok(self) -> bool:
        """Green: every test of the step ran and passed."""
        return self.ran and not self.failures and not self.errors and not self.problem

    @property
    def red(self) -> bool:
        """Red: the suite ran, and a test failed or the suite could not import."""
        return self.ran and not self.problem and bool(self.failures or self.errors)

    @property
    def messages(self) -> list[str]:
        return [self.problem] if self.problem else self.errors

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepResult:
        data = dict(data)
        failures = [Failure(**f) for f in data.pop("failures")]
        return cls(**data, failures=failures)
