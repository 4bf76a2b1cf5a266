"""The app's own frames of an error: the evidence the frame readers use.

except_names.py, sql_params.py and none_rows.py each read the code at the line
of app/ that raised (its syntax tree) and what its names are bound to in that
frame: looked up, never called or evaluated.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any


@dataclass(frozen=True)
class AppFrame:
    """One frame of app/ an error went through: the line, and its file's tree."""

    frame: FrameType
    line: int
    source: str
    tree: ast.Module


def app_frames(error: BaseException, app: Path) -> list[AppFrame]:
    """The frames of app/ the error went through, outermost first (a file that
    cannot be read or parsed is left out)."""
    found = []
    tb: TracebackType | None = error.__traceback__
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename)
        if path.resolve().is_relative_to(app):
            try:
                source = path.read_text(encoding="utf-8")
                found.append(
                    AppFrame(tb.tb_frame, tb.tb_lineno, source, ast.parse(source))
                )
            except (OSError, SyntaxError, ValueError):
                pass
        tb = tb.tb_next
    return found


def look_up(expr: ast.expr, frame: FrameType) -> Any:
    """What a name or attribute is bound to in `frame`, looked up, never called."""
    if isinstance(expr, ast.Name):
        for space in (frame.f_locals, frame.f_globals, vars(builtins)):
            if expr.id in space:
                return space[expr.id]
        return None
    if isinstance(expr, ast.Attribute):
        owner = look_up(expr.value, frame)
        return getattr(owner, expr.attr, None) if owner is not None else None
    return None


def spans(node: ast.AST, line: int) -> bool:
    """True when the statement or expression `node` covers `line`."""
    start = getattr(node, "lineno", None)
    return start is not None and start <= line <= (
        getattr(node, "end_lineno", None) or start
    )


def where(frame: FrameType, app: Path, line: int) -> str:
    """'app/main.py:12'."""
    file = Path(frame.f_code.co_filename).resolve()
    return f"app/{file.relative_to(app).as_posix()}:{line}"
