"""Code in a guide must match its checkpoint, so text and code cannot drift apart.

A fenced block whose info string names a file (```` ```python title="app/main.py" ````)
is checked against that file in the guide's own checkpoint folder: the block's
lines appear in the file in order and contiguously, except that a line that is
only `# ...` or `...` stands for lines left out (any number). Blank lines at
the edges of a run (around a `# ...`) are not significant; trailing spaces
never are. Standard library only.
"""

from __future__ import annotations

from pathlib import Path

from workshop.course.guide import Block, Guide, NotUtf8, read_text

OMITTED = frozenset({"# ...", "..."})

Run = list[tuple[int, str]]  # (line number in the guide, text)


def runs(block: Block) -> list[Run]:
    """The block's lines cut at each `# ...`, without blank lines at the edges."""
    found: list[Run] = []
    current: Run = []
    for offset, line in enumerate(block.lines):
        if line.strip() in OMITTED:
            found.append(current)
            current = []
        else:
            current.append((block.line + 1 + offset, line.rstrip()))
    found.append(current)
    trimmed = []
    for run in found:
        while run and not run[0][1]:
            run = run[1:]
        while run and not run[-1][1]:
            run = run[:-1]
        if run:
            trimmed.append(run)
    return trimmed


def _prefix(run: Run, lines: list[str], start: int) -> int:
    """How many lines of `run` match `lines` from index `start`."""
    count = 0
    for (_, text), line in zip(run, lines[start:], strict=False):
        if text != line:
            break
        count += 1
    return count


def compare(block: Block, text: str, name: str) -> str | None:
    """Why `block` does not match file `name` with content `text` (None: it does)."""
    lines = [line.rstrip() for line in text.splitlines()]
    position = 0
    all_runs = runs(block)
    if not all_runs:
        return f"line {block.line}: the block for {name} is empty"
    for run in all_runs:
        for start in range(position, len(lines) - len(run) + 1):
            if _prefix(run, lines, start) == len(run):
                position = start + len(run)
                break
        else:
            return _explain(run, lines, position, name)
    return None


def _explain(run: Run, lines: list[str], position: int, name: str) -> str:
    """Point at the first line of `run` that the file does not continue with."""
    best, best_start = 0, None
    for start in range(position, len(lines)):
        count = _prefix(run, lines, start)
        if count > best:
            best, best_start = count, start
    guide_line, text = run[best]
    if best_start is None:
        where = f" after line {position}" if position else ""
        return f"line {guide_line}: `{text.strip()}` is not in {name}{where}"
    file_index = best_start + best
    if file_index >= len(lines):
        return f"line {guide_line}: `{text.strip()}` is past the end of {name}"
    actual = lines[file_index].strip()
    return (
        f"line {guide_line}: `{text.strip()}` differs from "
        f"{name}:{file_index + 1} `{actual}`"
    )


def check_guide(guide: Guide, checkpoint: Path) -> list[str]:
    """Every titled block of `guide` against the files of `checkpoint`."""
    problems = []
    base = checkpoint.resolve()
    for block in guide.blocks:
        name = block.title
        if name is None:
            continue
        path = (base / name).resolve()
        if not path.is_relative_to(base) or not path.is_file():
            problems.append(
                f"line {block.line}: {name} is not a file of {checkpoint.name}"
            )
            continue
        try:
            text = read_text(path)
        except NotUtf8 as error:
            problems.append(f"line {block.line}: {name} {error.detail}")
            continue
        problem = compare(block, text, name)
        if problem:
            problems.append(problem)
    return problems
