"""The minutes and schedules of docs/INSTRUCTOR.md come from the script and add up.

- The block between the `course_minutes` markers is exactly what
  `python -m workshop.course.minutes` computes from the guides, the diffs and
  the check times recorded in docs/course_minutes.json: edit a guide or a
  checkpoint, and this fails until `python -m workshop.course.minutes --write`.
- Read back from the page alone, each schedule row is its step's teaching +
  exercise minutes when the room codes it, its demo minutes otherwise; the
  running totals
  add up, the heading names the total, and it fits the session's length.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

from project_files import ROOT

from workshop.course import minutes as course_minutes

PAGE = ROOT / "docs" / "INSTRUCTOR.md"


def block() -> str:
    page = PAGE.read_text(encoding="utf-8")
    start = page.index(course_minutes.BEGIN)
    return page[start : page.index(course_minutes.END) + len(course_minutes.END)]


def test_the_tables_are_what_the_script_computes() -> None:
    measured = json.loads(course_minutes.MEASURED.read_text(encoding="utf-8"))
    expected = course_minutes.render(
        course_minutes.steps(measured["seconds"]), measured
    )
    assert block() == expected, "run: python -m workshop.course.minutes --write"


def per_step() -> dict[int, tuple[int, int, int]]:
    """Teaching, exercise and demo minutes per step, as the page states them."""
    rows = re.findall(
        r"^\| (\d+) \| \d+ \| \d+ \| [\d.]+ \| (\d+) \| (\d+) \| (\d+) \|$",
        block(),
        re.M,
    )
    return {int(step): tuple(map(int, row)) for step, *row in rows}


def schedules() -> list[tuple[str, int, int, list[list[str]]]]:
    found = []
    parts = re.split(r"^#### ", block(), flags=re.M)[1:]
    for part in parts:
        head = re.match(r"(.*): (\d+) of (\d+) minutes", part)
        rows = [
            [cell.strip() for cell in line.strip("|").split("|")]
            for line in part.splitlines()
            if line.startswith("| ") and not line.startswith(("| part", "| ---"))
        ]
        found.append((head[1], int(head[2]), int(head[3]), rows))
    return found


def test_the_schedules_add_up() -> None:
    minutes = per_step()
    assert sorted(minutes) == list(range(10))
    found = schedules()
    assert [name for name, *_ in found] == list(course_minutes.SCHEDULES)
    for name, total, length, rows in found:
        running = 0
        for part, how, spent, so_far in rows:
            if part.startswith("step "):
                teach, code, demo = minutes[int(part.removeprefix("step "))]
                expected = teach + code if how == "teach + code" else demo
                assert int(spent) == expected, (name, part)
            running += int(spent)
            assert int(so_far) == running, (name, part)
        assert running == total <= length, name


def test_the_full_day_codes_every_step() -> None:
    *_, rows = schedules()[-1]
    coded = [row[0] for row in rows if row[1] == "teach + code"]
    assert coded == [f"step {n}" for n in range(10)]


def test_a_step_s_minutes_follow_the_stated_speeds() -> None:
    step = course_minutes.Step(
        1, read_words=400, theory_words=260, added_lines=6, check_seconds=20
    )
    # 400/200 + 6/3 + 3 * 20/60 = 5; 260/130 + 6/6 + 20/60 = 3.33, rounded up
    assert (step.exercise, step.teaching) == (5, 4)


def test_each_step_is_live_coded_in_the_order_of_its_diff() -> None:
    """Under "### Step N", the files named first-mention-first are the files of
    `workshop diff N --stat`, in its order (step 0 has no diff: nothing to type,
    only files to read)."""
    page = PAGE.read_text(encoding="utf-8")
    sections = re.split(r"^### Step ", page, flags=re.M)[1:]
    assert [int(section.split(" ", 1)[0]) for section in sections] == list(range(10))
    for section in sections:
        number = int(section.split(" ", 1)[0])
        if number == 0:
            assert "Nothing to type" in section
            continue
        named = list(dict.fromkeys(re.findall(r"`(app/[\w/]+\.py)`", section)))
        assert named == diff_files(number), f"step {number}"


def diff_files(number: int) -> list[str]:
    stat = subprocess.run(
        [sys.executable, "-m", "workshop", "diff", str(number), "--stat"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return re.findall(r"^ (app/[\w/]+\.py) ", stat, re.M)
