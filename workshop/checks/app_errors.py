"""What the app under test raised while a check ran: the first thing to show.

The suites' app (TestClient and live server alike) is wrapped by `noting`,
which records every exception a request, its dependencies or its background
tasks raise; the in-process Celery worker records a task's failure. The
checks' plugin (workshop/checks/plugin.py) takes them after each test: when
the test failed and the app raised in app/, the failure's first line is that
exception at its app/ file:line, whatever the test expected; the test's own
reading follows.
"""

from __future__ import annotations

import os
import re
import threading
import traceback
from pathlib import Path
from typing import Any

from workshop.checks.diagnose import CALLED_WRONGLY, advice, in_context
from workshop.checks.except_names import another_class
from workshop.checks.none_rows import none_unpacked
from workshop.checks.sql_params import not_a_sequence

_lock = threading.Lock()
# (the exception, whether it was raised after the response: in a task; None:
# not known, as in the worker)
_raised: list[tuple[BaseException | str, bool | None]] = []


def record_line(line: str) -> None:
    """A finding already in words (`app/main.py:54: EncodeError: ...`), read
    from a web server's or worker's log by the suites."""
    with _lock:
        if all(line != seen for seen, _ in _raised):
            _raised.append((line, None))


def from_log(text: str, app_dir: Path | None = None) -> str | None:
    """The app's error in a process's log: the last traceback with a frame in
    app/ as `app/main.py:54: EncodeError: ...` (and its fix); or what the
    worker logged about a task it does not know."""
    if match := _UNREGISTERED.search(text):
        name = match[1]
        return (
            f"the worker logged: Received unregistered task of type {name!r}: "
            "it imports app.worker only: define the task in app/worker.py, "
            "or import its module there"
        )
    folder = (app_dir or Path(os.environ.get("WORKSHOP_APP_DIR") or ".")) / "app"
    app = folder.resolve()
    for block in reversed(text.split("Traceback (most recent call last):")[1:]):
        frames = [
            (Path(m[1]), int(m[2]), m[3])
            for m in _FRAME.finditer(block)
            if Path(m[1]).resolve().is_relative_to(app)
        ]
        error = next(
            (line for line in block.splitlines()[1:] if line and not line[0].isspace()),
            None,
        )
        if frames and error:
            path, number, source = frames[-1]
            name, _, detail = error.partition(": ")
            text = f"{name.rsplit('.', 1)[-1]}: {detail}" if detail else name
            where = f"app/{path.resolve().relative_to(app).as_posix()}:{number}"
            found = in_context(text, source, None) or advice(text)
            return f"{where}: {text}" + (f" — {found}" if found else "")
    return None


_UNREGISTERED = re.compile(r"Received unregistered task of type '([\w.]+)'")
# a frame, and the line of code under it (the evidence in_context reads)
_FRAME = re.compile(r'File "([^"]+)", line (\d+)[^\n]*\n?([^\n]*)')


def record(error: BaseException, in_task: bool | None = None) -> None:
    with _lock:
        if all(error is not seen for seen, _ in _raised):
            _raised.append((error, in_task))


def take() -> list[tuple[BaseException | str, bool | None]]:
    """Everything recorded since the last take, oldest first."""
    with _lock:
        found = list(_raised)
        _raised.clear()
    return found


def noting(app: Any) -> Any:
    """`app` (ASGI) with every exception it raises recorded, then re-raised;
    one raised once the response was sent came from a background task."""

    class Noting:
        async def __call__(self, scope, receive, send) -> None:
            answered, status, sent = False, 0, b""

            async def sending(message) -> None:
                nonlocal answered, status, sent
                await send(message)
                if message["type"] == "http.response.start":
                    status = message["status"]
                body = message["type"] == "http.response.body"
                if body and status == 422:
                    sent += message.get("body", b"")
                answered = answered or (body and not message.get("more_body"))

            try:
                await app(scope, receive, sending)
                if status == 422 and (line := unannotated(scope, sent)):
                    record_line(line)
            except Exception as error:
                # Starlette answers 500 for the request's own error, then re-raises
                in_task = answered and status != 500
                record(error, in_task if scope["type"] == "http" else None)
                raise

        def __getattr__(self, name: str) -> Any:
            return getattr(app, name)

    return Noting()


