"""`workshop verify`: prove every checkpoint, every step and every guide.

1. Each checkpoint K passes the suites of steps 0..K.
2. Red to green: the suite of step K+1 fails on checkpoint K, at once: no
   message of it is a wait that ran out (`WAITED`), so a learner's red run
   costs no timeout.
3. app/ equals checkpoints/step-0/app (what learners start from), or
   checkpoint N on a commit `workshop tags` made for step-N; `--skip-app`
   leaves it out (a learner's copy, where app/ is their work).
4. Each guide has the required sections and its code blocks match its checkpoint.
5. Each CodeTour (.tours/step-N.tour) lands on checkpoint N-1: every stop's
   pattern matches exactly one line there (workshop/course/tours.py).

(1) and (2) for one checkpoint are one supervised run of the suites
(workshop/checks/suites.py), run in parallel, one per checkpoint; (1) with
the crash tiers of steps 0..K, (2) with the fast tier of step K+1 alone.
`--fast` does only (3), (4) and (5), with the standard library alone: the
pre-commit hook runs it with whatever Python is at hand.
"""

from __future__ import annotations

import itertools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from workshop.checks.results import StepResult
from workshop.checks.suites import Limits, run_suites
from workshop.course import tours
from workshop.course.guide import Guide, NotUtf8
from workshop.course.snippets import check_guide as check_snippets
from workshop.course.tagging import step_of_commit
from workshop.errors import WorkshopError
from workshop.project import APP, SUITES, Step, all_steps
from workshop.ui import bad, ok, plural, style

