"""Minutes per step for the instructor's script (docs/INSTRUCTOR.md), computed.

A learner-like run of each step, from what the repository holds:

- reading: the words of the guide's "Do this first" box and its `## Exercise`
  section, at `READ_WPM` words per minute;
- typing: the lines `workshop diff N` adds, at `TYPE_LPM` lines per minute
  (a learner who looks each line up in the guide);
- checking: `CHECK_RUNS` runs of `workshop check N`, each as long as
  `workshop check N --checkpoint N` took when `--measure` timed it (the median
  of `--runs` runs), kept in docs/course_minutes.json with the machine, its
  load and the date.

Teaching is the instructor's side: the `## Theory` section spoken at
`SPEAK_WPM` (an upper bound: say its points, not every word), the same diff
live-coded at `LIVE_LPM` lines per minute, one check run. A demo (a step the
room does not code) is the same with the diff shown at `SHOW_LPM` lines per
minute instead of typed. Each figure is rounded up to a whole minute.

`python -m workshop.course.minutes` prints the table and the schedules;
`--measure` times the checks again first (run it on an idle machine);
`--write` puts the tables into docs/INSTRUCTOR.md between its markers, where
tests/project/test_course_minutes.py checks that they still hold.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MEASURED = ROOT / "docs" / "course_minutes.json"
INSTRUCTOR = ROOT / "docs" / "INSTRUCTOR.md"
BEGIN, END = "<!-- course_minutes: begin -->", "<!-- course_minutes: end -->"

READ_WPM = 200  # words per minute: a learner reading a technical guide
SPEAK_WPM = 130  # words per minute: an instructor explaining to a room
TYPE_LPM = 3  # lines per minute: a learner typing from the guide
LIVE_LPM = 6  # lines per minute: an instructor who has typed them before
SHOW_LPM = 20  # lines per minute: a diff shown on the screen and explained
CHECK_RUNS = 3  # red at the start, once while stuck, green at the end

# The schedules: steps coded by the room (teaching + exercise) and steps only
# demonstrated (teaching); breaks and the wrap-up in minutes.
SCHEDULES = {
    "90 minutes": {
        "code": (0, 1, 3),
        "demo": (2, 4, 5, 6, 7),
        "extra": {"welcome": 5, "wrap-up": 5},
    },
    "Half a day (3 h 30)": {
        "code": (0, 1, 2, 3, 4, 5, 6),
        "demo": (7, 8, 9),
        "extra": {"welcome": 10, "break": 15, "wrap-up": 10},
    },
    "A full day (7 h 30)": {
        "code": tuple(range(10)),
        "demo": (),
        "extra": {"welcome": 15, "lunch": 60, "two breaks": 30, "wrap-up": 15},
    },
}
LENGTHS = {"90 minutes": 90, "Half a day (3 h 30)": 210, "A full day (7 h 30)": 450}


@dataclass(frozen=True)
class Step:
    number: int
    read_words: int  # box + exercise
    theory_words: int
    added_lines: int
    check_seconds: float

    @property
    def exercise(self) -> int:
        reading = self.read_words / READ_WPM
        typing = self.added_lines / TYPE_LPM
        return math.ceil(reading + typing + CHECK_RUNS * self.check_seconds / 60)

    @property
    def teaching(self) -> int:
        return self._spoken(self.added_lines / LIVE_LPM)

    @property
    def demo(self) -> int:
        """Taught from the checkpoint: the diff shown, not typed."""
        return self._spoken(self.added_lines / SHOW_LPM)

    def _spoken(self, diff_minutes: float) -> int:
        theory = self.theory_words / SPEAK_WPM
        return math.ceil(theory + diff_minutes + self.check_seconds / 60)


def words(text: str) -> int:
    return sum(1 for word in text.split() if any(c.isalnum() for c in word))


def section(guide: str, name: str) -> str:
    """The text of `## name`, up to the next `## ` heading."""
    match = re.search(rf"^## {name}\n(.*?)(?=^## |\Z)", guide, re.M | re.S)
    return match.group(1) if match else ""


def box(guide: str) -> str:
    """The quoted lines between the title and the first `## ` heading."""
    head = guide.split("\n## ", 1)[0]
    return "\n".join(line for line in head.splitlines() if line.startswith(">"))


def added_lines(number: int) -> int:
    """Lines `workshop diff N` adds (step 0 has no diff: nothing to type)."""
    if number == 0:
        return 0
    out = subprocess.run(
        [sys.executable, "-m", "workshop", "diff", str(number), "--color", "never"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sum(
        1
        for line in out.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    )


def measure_check(number: int, runs: int) -> float:
    """Seconds `workshop check N --checkpoint N` takes: the median of `runs`."""
    command = [sys.executable, "-m", "workshop", "check", str(number)]
    seconds = []
    for _ in range(runs):
        start = time.monotonic()
        subprocess.run(
            [*command, "--checkpoint", str(number)], cwd=ROOT, capture_output=True
        )
        seconds.append(time.monotonic() - start)
    return round(statistics.median(seconds), 1)


def numbers() -> list[int]:
    return sorted(
        int(p.name.removeprefix("step-")) for p in (ROOT / "checkpoints").glob("step-*")
    )


def steps(seconds: dict[str, float]) -> list[Step]:
    found = []
    for number in numbers():
        guide = (ROOT / "checkpoints" / f"step-{number}" / "README.md").read_text(
            encoding="utf-8"
        )
        found.append(
            Step(
                number,
                read_words=words(box(guide)) + words(section(guide, "Exercise")),
                theory_words=words(section(guide, "Theory")),
                added_lines=added_lines(number),
                check_seconds=seconds[str(number)],
            )
        )
    return found


def step_table(found: list[Step]) -> list[str]:
    rows = [
        "| step | words to read | lines to type | check (s) | teaching min"
        " | exercise min | demo min |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in found:
        rows.append(
            f"| {s.number} | {s.read_words} | {s.added_lines} | {s.check_seconds:g}"
            f" | {s.teaching} | {s.exercise} | {s.demo} |"
        )
    return rows


def schedule_tables(found: list[Step]) -> list[str]:
    by_number = {s.number: s for s in found}
    lines: list[str] = []
    for name, plan in SCHEDULES.items():
        rows, total = [], 0
        for number in sorted(plan["code"] + plan["demo"]):
            s = by_number[number]
            coded = number in plan["code"]
            minutes = s.teaching + s.exercise if coded else s.demo
            total += minutes
            how = "teach + code" if coded else "demo"
            rows.append(f"| step {number} | {how} | {minutes} | {total} |")
        for what, minutes in plan["extra"].items():
            total += minutes
            rows.append(f"| {what} | | {minutes} | {total} |")
        lines += [
            f"#### {name}: {total} of {LENGTHS[name]} minutes",
            "",
            "| part | how | minutes | running total |",
            "| --- | --- | ---: | ---: |",
            *rows,
            "",
        ]
    return lines


def render(found: list[Step], measured: dict[str, object]) -> str:
    how = (
        f"Check times measured {measured['date']} on {measured['machine']}"
        " (`python -m workshop.course.minutes --measure`)."
    )
    return "\n".join(
        [BEGIN, "", *step_table(found), "", how, "", *schedule_tables(found), END]
    )


def write(text: str) -> None:
    page = INSTRUCTOR.read_text(encoding="utf-8")
    start, end = page.index(BEGIN), page.index(END) + len(END)
    INSTRUCTOR.write_text(page[:start] + text + page[end:], encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.course.minutes")
    parser.add_argument(
        "--measure", action="store_true", help="time every step's check again (slow)"
    )
    parser.add_argument(
        "--runs", type=int, default=3, metavar="K", help="--measure: median of K (3)"
    )
    parser.add_argument(
        "--write", action="store_true", help="put the tables into docs/INSTRUCTOR.md"
    )
    args = parser.parse_args(argv)
    if args.measure:
        measure(args.runs)
    measured = json.loads(MEASURED.read_text(encoding="utf-8"))
    text = render(steps(measured["seconds"]), measured)
    if args.write:
        write(text)
    print(text)
    return 0


def measure(runs: int) -> None:
    """Time every step's check and keep the figures in docs/course_minutes.json."""
    seconds = {str(n): measure_check(n, runs) for n in numbers()}
    machine = (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores,"
        f" load average {_load()} at the end, median of {runs} runs"
    )
    record = {"date": date.today().isoformat(), "machine": machine, "seconds": seconds}
    MEASURED.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def _load() -> str:
    """The 1-minute load average (POSIX only: Windows has none)."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return f"{os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    raise SystemExit(main())
