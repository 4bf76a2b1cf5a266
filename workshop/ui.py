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


class WorkshopError(Exception):
    """A problem the user can fix: printed as one line on stderr, exit status 2."""

    exit_code = 2


def use_color(stream: TextIO = sys.stdout) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def style(text: str, *styles: str, stream: TextIO = sys.stdout) -> str:
    if not styles or not use_color(stream):
        return text
    codes = ";".join(_CODES[s] for s in styles)
    return f"\033[{codes}m{text}\033[0m"


def ok(text: str) -> str:
    return style(text, "green")


def bad(text: str) -> str:
    return style(text, "red")