def app_line(
    error: BaseException | str,
    in_task: bool | None = None,
    app_dir: Path | None = None,
) -> str | None:
    """'app/main.py:47: NameError: name 'x' is not defined' (and ' — fix: ...'
    when diagnose.py knows one), or None when no frame of the
    traceback is in app/: then the error is not the app's own."""
    if isinstance(error, str):
        return error  # already in words (from a log)
    folder = app_dir or Path(os.environ.get("WORKSHOP_APP_DIR") or ".")
    app = (folder / "app").resolve()
    if (returned := _bad_return(error, app)) is not None:
        return returned
    seen: set[int] = set()
    while error.__cause__ is not None or error.__context__ is not None:
        if id(error) in seen:  # a cycle of causes
            break
        seen.add(id(error))
        inner = error.__cause__ or error.__context__
        if _ours(inner, app) and not _ours(error, app):
            error = inner  # the app's own error under a wrapper (ExceptionGroup)
            continue
        break
    for group_member in getattr(error, "exceptions", ()):
        if _ours(group_member, app):
            error = group_member
            break
    frames = [f for f in traceback.extract_tb(error.__traceback__) if _in(f, app)]
    if not frames:
        return _misbound(error)
    last = frames[-1]
    where = f"app/{Path(last.filename).resolve().relative_to(app).as_posix()}"
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    line = f"{where}:{last.lineno}: {text}"
    found = (
        another_class(error, app)
        or not_a_sequence(error, app)
        or none_unpacked(error, app)
        or _closed_here(text, last.filename, last.lineno)
        or in_context(text, last.line, in_task)
        or advice(text)
    )
    return f"{line} — {found}" if found else line  # one line: where, what, fix


def _misbound(error: BaseException) -> str | None:
    """A task called with arguments its def does not take (a TypeError raised
    by the call itself, so no frame of app/): each parameter, with the
    argument it got, read from the caller that held the task (Starlette's
    BackgroundTask: its func, args, kwargs). None when no such caller is seen
    or the arguments cannot be laid out (too many, an unknown keyword)."""
    import inspect

    match = CALLED_WRONGLY.search(str(error))
    if not isinstance(error, TypeError) or match is None:
        return None
    tb = error.__traceback__
    while tb is not None:
        holder = tb.tb_frame.f_locals.get("self")
        func = getattr(holder, "func", None)
        if getattr(func, "__name__", None) == match[1] and hasattr(holder, "args"):
            break
        tb = tb.tb_next
    else:
        return None
    try:
        signature = inspect.signature(func)
        bound = signature.bind_partial(*holder.args, **getattr(holder, "kwargs", {}))
    except (TypeError, ValueError):
        return None
    got = ", ".join(
        f"{name}={bound.arguments[name]!r}" if name in bound.arguments else
        f"no {name}"
        for name in signature.parameters
    )  # fmt: skip
    name, parameters = match[1], ", ".join(signature.parameters)
    return (
        f"{name}({parameters}) got {got}: pass add_task({name}, ...) the"
        f" arguments {name}() takes, in its order — TypeError: {error}"
    )


def _closed_here(text: str, filename: str, number: int) -> str | None:
    """A closed connection used after the `with ... connect()` block of the
    same function closed it (read from the function's code): not the
    request's connection."""
    import ast

    if "Cannot operate on a closed database" not in text:
        return None
    try:
        tree = ast.parse(Path(filename).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    functions = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.lineno <= number <= (node.end_lineno or 0)
    ]
    for function in functions[-1:]:
        for node in ast.walk(function):
            opens = isinstance(node, ast.With) and any(
                "connect(" in ast.unparse(item.context_expr) for item in node.items
            )
            if opens and (node.end_lineno or 0) < number:
                return (
                    f"fix: the `with` block at line {node.lineno} closed this"
                    " connection before this line: use it inside that block"
                    " (indent this line under it)"
                )
    return None


