"""A row that is None where the app unpacks it: `Job(**row)` after a
`.fetchone()` that found nothing. The evidence is the app's own frame: the
`**name` of the call at the line that raised, what `name` is there (None),
and where the function assigned it (a `.fetchone()`).
"""

from __future__ import annotations

import ast
from pathlib import Path

from workshop.checks.app_frames import app_frames, spans


def none_unpacked(error: BaseException, app: Path) -> str | None:
    """'`row` is None here (`Job(**row)`): its .fetchone() at line 160 found no
    row; check it first (if row is None: raise HTTPException(404, ...))'."""
    if not isinstance(error, TypeError):
        return None
    frames = app_frames(error, app)
    if not frames:
        return None
    seen = frames[-1]
    frame, tree = seen.frame, seen.tree
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call) or not spans(call, seen.line):
            continue
        for keyword in call.keywords:
            name = keyword.value
            if keyword.arg is not None or not isinstance(name, ast.Name):
                continue
            if name.id not in frame.f_locals or frame.f_locals[name.id] is not None:
                continue
            said = f"`{name.id}` is None here (`{ast.unparse(call)}`)"
            if fetched := _fetched_at(tree, frame.f_code.co_firstlineno, name.id):
                return (
                    f"{said}: its .fetchone() at line {fetched} found no row;"
                    f" check it first (if {name.id} is None: raise"
                    f" HTTPException(404, ...))"
                )
            return f"{said}: check it for None before unpacking it"
    return None


def _fetched_at(tree: ast.AST, first_line: int, name: str) -> int | None:
    """The line of `name = ....fetchone()` in the function that starts there."""
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        starts = min([function.lineno, *(d.lineno for d in function.decorator_list)])
        if first_line not in (function.lineno, starts):
            continue
        for node in ast.walk(function):
            value = getattr(node, "value", None)
            if (
                isinstance(node, ast.Assign | ast.AnnAssign)
                and any(
                    isinstance(t, ast.Name) and t.id == name
                    for t in (
                        node.targets if isinstance(node, ast.Assign) else [node.target]
                    )
                )
                and isinstance(value, ast.Call)
                and isinstance(value.func, ast.Attribute)
                and value.func.attr == "fetchone"
            ):
                return node.lineno
    return None
