"""Where background tasks are observed: Starlette's `BackgroundTask.__call__`.

On the pinned Starlette (1.10) a response sends its body, then awaits
`self.background()`. FastAPI puts its `BackgroundTasks` there, whose
`__call__` awaits each `BackgroundTask` in turn. So every task, whichever
response class carries it, whether a dependency or the endpoint added it, and
whether it is `def` (threadpool) or `async def`, passes through
`BackgroundTask.__call__` once. Timing that call gives each task's own start,
end, name and error. An ASGI wrapper alone sees only the gap between the last
body message and the app's return: all tasks as one block, unnamed.

The hook is installed once per process by `instrument()`; it records only
inside a request the wrapper is recording (a context variable says which),
and otherwise calls the original at once. The lesson's code is not changed.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import Any, Protocol

from starlette.background import BackgroundTask


class TaskObserver(Protocol):
    """What the wrapper puts in `current` for the request it records."""

    def task_started(self, name: str) -> Any: ...

    def task_ended(self, token: Any, error: BaseException | None) -> None: ...


current: ContextVar[TaskObserver | None] = ContextVar(
    "workshop_timeline_request", default=None
)
_MARK = "_workshop_timeline"


def task_name(func: Any) -> str:
    """The function's name as the lesson wrote it (partials unwrapped)."""
    while isinstance(func, functools.partial):
        func = func.func
    name = getattr(func, "__name__", None) or type(func).__name__
    return str(name)


def install() -> None:
    """Put the observing `__call__` on `BackgroundTask` (once per process)."""
    if getattr(BackgroundTask.__call__, _MARK, False):
        return
    original = BackgroundTask.__call__

    @functools.wraps(original)
    async def observed(self: BackgroundTask) -> None:
        observer = current.get()
        if observer is None:
            return await original(self)
        token = observer.task_started(task_name(self.func))
        try:
            await original(self)
        except BaseException as error:
            observer.task_ended(token, error)
            raise
        observer.task_ended(token, None)

    setattr(observed, _MARK, True)
    BackgroundTask.__call__ = observed  # type: ignore[method-assign]
