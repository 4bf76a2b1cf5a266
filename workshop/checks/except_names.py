"""An `except` of app/ that names the raised error's class, but another one.

`from sqlite3 import OperationalError` and then `except OperationalError:`
around `.delay()` catches sqlite3's class; kombu raises its own class of that
name, which goes through. The evidence is the app's own frame: the `try`
around the line that raised, and what each of its `except` names is bound to
in that frame (names and attributes only, looked up, never called).
"""

from __future__ import annotations

import ast
from pathlib import Path

from workshop.checks.app_frames import app_frames, look_up, where


def another_class(error: BaseException, app: Path) -> str | None:
    """'`except OperationalError` (app/main.py:118) names sqlite3's
    OperationalError; this one is kombu.exceptions': import that one', or None."""
    raised = type(error)
    names = {kind.__name__ for kind in raised.__mro__}
    for seen in reversed(app_frames(error, app)):
        frame = seen.frame
        for handler in _handlers_around(seen.tree, seen.line):
            for expr in _named(handler.type):
                found = look_up(expr, frame)
                if not isinstance(found, type) or found.__name__ not in names:
                    continue
                if isinstance(error, found):
                    return None  # it does catch it (and raised it again)
                at = where(frame, app, handler.lineno)
                return (
                    f"`except {ast.unparse(expr)}` ({at})"
                    f" names {found.__module__}.{found.__name__}, but this one is"
                    f" {raised.__module__}.{raised.__name__}: import that one"
                    f" (from {raised.__module__} import {raised.__name__})"
                )
    return None


def _handlers_around(tree: ast.AST, line: int) -> list[ast.ExceptHandler]:
    """The except clauses of every `try` whose body holds `line`, innermost first."""
    tries = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Try | ast.TryStar)
        and node.body[0].lineno <= line <= (node.body[-1].end_lineno or 0)
    ]
    tries.sort(key=lambda node: node.body[0].lineno, reverse=True)
    return [handler for node in tries for handler in node.handlers]


def _named(expr: ast.expr | None) -> list[ast.expr]:
    if isinstance(expr, ast.Tuple):
        return [e for e in expr.elts if isinstance(e, ast.Name | ast.Attribute)]
    return [expr] if isinstance(expr, ast.Name | ast.Attribute) else []
