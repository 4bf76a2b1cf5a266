"""Which tasks the app added to which BackgroundTasks, and which FastAPI ran.

A check that finds no trace of a task says why from this evidence, not from
a guess: the task was never added; it was added to a BackgroundTasks that
FastAPI never ran (one the code made itself, or dropped by a response that
brought its own `background`); or it was added after the tasks had run
(after `yield` in a dependency). `why_not_run` is None when the task was
added and ran: then the check says what it saw instead.
"""

from __future__ import annotations

import threading

from fastapi.background import BackgroundTasks as FastAPITasks
from starlette.background import BackgroundTasks

_lock = threading.Lock()
# (the task's name, its arguments, the BackgroundTasks it went to, whether
# that one had run already)
_added: list[tuple[str, tuple, BackgroundTasks, bool]] = []
_ran: list[BackgroundTasks] = []
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
        add(self, func, *args, **kwargs)

    async def run(self) -> None:
        with _lock:
            _ran.append(self)
        await call(self)

    cls.add_task, cls.__call__ = add_task, run


def install() -> None:
    """Watch every BackgroundTasks of this process (once per session)."""
    for cls in (BackgroundTasks, FastAPITasks):
        _watched(cls)


def clear() -> None:
    with _lock:
        _added.clear()
        _ran.clear()


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
    if not mine:
        seen = f" (added: {', '.join(others)})" if others else " (no task was added)"
        return f"no {name} task was added{seen}"
    if all(late for _, late in mine):
        return (
            f"{name} was added after the background tasks had run (after `yield`"
            " in a dependency?): add it before the yield"
        )
    if not any(any(tasks is r for r in ran) for tasks, _ in mine):
        return (
            f"{name} went to a BackgroundTasks FastAPI never ran (your own"
            " BackgroundTasks()?): use the `background_tasks: BackgroundTasks`"
            " parameter"
        )
    return None
