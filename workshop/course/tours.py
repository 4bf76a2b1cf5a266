"""CodeTour tours of each step's change: `.tours/step-N.tour`, and their check.

A tour walks a learner through step N in the editor: the step's goal, then one
stop per place in app/ that the step changes (in file order, with the guide's
words for it), then "run `workshop check N`". app/ is the learner's own code,
so a stop never names a line number: it is anchored with CodeTour's `pattern`,
a regular expression the extension searches for in the open file (the first
match wins). Patterns are written the way CodeTour's own recorder writes them
(leading blanks, then the line's text with regex characters escaped) and
chosen so that each matches exactly one line of checkpoint N-1, where the
learner starts the step. `check_tour` proves that they still do, the way
workshop/course/snippets.py proves a guide's code, so a tour never points at a line
that moved. Standard library only (`workshop verify --fast` uses it).
"""

from __future__ import annotations

import difflib
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workshop.course.guide import Guide
from workshop.project import APP, Step

TOURS = ".tours"
SCHEMA = "https://aka.ms/codetour-schema"
IGNORED = ("__pycache__",)
_TOUR_FILE = re.compile(r"^step-(\d+)\.tour$")
_REGEX_CHARS = re.compile(r"[.*+?^${}()|[\]\\]")  # what CodeTour's recorder escapes
_CODE_SPAN = re.compile(r"`([^`]+)`")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ITEM = re.compile(r"^(\d+)\. ", re.MULTILINE)
_OPTIONAL = re.compile(r"^\d+\. Optional\b")  # an experiment to undo, not the change


def tour_path(root: Path, number: int) -> Path:
    return root / TOURS / f"step-{number}.tour"


def pattern_for(line: str) -> str:
    """CodeTour's own pattern for a line: any leading blanks, then its text."""
    return r"^[^\S\n]*" + _REGEX_CHARS.sub(lambda m: "\\" + m.group(0), line.strip())


def matching_lines(pattern: str, text: str) -> list[int]:
    """The 1-based lines where `pattern` matches, as CodeTour searches (multiline)."""
    return [
        text.count("\n", 0, m.start()) + 1 for m in re.finditer(pattern, text, re.M)
    ]


# --- the step's change -------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One place a step changes: old lines [start, end) of `file` become `new`."""

    file: str  # 'app/main.py'
    start: int  # 0-based, in the old file
    end: int
    new: tuple[str, ...]
    old_text: str | None  # None: the file is new in this step


def _files(app: Path) -> dict[str, Path]:
    if not app.is_dir():
        return {}
    return {
        f"{APP}/{p.relative_to(app).as_posix()}": p
        for p in sorted(app.rglob("*"))
        if p.is_file() and not set(p.relative_to(app).parts) & set(IGNORED)
    }


def changes(before: Step, after: Step) -> list[Change]:
    """Step `after`'s change to app/, from checkpoint `before`, file by file."""
    old, new = _files(before.app), _files(after.app)
    found = []
    for name in sorted(old.keys() | new.keys()):
        old_text = old[name].read_text(encoding="utf-8") if name in old else None
        new_text = new[name].read_text(encoding="utf-8") if name in new else ""
        old_lines = (old_text or "").splitlines()
        new_lines = new_text.splitlines()
        if old_lines == new_lines and old_text is not None:
            continue
        if old_text is None:
            found.append(Change(name, 0, 0, tuple(new_lines), None))
            continue
        matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
        for group in matcher.get_grouped_opcodes(1):
            edits = [op for op in group if op[0] != "equal"]
            start, end = edits[0][1], edits[-1][2]
            added = tuple(new_lines[edits[0][3] : edits[-1][4]])
            found.append(Change(name, start, end, added, old_text))
    return found


# --- anchors -----------------------------------------------------------------