def _bad_return(error: BaseException, app: Path) -> str | None:
    """A path operation in app/ returned what its return type refuses
    (FastAPI's ResponseValidationError, raised in FastAPI's own frames: its
    endpoint context names the app/ function and line)."""
    if type(error).__name__ != "ResponseValidationError":
        return None
    file = getattr(error, "endpoint_file", None)
    line = getattr(error, "endpoint_line", None)
    if not file or not line or not Path(file).resolve().is_relative_to(app):
        return None
    where = f"app/{Path(file).resolve().relative_to(app).as_posix()}:{line}"
    name = getattr(error, "endpoint_function", None) or "the path operation"
    errors = list(error.errors())  # type: ignore[attr-defined]
    first = errors[0] if errors else {}
    returned = first.get("input")
    said = f"{where}: ResponseValidationError: {name}() returned {returned!r}"
    said += f" ({first['msg']})" if first.get("msg") else ""
    if returned is None:
        return (
            f"{said} — fix: return the result: a function that ends without"
            " `return` returns None"
        )
    return f"{said} — fix: return what its return type (-> ...) says"


def unannotated(scope: dict[str, Any], body: bytes) -> str | None:
    """A 422 that FastAPI answered because a parameter of a path operation
    or dependency in app/ has no type (so it is read from the query string):
    the parameter at its app/ line, from the route's dependant tree."""
    import inspect
    import json

    route = scope.get("route")
    dependant = getattr(route, "dependant", None)
    try:
        detail = json.loads(body)["detail"]
    except (ValueError, KeyError, TypeError):
        return None
    if dependant is None or not isinstance(detail, list):
        return None
    missing = {e["loc"][-1] for e in detail if e.get("loc", [None])[0] == "query"}
    stack = [dependant]
    while stack:
        node = stack.pop()
        stack.extend(node.dependencies)
        call = node.call
        try:
            parameters = inspect.signature(call).parameters if call else {}
            lines, start = inspect.getsourcelines(call) if call else ([], 0)
            file = Path(inspect.getsourcefile(call) or "")
        except (TypeError, ValueError, OSError):
            continue
        for name, parameter in parameters.items():
            typed = parameter.annotation is not inspect.Parameter.empty
            if name not in missing or typed:
                continue
            number = next(
                (start + i for i, text in enumerate(lines) if name in text and i), start
            )
            where = f"{file.name}:{number}"
            if folder := _app_folder(file):
                where = f"app/{file.resolve().relative_to(folder).as_posix()}:{number}"
            kind = _KNOWN_TYPES.get(name)
            fix = f"annotate it, {name}: {kind}" if kind else "give it a type"
            return (
                f"{where}: {scope['method']} {scope['path']} answered 422:"
                f" {getattr(call, '__name__', 'a dependency')}()'s parameter `{name}`"
                f" has no type, so FastAPI read it as a required query parameter:"
                f" {fix}"
            )
    return None


_KNOWN_TYPES = {
    "request": "Request",
    "background_tasks": "BackgroundTasks",
    "response": "Response",
}


def _app_folder(file: Path) -> Path | None:
    folder = Path(os.environ.get("WORKSHOP_APP_DIR") or ".") / "app"
    folder = folder.resolve()
    return folder if file.resolve().is_relative_to(folder) else None


def _ours(error: BaseException | None, app: Path) -> bool:
    if error is None:
        return False
    return any(_in(f, app) for f in traceback.extract_tb(error.__traceback__))


def _in(frame: traceback.FrameSummary, app: Path) -> bool:
    try:
        return Path(frame.filename).resolve().is_relative_to(app)
    except (OSError, ValueError):
        return False