# A hang still ends, but CI's loaded machines get more room than a learner.
AUTHOR_LIMITS = Limits(importing=20, collecting=60, test=30)
IGNORED_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
IGNORED_SUFFIXES = (".pyc", ".pyo")
IGNORED_NAMES = frozenset({".DS_Store"})
# the words of a message that waited out a bound instead of naming what happened
WAITED = ("gave up after", "no answer", "did not finish in")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check of verify: passed, or failed with a problem."""

    problem: str = ""

    @property
    def passed(self) -> bool:
        return not self.problem


PASSED = Verdict()


@dataclass
class Row:
    """What verify found out about one step."""

    step: Step
    # None: not checked (yet)
    green: Verdict | None = None  # the checkpoint passes the suites 0..N
    red: Verdict | None = None  # the suite N fails on checkpoint N-1
    guide: Verdict | None = None  # the guide has its sections
    snippets: Verdict | None = None  # its code blocks match the checkpoint
    tour: Verdict | None = None  # its CodeTour lands on checkpoint N-1
    blocks: int = 0
    tests: int = 0
    details: list[str] = field(default_factory=list)


def verify(
    root: Path,
    *,
    fast: bool = False,
    skip_app: bool = False,
    jobs: int = 1,
    only: list[int] | None = None,
) -> int:
    """`only`: run the suites of these checkpoints alone (and each next step's
    suite on it, to see it red); the rest of verify is unchanged."""
    started = time.monotonic()
    found = all_steps(root)
    if jobs < 1:
        raise WorkshopError(f"--jobs must be at least 1, not {jobs}")
    rows = [Row(step) for step in found]
    problems = numbering_problems(root, found)
    start = starting_step(root, found)
    app_diff = [] if skip_app else compare_trees(root / APP, start.app)
    for row in rows:
        check_guide(row)
    problems += check_tours(root, rows)
    if only and not set(only) <= {row.step.number for row in rows}:
        raise WorkshopError(f"--only: no such checkpoint among {sorted(only)}")
    if not fast:
        check_suites(root, rows, jobs, only)
    print_table(rows, fast=fast)
    where = f"{APP}/ equals checkpoints/{start.name}/app"
    if skip_app:
        print(f"\n{mark(None)} {where}: not checked (--skip-app)")
    else:
        print(f"\n{mark(not app_diff)} {where}")
    for line in app_diff:
        problems.append(f"{APP}/: {line}")
    for row in rows:
        problems += [f"{row.step.name}: {line}" for line in row.details]
    elapsed = time.monotonic() - started
    extra_failed = len(problems) - sum(len(row.details) for row in rows)
    if problems:
        print(f"\n{style('Problems:', 'bold')}")
        for problem in problems:
            print(f"  {bad('✗')} {problem}")
        failed = f"verify failed: {plural(len(problems), 'problem')}"
        print(f"\n{bad(failed)} ({elapsed:.1f} s)")
        print_counts(rows, extra_failed)
        return 1
    what = "guides and app/" if fast else "checkpoints, steps, guides and app/"
    print(f"\n{ok(f'All {what} verified')} ({elapsed:.1f} s)")
    print_counts(rows, extra_failed)
    return 0


def starting_step(root: Path, found: list[Step]) -> Step:
    """The checkpoint app/ must equal: step 0 on a branch, step N on tag step-N.

    `workshop tags` makes each step-N commit with app/ = checkpoint N, so a
    learner's `git checkout step-3` still verifies.
    """
    number = step_of_commit(root)
    return next((s for s in found if s.number == number), found[0])


def print_counts(rows: list[Row], extra_failed: int) -> None:
    """One closing line in the form CI tools read: `verify: N passed, M failed`."""
    verdicts = [
        value
        for row in rows
        for value in (row.guide, row.snippets, row.green, row.red, row.tour)
        if value is not None
    ]
    passed = sum(v.passed for v in verdicts)
    failed = len(verdicts) - passed + extra_failed
    print(f"verify: {passed} passed, {failed} failed")


def mark(good: bool | None) -> str:
    if good is None:
        return style("-", "dim")
    return ok("✓") if good else bad("✗")


def numbering_problems(root: Path, all_steps: list[Step]) -> list[str]:
    problems = []
    numbers = [s.number for s in all_steps]
    if numbers != list(range(len(numbers))):
        problems.append(f"checkpoints are not step-0, step-1, ... in a row: {numbers}")
    suites = root / SUITES
    if suites.is_dir():
        for path in sorted(suites.glob("test_step_*.py")):
            number = path.stem.removeprefix("test_step_")
            if number.isdigit() and int(number) not in numbers:
                rel = path.relative_to(root)
                problems.append(f"{rel} has no checkpoint (checkpoints/step-{number})")
    return problems


def _files(folder: Path) -> dict[str, Path]:
    found = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS)
        for name in filenames:
            if name in IGNORED_NAMES or name.endswith(IGNORED_SUFFIXES):
                continue
            path = Path(dirpath) / name
            found[path.relative_to(folder).as_posix()] = path
    return found


def compare_trees(actual: Path, expected: Path) -> list[str]:
    """How folder `actual` differs from `expected`, byte for byte (empty: same)."""
    if not actual.is_dir():
        return [f"{actual.name}/ is missing"]
    if not expected.is_dir():
        return [f"{expected} is missing"]
    mine, theirs = _files(actual), _files(expected)
    differences = [f"{name} is missing" for name in sorted(theirs.keys() - mine.keys())]
    differences += [f"{name} is extra" for name in sorted(mine.keys() - theirs.keys())]
    for name in sorted(mine.keys() & theirs.keys()):
        if mine[name].read_bytes() != theirs[name].read_bytes():
            differences.append(f"{name} differs")
    return differences


def check_guide(row: Row) -> None:
    guide_path = row.step.guide
    name = f"checkpoints/{row.step.name}/README.md"
    if not guide_path.is_file():
        row.guide = Verdict("missing")
        row.details.append(f"{name} (the step's guide) is missing")
        return
    try:
        guide = Guide.read(guide_path)
    except NotUtf8 as error:
        row.guide = Verdict("not UTF-8")
        row.details.append(f"{name} {error.detail}: save it as UTF-8")
        return
    problems = guide.problems()
    row.guide = Verdict("; ".join(problems))
    row.details += [f"{name}: {problem}" for problem in problems]
    row.blocks = sum(1 for block in guide.blocks if block.title)
    mismatches = check_snippets(guide, row.step.checkpoint)
    row.snippets = Verdict(
        f"{len(mismatches)} of {row.blocks} differ" if mismatches else ""
    )
    row.details += [f"{name} {problem}" for problem in mismatches]


def check_tours(root: Path, rows: list[Row]) -> list[str]:
    """Every tour against the checkpoint its step starts from. A checkout with
    a .tours/ folder has a tour for each step after the first."""
    if not (root / tours.TOURS).is_dir():
        return []
    found = tours.tour_files(root)
    for before, row in itertools.pairwise(rows):
        path = found.pop(row.step.number, None)
        if path is None:
            row.tour = Verdict("missing")
            row.details.append(
                f"{tours.TOURS}/step-{row.step.number}.tour is "
                "missing (run workshop tours)"
            )
            continue
        problems = tours.check_tour(path, before.step)
        row.tour = Verdict(f"{len(problems)} off" if problems else "")
        row.details += problems
    return [
        f"{tours.TOURS}/{path.name}: no step {number} starts from a checkpoint "
        "(run workshop tours)"
        for number, path in sorted(found.items())
    ]


def check_suites(
    root: Path, rows: list[Row], jobs: int, only: list[int] | None = None
) -> None:
    """Each checkpoint's suites (with their crash tier), and the next step's
    to see it red, in parallel; with `only`, those checkpoints'."""
    numbers = [row.step.number for row in rows]
    work = []
    for index, row in enumerate(rows):
        if only and row.step.number not in only:
            continue
        upto = [n for n in numbers if n <= row.step.number]
        following = rows[index + 1] if index + 1 < len(rows) else None
        work.append((row, upto, following))
    print(f"Testing {len(work)} checkpoints, {jobs} at a time ...", flush=True)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        # the last checkpoint first: it runs the most suites and both crash
        # tiers (most of verify's time); the short ones fill the other slots
        futures = [
            pool.submit(run_checkpoint, root, row, upto, following)
            for row, upto, following in reversed(work)
        ]
        for future in futures:
            future.result()


