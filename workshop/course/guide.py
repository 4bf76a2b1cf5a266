"""Reading a step's guide (checkpoints/step-N/README.md): headings, hints, code.

A small Markdown reader that knows just enough: ATX headings (`## Goal`) and
fenced code blocks (``` or ~~~), so that a `#` line inside a code block is
never taken for a heading. Standard library only (`workshop verify --fast`
runs without the project's packages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from workshop.errors import WorkshopError

# The sections every guide has, in this order (docs/AUTHORING.md).
SECTIONS = ("Goal", "Theory", "Exercise", "Check", "Hints", "Pitfalls", "Solution")
MIN_HINTS = 2

_HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*(.*)$")
_TITLE = re.compile(r"""\btitle=(?:"([^"]*)"|'([^']*)')""")
_HINT = re.compile(r"^Hint (\d+)$")


class NotUtf8(WorkshopError):
    """A guide or checkpoint file whose bytes are not UTF-8 (e.g. saved as Latin-1)."""

    def __init__(self, path: Path, data: bytes, error: UnicodeDecodeError) -> None:
        byte = data[error.start]
        self.detail = f"is not UTF-8 text (byte 0x{byte:02x} at offset {error.start})"
        super().__init__(f"{path} {self.detail}: save it as UTF-8")


def read_text(path: Path) -> str:
    """The text of a UTF-8 file; NotUtf8 names the first byte that is not."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotUtf8(path, data, error) from None


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int  # 1-based line number in the guide


@dataclass(frozen=True)
class Block:
    """A fenced code block; `title` is the file it names, if any."""

    line: int  # 1-based line number of the opening fence
    info: str
    lines: tuple[str, ...]
    closed: bool

    @property
    def title(self) -> str | None:
        match = _TITLE.search(self.info)
        return (match.group(1) or match.group(2)) if match else None


@dataclass(frozen=True)
class Guide:
    path: Path
    lines: tuple[str, ...]
    headings: tuple[Heading, ...]
    blocks: tuple[Block, ...]

    @classmethod
    def read(cls, path: Path) -> Guide:
        return cls.parse(read_text(path), path)

    @classmethod
    def parse(cls, text: str, path: Path = Path("README.md")) -> Guide:
        lines = tuple(text.splitlines())
        headings: list[Heading] = []
        blocks: list[Block] = []
        fence: tuple[str, int, str] | None = None  # (marker, start index, info)
        body: list[str] = []
        for index, line in enumerate(lines):
            if fence is not None:
                marker, start, info = fence
                stripped = line.strip()
                if stripped.startswith(marker) and not stripped.strip(marker[0]):
                    blocks.append(Block(start + 1, info, tuple(body), closed=True))
                    fence, body = None, []
                else:
                    body.append(line)
                continue
            if match := _FENCE.match(line):
                marker, info = match.groups()
                if marker[0] == "`" and "`" in info:
                    continue  # not a fence: inline code such as ```foo```
                fence, body = (marker, index, info.strip()), []
            elif match := _HEADING.match(line):
                level, text_ = len(match.group(1)), match.group(2)
                headings.append(Heading(level, text_, index + 1))
        if fence is not None:
            blocks.append(Block(fence[1] + 1, fence[2], tuple(body), closed=False))
        return cls(path, lines, tuple(headings), tuple(blocks))

    @property
    def title(self) -> str | None:
        return next((h.text for h in self.headings if h.level == 1), None)

    def section(self, heading: Heading) -> str:
        """The text under `heading`, up to the next heading of its level or higher."""
        later = [
            h.line
            for h in self.headings
            if h.line > heading.line and h.level <= heading.level
        ]
        end = later[0] - 1 if later else len(self.lines)
        return "\n".join(self.lines[heading.line : end]).strip("\n")

    def find(self, text: str, level: int) -> Heading | None:
        return next(
            (h for h in self.headings if h.level == level and h.text == text), None
        )

    def hints(self) -> list[str]:
        """The texts of `### Hint 1`, `### Hint 2`, ... under `## Hints`."""
        parent = self.find("Hints", 2)
        if parent is None:
            return []
        return [self.section(h) for h in self._hint_headings(parent)]

    def _hint_headings(self, parent: Heading) -> list[Heading]:
        after = [h for h in self.headings if h.line > parent.line]
        found = []
        for heading in after:
            if heading.level <= 2:
                break
            if heading.level == 3 and _HINT.match(heading.text):
                found.append(heading)
        return found

    def problems(self) -> list[str]:
        """What is missing or out of place in this guide's shape (empty: fine)."""
        problems = []
        if self.title is None:
            problems.append("no '# Step N — Title' heading")
        positions = []
        for name in SECTIONS:
            heading = self.find(name, 2)
            if heading is None:
                problems.append(f"no '## {name}' section")
            else:
                positions.append(heading.line)
        if not problems and positions != sorted(positions):
            order = ", ".join(SECTIONS)
            problems.append(f"sections out of order (expected {order})")
        parent = self.find("Hints", 2)
        if parent is not None:
            numbers = [
                int(_HINT.match(h.text).group(1)) for h in self._hint_headings(parent)
            ]
            if len(numbers) < MIN_HINTS:
                found = len(numbers)
                problems.append(
                    f"'## Hints' needs {MIN_HINTS} or more '### Hint N' (has {found})"
                )
            elif numbers != list(range(1, len(numbers) + 1)):
                problems.append(f"hints are not numbered 1, 2, ... (found {numbers})")
        problems += [
            f"line {b.line}: code block is never closed"
            for b in self.blocks
            if not b.closed
        ]
        return problems
