"""sqlite3's parameters that are not a sequence: `(subscriber_id)` without its
comma is the int itself. The evidence is the app's own frame: the
`.execute(sql, parameters)` call at the line that raised, and what its
parameters are there (a name or attribute, looked up, never evaluated).
"""

from __future__ import annotations

import ast
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

from workshop.checks.app_frames import app_frames, look_up, spans


def not_a_sequence(error: BaseException, app: Path) -> str | None:
    """'.execute(...) got 7 (an int) as its parameters: ... (subscriber_id,)'."""
    if not isinstance(error, sqlite3.Error):
        return None
    frames = app_frames(error, app)
    if not frames:
        return None
    seen = frames[-1]
    frame, source = seen.frame, seen.source
    for call in ast.walk(seen.tree):
        if not _execute_at(call, seen.line):
            continue
        parameters = call.args[1]  # type: ignore[attr-defined]
        if not isinstance(parameters, ast.Name | ast.Attribute):
            return None  # a tuple, list or dict as written, or a call: not this
        value = look_up(parameters, frame)
        if isinstance(value, Mapping | Sequence) and not isinstance(value, str | bytes):
            return None
        written = ast.get_source_segment(source, parameters) or ast.unparse(parameters)
        kind = type(value).__name__
        article = "an" if kind[0] in "aeiou" else "a"
        return (
            f".{call.func.attr}(...) got {value!r} ({article} {kind}) as its"  # type: ignore[attr-defined]
            f" parameters, not a tuple: a tuple of one value needs its comma,"
            f" ({written},)"
        )
    return None


def _execute_at(node: ast.AST, line: int) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("execute", "executemany")
        and len(node.args) >= 2
        and spans(node, line)
    )