def anchor(change: Change) -> tuple[int, str] | None:
    """(0-based line, pattern) near the change that matches one line only: a
    line to change, else the nearest line above, else below."""
    assert change.old_text is not None
    lines = change.old_text.splitlines()
    above = range(min(change.start, len(lines)) - 1, -1, -1)
    candidates = [
        *range(change.start, change.end),
        *above,
        *range(change.end, len(lines)),
    ]
    for index in candidates:
        if not lines[index].strip():
            continue
        pattern = pattern_for(lines[index])
        if len(matching_lines(pattern, change.old_text)) == 1:
            return index, pattern
    return None


# --- the guide's words -------------------------------------------------------


def exercise(guide: Guide) -> tuple[str, list[str]]:
    """The Exercise section: its opening text, and its numbered items."""
    heading = guide.find("Exercise", 2)
    text = guide.section(heading) if heading else ""
    parts = _ITEM.split(text)
    intro = parts[0].strip()
    items = [
        f"{n}. {body.strip()}" for n, body in zip(parts[1::2], parts[2::2], strict=True)
    ]
    return intro, items


def _score(item: str, change: Change) -> int:
    """How well a guide item fits a change: how many names in its code appear
    in the changed lines (plus one if it names the file). An item about
    another file never fits."""
    spans = _CODE_SPAN.findall(item)
    files = {
        s.rstrip(":") for s in spans if s.startswith(f"{APP}/") and s.endswith(".py")
    }
    if (files and change.file not in files) or _OPTIONAL.match(item):
        return 0
    old = (change.old_text or "").splitlines()[change.start : change.end]
    changed = set(_WORD.findall("\n".join([*old, *change.new])))
    words = {w for s in spans if s not in files for w in _WORD.findall(s) if len(w) > 2}
    overlap = len(words & changed)
    if change.file in files:
        return overlap + 1 if overlap else 0
    return overlap if overlap >= 2 else 0  # naming no file: two names in common


def best_item(items: list[str], change: Change) -> str | None:
    scored = [(_score(item, change), -i, item) for i, item in enumerate(items)]
    score, _, item = max(scored, default=(0, 0, None))
    return item if score > 0 else None


# --- the tour ----------------------------------------------------------------


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many.format(count)


def _where(change: Change, index: int) -> str:
    """What to do at the stop, said from the anchor line: 'change this line',
    'add code below this line', 'remove the 3 lines starting 2 lines below'."""
    removed = change.end - change.start
    if removed == 0:
        gap = change.start - index  # the new code goes before old line `start`
        if gap == 1:
            return "add code below this line"
        away = _plural(gap if gap > 0 else 1 - gap, "1 line", "{} lines")
        return f"add code {away} {'below' if gap > 0 else 'above'} this one"
    verb = "change" if change.new else "remove"
    offset = change.start - index
    if offset == 0:
        return f"{verb} {_plural(removed, 'this line', 'these {} lines')}"
    away = _plural(abs(offset), "1 line", "{} lines")
    lines = _plural(removed, "the line", "the {} lines")
    return (
        f"{verb} {lines} starting {away} {'below' if offset > 0 else 'above'} this one"
    )


def build(root: Path, before: Step, step: Step) -> dict[str, Any]:
    """The tour of `step` (its change from checkpoint `before`)."""
    guide = Guide.read(step.guide) if step.guide.is_file() else None
    title = (guide.title if guide else None) or f"Step {step.number}"
    intro, items = exercise(guide) if guide else ("", [])
    goal = guide.find("Goal", 2) if guide else None
    guide_name = step.guide.relative_to(root).as_posix()
    opening = "\n\n".join(
        part
        for part in (
            guide.section(goal) if guide and goal else "",
            intro,
            f"Each stop below is a place in `app/` that step {step.number} changes, "
            f"as checkpoint {before.number} has it. The whole guide: `{guide_name}`.",
        )
        if part
    )
    stops: list[dict[str, Any]] = [{"title": title, "description": opening}]
    found = changes(before, step)
    used: set[str] = set()
    for number, change in enumerate(found, start=1):
        item = best_item(items, change)
        used |= {item} if item else set()
        words = item or f"See the guide's Exercise: `{guide_name}`."
        head = f"**Change {number} of {len(found)}** in `{change.file}`"
        if change.old_text is None:
            text = f"{head}: a new file.\n\n{words}"
            stops.append({"directory": APP, "description": text})
            continue
        place = anchor(change)
        if place is None:
            continue  # no line of the file is unique: the guide says where
        index, pattern = place
        text = f"{head}: {_where(change, index)}.\n\n{words}"
        stops.append({"file": change.file, "pattern": pattern, "description": text})
    rest = [item for item in items if item not in used]
    check = [f"Check step {step.number}:", f">> workshop check {step.number}"]
    check += ["Stuck? `workshop hint` shows the next hint, and at last the solution."]
    if rest:
        check += ["Also in the guide:", *rest]
    stops.append({"title": "Check", "description": "\n\n".join(check)})
    return {"$schema": SCHEMA, "title": title, "steps": stops}


