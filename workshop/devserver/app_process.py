"""The app process of `workshop serve`: one uvicorn server for one version of app/.

`workshop serve` (app_supervisor.py) starts `python -m
workshop.devserver.app_process` again after every save, so each start imports
the learner's code afresh. When app/ does not import, this process still
starts: it prints the error once, as one line that points at the learner's
line, and serves a page that says the same, so a browser shows why instead
of waiting. An app whose startup (lifespan)
fails is handled the same way, after uvicorn's traceback. The next save
replaces this process.

Each process starts warm (FastAPI and uvicorn imported) and waits for a
line `go` on stdin before it imports app/: the supervisor keeps the next one
ready while the current one serves.

`build_app` is the one place that decides which ASGI app uvicorn runs: wrap its
result to add anything around the learner's app.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import socket
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

from workshop.devserver.supervisor import say, stop_with_parent
from workshop.importing import describe_load_error, import_hang, stuck_in
from workshop.project import APP

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

FIX_IT = "fix it and save: the app restarts"
NO_BREAKPOINT = (
    "breakpoint() does not stop under `make run` (it has no terminal): use"
    ' the editor\'s "Debug the app", or `.venv/bin/fastapi dev app/main.py`'
)
STARTUP_FAILED = 3  # uvicorn's exit status when the app's lifespan startup fails


def build_app(folder: Path) -> ASGIApp:
    """The ASGI app to serve: `app.main:app` from `folder` (which holds app/),
    inside the timeline's wrapper (workshop/timeline/: /_workshop/timeline,
    offline /docs), or an error page when it does not import.

    `folder` goes first on sys.path, so a checkpoint's `app` wins over the
    repository's own app/ in the working directory.
    """
    sys.path.insert(0, str(folder))
    if not (folder / APP / "main.py").is_file():  # else another app/ could load
        return error_page(f"{APP}/main.py: no such file", folder)
    try:
        with reporting_a_hang(folder):
            app = importlib.import_module(f"{APP}.main").app
    except (Exception, SystemExit) as error:  # sys.exit() at import too
        return error_page(describe_load_error(error, folder), folder)
    # The timeline and offline /docs around it; imported here, in the app
    # process only (the supervisor imports this module too).
    from workshop.hardening import harden  # hardening (lesson branch): no 500s
    from workshop.timeline import instrument

    return instrument(harden(app))


@contextlib.contextmanager
def reporting_a_hang(folder: Path) -> Iterator[None]:
    """An import of app/ that has not finished after the import limit (5 s,
    WORKSHOP_IMPORT_LIMIT, as for the checks) is one line, with the line of
    app/ it is stuck on; the next save replaces this process."""
    done, importing = threading.Event(), threading.get_ident()
    limit = import_limit()

    def watch() -> None:
        if done.wait(limit):
            return
        found = stuck_in(importing, folder)
        where = None
        if found is not None:
            where = f"{from_cwd_path(str(found[0]))}:{found[1]} in {found[2]}"
        line = f"{import_hang(limit, where)} — {FIX_IT}"
        say(line, "red")

    threading.Thread(target=watch, daemon=True).start()
    try:
        yield
    finally:
        done.set()


def import_limit() -> float:
    from workshop.checks.suites import Limits
    from workshop.errors import WorkshopError

    try:
        return Limits.from_env().importing
    except WorkshopError:  # a bad value: the checks say so; serve keeps going
        return Limits.importing


def error_page(found: str, folder: Path) -> ErrorPage:
    """Print the first line of `found` ('app/main.py:12: NameError: ...') once,
    and serve it, with the advice that may follow, as a page."""
    line, _, advice = found.partition("\n")
    line = f"{from_cwd(line, folder)} — {FIX_IT}"
    say(line, "red")
    lines = "\n".join(filter(None, [line, advice]))
    return ErrorPage(f"The app does not import:\n\n{lines}\n")


def from_cwd(line: str, folder: Path) -> str:
    """`line`'s 'app/...' path seen from the working directory, so a terminal
    opens 'checkpoints/step-1/app/main.py:12' when a checkpoint is served."""
    relative = from_cwd_path(str(folder))
    if relative == "." or not line.startswith(f"{APP}/"):
        return line
    return f"{relative}/{line}"


class ErrorPage:
    """An ASGI app that answers every HTTP request with 503 and `text`."""

    def __init__(self, text: str) -> None:
        self.text = text

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = [(b"content-type", b"text/plain; charset=utf-8")]
        start = {"type": "http.response.start", "status": 503, "headers": headers}
        await send(start)
        await send({"type": "http.response.body", "body": self.text.encode()})


def no_breakpoints() -> None:
    """breakpoint() cannot stop in a server that has no terminal of its own:
    say so, where, and what can stop there; then carry on (PYTHONBREAKPOINT,
    e.g. a remote debugger, still wins)."""
    if os.environ.get("PYTHONBREAKPOINT"):
        return
    said: set[str] = set()

    def hook(*args: object, **kwargs: object) -> None:
        caller = sys._getframe(1)
        where = f"{from_cwd_path(caller.f_code.co_filename)}:{caller.f_lineno}"
        if where not in said:
            said.add(where)
            say(f"{where}: {NO_BREAKPOINT}", "yellow")

    sys.breakpointhook = hook


def from_cwd_path(filename: str) -> str:
    try:
        return Path(filename).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return filename


def run(app: ASGIApp, args: argparse.Namespace) -> None:
    """Serve `app` with uvicorn until it is asked to stop."""
    import uvicorn

    # An error page has no startup to wait for: no "Application startup complete."
    lifespan = "off" if isinstance(app, ErrorPage) else "auto"
    config = uvicorn.Config(app, host=args.host, port=args.port, lifespan=lifespan)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises its SIGINT
        uvicorn.Server(config).run(sockets=args.sockets)


def warm_up() -> None:
    """Import what every app needs (FastAPI, uvicorn and its protocols, the
    timeline) now, before the save that needs it: the supervisor keeps one
    process warm and waiting, so a restart pays only for importing app/."""
    import fastapi  # noqa: F401
    import uvicorn

    import workshop.timeline  # noqa: F401

    uvicorn.Config(ErrorPage("")).load()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.devserver.app_process")
    parser.add_argument("folder", type=Path, help="the folder that holds app/")
    parser.add_argument("--fd", type=int, help="a listening socket to serve on")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    args.sockets = None if args.fd is None else [socket.socket(fileno=args.fd)]

    os.environ.setdefault("FASTAPI_ENV", "development")  # as `fastapi dev` sets it
    warm_up()
    if sys.stdin.readline().strip() != "go":
        return 0  # not needed after all: serve stopped or ended
    stop_with_parent()
    no_breakpoints()
    try:
        run(build_app(args.folder), args)
    except SystemExit as exit:
        if exit.code != STARTUP_FAILED:
            raise
        # uvicorn printed the error; the port stays served until the next save
        line = f"the app's startup failed (the error is above) — {FIX_IT}"
        say(line, "red")
        run(ErrorPage(f"{line}\n"), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
