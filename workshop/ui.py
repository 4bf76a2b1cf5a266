"""Terminal output: colour only on a terminal, and never when NO_COLOR is set."""

from __future__ import annotations

import os
import sys
from typing import TextIO

_CODES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "cyan": "36",
}
PASS, FAIL, SKIP = "✓", "✗", "·"


def use_color(stream: TextIO | None = None) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    stream = sys.stdout if stream is None else stream
    return hasattr(stream, "isatty") and stream.isatty()


def style(text: str, *styles: str, stream: TextIO | None = None) -> str:
    if not styles or not use_color(stream):
        return text
    codes = ";".join(_CODES[s] for s in styles)
    return f"\033[{codes}m{text}\033[0m"


def ok(text: str) -> str:
    return style(text, "green")


def bad(text: str) -> str:
    return style(text, "red")


def plural(count: int, noun: str) -> str:
    """'1 file', '3 files'."""
    return f"{count} {noun}{'s' * (count != 1)}"


def indent(text: str, width: int, first: bool = False) -> str:
    """`text` with every line but the first (and the first too, if asked) indented."""
    pad = " " * width
    lines = text.splitlines() or [""]
    head = (pad if first else "") + lines[0]
    return "\n".join([head, *(pad + line for line in lines[1:])])


def error_line(message: str) -> None:
    """Print one error line on stderr, as every command does."""
    print(f"{style('workshop:', 'bold', stream=sys.stderr)} {message}", file=sys.stderr)