def run_checkpoint(
    root: Path, row: Row, upto: list[int], following: Row | None
) -> None:
    """Suites 0..K on checkpoint K must pass; suite K+1 on it must fail."""
    numbers = upto + ([following.step.number] if following else [])
    started = time.monotonic()
    # the crash tiers of steps 0..K only: step K+1's fast tier is red on its
    # own (every mistake its crash tier catches turns it red, AUTHORING.md);
    # its crash tier on checkpoint K waited out its bounds (77 s on step-8)
    results = run_suites(
        root, row.step.checkpoint, numbers, limits=AUTHOR_LIMITS, crash=upto
    )
    checked, nxt = results[: len(upto)], (results[-1] if following else None)
    row.tests = sum(r.passed + len(r.failures) for r in checked)
    failing = [r for r in checked if not r.ok]
    row.green = Verdict(", ".join(f"step {r.number}" for r in failing))
    for result in failing:
        for message in result.messages:
            row.details.append(f"suite of step {result.number}: {message}")
        for failure in result.failures:
            first = failure.message.splitlines()[0] if failure.message else ""
            row.details.append(f"step {result.number}: {failure.test} failed: {first}")
    if following is not None and nxt is not None:
        waited = waits(nxt)
        if nxt.red and waited:
            following.red = Verdict(f"waits on {row.step.name}")
            following.details += [
                f"its suite waits out a bound on checkpoint {row.step.name}, where"
                f" it must fail at once on what happened: {line}"
                for line in waited
            ]
        elif nxt.red:
            following.red = PASSED
        elif nxt.problem:
            following.red = Verdict(nxt.problem)
            following.details.append(
                f"cannot prove red on {row.step.name}: {nxt.problem}"
            )
        else:
            following.red = Verdict(f"passes on {row.step.name}")
            following.details.append(
                f"its suite passes on checkpoint {row.step.name}: it must fail there "
                "(red before the step, green after)"
            )
    seconds = time.monotonic() - started
    verdict = ok("green") if not failing else bad("red")
    print(
        f"  {row.step.name}: steps 0..{row.step.number} {verdict} ({seconds:.1f} s)",
        flush=True,
    )


def waits(result: StepResult) -> list[str]:
    """The lines of `result`'s messages that say a wait ran out (`WAITED`),
    each after the test that printed it."""
    said = [(f.test, f.message) for f in result.failures]
    said += [("", message) for message in result.messages]
    return [
        f"{test}: {line.strip()}" if test else line.strip()
        for test, message in said
        for line in message.splitlines()
        if any(words in line for words in WAITED)
    ]


def print_table(rows: list[Row], *, fast: bool) -> None:
    headers = ["step", "guide", "snippets"]
    if not fast:
        headers += ["checkpoint passes 0..N", "suite N fails on N-1"]
    with_tours = any(row.tour is not None for row in rows)
    headers += ["tour"] if with_tours else []
    table = []
    for row in rows:
        cells = [
            (row.step.name, None),
            cell(row.guide, "ok"),
            cell(row.snippets, plural(row.blocks, "block")),
        ]
        if not fast:
            cells.append(cell(row.green, plural(row.tests, "test")))
            first = row.step.number == rows[0].step.number
            cells.append(("-", None) if first else cell(row.red, "yes"))
        if with_tours:
            cells.append(cell(row.tour, "lands"))
        table.append(cells)
    widths = [
        max(len(headers[i]), *(len(r[i][0]) + 2 * (r[i][1] is not None) for r in table))
        for i in range(len(headers))
    ]
    print()
    heads = [h.ljust(w) for h, w in zip(headers, widths, strict=True)]
    print(style("  ".join(heads).rstrip(), "bold"))
    for cells in table:
        parts = []
        for (text, good), width in zip(cells, widths, strict=True):
            padded = text.ljust(width - (2 if good is not None else 0))
            parts.append(padded if good is None else f"{mark(good)} {padded}")
        print("  ".join(parts).rstrip())


def cell(verdict: Verdict | None, fine: str) -> tuple[str, bool | None]:
    """A table cell: (text, good) where good is None when nothing was checked."""
    if verdict is None:
        return ("-", None)
    if verdict.passed:
        return (fine, True)
    problem = verdict.problem
    return (problem if len(problem) <= 28 else problem[:27] + "…", False)