def render(tour: dict[str, Any]) -> str:
    return json.dumps(tour, indent=2, ensure_ascii=False) + "\n"


def generate(root: Path, steps: list[Step]) -> dict[Path, str]:
    """path -> text of the tour of every step that has a step before it;
    each names the next one (`nextTour`), so CodeTour offers it at the end."""
    pairs = itertools.pairwise(steps)
    tours = {step: build(root, before, step) for before, step in pairs}
    for tour, following in itertools.pairwise(list(tours.values())):
        tour["nextTour"] = following["title"]
    return {tour_path(root, step.number): render(tour) for step, tour in tours.items()}


# --- the check ---------------------------------------------------------------


def tour_files(root: Path) -> dict[int, Path]:
    folder = root / TOURS
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.iterdir():
        if match := _TOUR_FILE.match(path.name):
            found[int(match.group(1))] = path
    return found


def _key_lines(text: str, key: str) -> list[int]:
    """The line of each `"key":` in a JSON text, in order (one per step)."""
    return [
        text.count("\n", 0, m.start()) + 1 for m in re.finditer(f'"{key}"\\s*:', text)
    ]


def check_tour(path: Path, before: Step) -> list[str]:
    """Why the tour at `path` would not land where it should on checkpoint
    `before` (empty: every stop lands on exactly one line)."""
    name = f"{TOURS}/{path.name}"
    text = path.read_text(encoding="utf-8")
    try:
        tour = json.loads(text)
        stops = list(tour["steps"])
    except (ValueError, KeyError, TypeError) as error:
        return [f"{name}: not a tour ({error})"]
    pattern_lines = iter(_key_lines(text, "pattern"))
    file_lines = iter(_key_lines(text, "file"))
    problems = []
    base = before.checkpoint.resolve()
    for stop in stops:
        file = stop.get("file")
        line = next(file_lines) if file is not None else None
        pattern = stop.get("pattern")
        if pattern is not None:
            line = next(pattern_lines)
        if file is None:
            continue
        where = f"{name}:{line}"
        target = (base / file).resolve()
        shown = f"checkpoints/{before.name}/{file}"
        if not target.is_relative_to(base) or not target.is_file():
            problems.append(f"{where}: {file} is not a file of {before.name}")
        elif pattern is None:
            problems.append(
                f"{where}: {file} has no pattern: a line number drifts with "
                "the learner's code (run workshop tours)"
            )
        else:
            problems += _check_pattern(where, pattern, target, shown)
    return problems


def _check_pattern(where: str, pattern: str, target: Path, shown: str) -> list[str]:
    try:
        lines = matching_lines(pattern, target.read_text(encoding="utf-8"))
    except re.error as error:
        return [f"{where}: pattern {pattern!r} is not a regular expression ({error})"]
    if not lines:
        return [
            f"{where}: pattern {pattern!r} matches no line of {shown} "
            "(run workshop tours)"
        ]
    if len(lines) > 1:
        at = ", ".join(map(str, lines))
        return [
            f"{where}: pattern {pattern!r} matches {len(lines)} lines of {shown} "
            f"({at}): CodeTour stops at the first (run workshop tours)"
        ]
    return []
