"""Which tasks the app added to which BackgroundTasks, and which FastAPI ran.

A check that finds no trace of a task says why from this evidence, not from
a guess: the task was never added; it was added to a BackgroundTasks that
FastAPI never ran (one the code made itself, or dropped by a response that
brought its own `background`); or it was added after the tasks had run
(after `yield` in a dependency). `why_not_run` is None when the task was
added and ran: then the check says what it saw instead; `ran_with` says
with which arguments, against the task's own annotations.
"""

from __future__ import annotations

import inspect
import sys
import threading
from pathlib import Path

from fastapi.background import BackgroundTasks as FastAPITasks
from starlette.background import BackgroundTasks
from starlette.responses import Response

_lock = threading.Lock()
# (the task's name, its arguments, the BackgroundTasks it went to, whether
# that one had run already)
_added: list[tuple[str, tuple, BackgroundTasks, bool]] = []
_ran: list[BackgroundTasks] = []
# the task functions by name, to read their signatures
_functions: dict[str, object] = {}
# responses the app built itself with a background of its own: "app/main.py:60"
_own_background: list[str] = []
# FastAPI's subclass runs its tasks itself (its own __call__): watch both
_original = {
    (cls, name): getattr(cls, name)
    for cls in (BackgroundTasks, FastAPITasks)
    for name in ("add_task", "__call__")
}


def _watched(cls: type) -> None:
    add, call = _original[cls, "add_task"], _original[cls, "__call__"]

    def add_task(self, func, *args, **kwargs) -> None:
        with _lock:
            done = any(tasks is self for tasks in _ran)
            name = getattr(func, "__name__", repr(func))
            _added.append((name, args + tuple(kwargs.values()), self, done))
            _functions[name] = func
        add(self, func, *args, **kwargs)

    async def run(self) -> None:
        with _lock:
            _ran.append(self)
        await call(self)

    cls.add_task, cls.__call__ = add_task, run


_response_init = Response.__init__


def _noting_background(self, *args, **kwargs) -> None:
    """A Response built by app/ code with its own `background`: FastAPI then
    drops the BackgroundTasks it injected (tasks of the path operation and of
    its dependencies)."""
    background = kwargs.get("background", args[4] if len(args) > 4 else None)
    if background is not None:
        where = app_caller()
        if where is not None:
            with _lock:
                _own_background.append(where)
    _response_init(self, *args, **kwargs)


def app_caller() -> str | None:
    """'app/main.py:60': the first caller in the app's package, if any, of the
    function that called this one."""
    app = sys.modules.get("app")
    folder = Path(getattr(app, "__file__", None) or ".").resolve().parent
    frame = sys._getframe(2)
    while frame is not None:
        path = Path(frame.f_code.co_filename).resolve()
        if app is not None and path.is_relative_to(folder):
            return f"app/{path.relative_to(folder).as_posix()}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def install() -> None:
    """Watch every BackgroundTasks of this process (once per session)."""
    for cls in (BackgroundTasks, FastAPITasks):
        _watched(cls)
    Response.__init__ = _noting_background


def clear() -> None:
    with _lock:
        _added.clear()
        _ran.clear()
        _own_background.clear()


def why_not_run(name: str, argument: object = None) -> str | None:
    """What was seen of task `name` (added with `argument`, if given) that
    explains why it did not run."""
    with _lock:
        mine = [
            (tasks, late)
            for task, args, tasks, late in _added
            if task == name and (argument is None or argument in args)
        ]
        others = sorted({task for task, _, _, _ in _added if task != name})
        ran = list(_ran)
        own = list(_own_background)
    if not mine:
        seen = f" (added: {', '.join(others)})" if others else " (no task was added)"
        return (
            f"no {name} task was added{seen}: call background_tasks.add_task({name},"
            " ...) before the path operation returns"
        )
    if all(late for _, late in mine):
        return (
            f"{name} was added after the background tasks had run (after `yield`"
            " in a dependency?): add it before the yield"
        )
    if not any(any(tasks is r for r in ran) for tasks, _ in mine) and own:
        return (
            f"{name} was dropped: {own[0]} returns a response with its own"
            " background=, so FastAPI never ran background_tasks: add every task"
            " with background_tasks.add_task, return no background="
        )
    if not any(any(tasks is r for r in ran) for tasks, _ in mine):
        return (
            f"{name} went to a BackgroundTasks FastAPI never ran (your own"
            " BackgroundTasks()?): use the `background_tasks: BackgroundTasks`"
            " parameter"
        )
    return None


def ran_with(name: str) -> str | None:
    """'send_welcome_email(subscriber_id: int) ran with 'ada@example.com' (a
    str)': a task that ran with an argument its annotation does not take;
    None when the arguments agree with the annotations (or are unknown)."""
    with _lock:
        calls = [
            args for task, args, tasks, _ in _added
            if task == name and any(tasks is r for r in _ran)
        ]  # fmt: skip
        function = _functions.get(name)
    if not calls or function is None:
        return None
    return disagrees(name, function, calls[-1])


def disagrees(
    name: str, function, args: tuple, kwargs: dict | None = None
) -> str | None:
    """'send_welcome_email(subscriber_id: int) ran with 'ada@example.com' (a
    str)' when `function` ran with an argument its annotation does not take;
    None when they agree (or the call does not bind)."""
    try:
        signature = inspect.signature(function)
        bound = signature.bind(*args, **(kwargs or {}))
    except (TypeError, ValueError):
        return None
    for parameter, value in bound.arguments.items():
        wanted = signature.parameters[parameter].annotation
        typed = isinstance(wanted, type) and wanted is not inspect.Parameter.empty
        if typed and not isinstance(value, wanted):
            kind = type(value).__name__
            plain = isinstance(value, str | int | float)
            shown = f"{value!r} (a {kind})" if plain else f"a {kind}"
            return f"{name}({parameter}: {wanted.__name__}) ran with {shown}"
    return None
