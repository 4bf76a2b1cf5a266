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

An `async def` task runs on the event loop: the hook drives its coroutine
step by step (`Steps`), timing each step. A step that keeps the loop longer
than BLOCKING (a `time.sleep` in an `async def`, step 2's trap) is reported
as the task's own "blocked the event loop" stretch: no request could be
read or answered meanwhile, and the timeline says which task did it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Coroutine, Generator
from contextvars import ContextVar
from typing import Any, Protocol

from starlette.background import BackgroundTask


class TaskObserver(Protocol):
    """What the wrapper puts in `current` for the request it records."""

    def task_started(self, name: str) -> Any: ...

    def task_ended(self, token: Any, error: BaseException | None) -> None: ...

    def task_blocked(self, token: Any, start: float, end: float) -> None: ...


current: ContextVar[TaskObserver | None] = ContextVar(
    "workshop_timeline_request", default=None
)
_MARK = "_workshop_timeline"
BLOCKING = 0.1  # seconds one step of an async task may keep the loop


class Steps:
    """Awaits a coroutine as `await` would, timing each step it runs.

    Each `send` runs the coroutine until it next waits; while it runs,
    nothing else on the loop does. Values and errors pass through unchanged.
    """

    def __init__(
        self, coro: Coroutine[Any, Any, Any], slow: Callable[[float, float], None]
    ) -> None:
        self._coro, self._slow = coro, slow

    def __await__(self) -> Generator[Any, Any, Any]:
        value: Any = None
        error: BaseException | None = None
        while True:
            start = time.perf_counter()
            try:
                if error is None:
                    waited_on = self._coro.send(value)
                else:
                    waited_on = self._coro.throw(error)
            except StopIteration as stop:
                self._check(start)
                return stop.value
            except BaseException:
                self._check(start)
                raise
            self._check(start)
            try:
                value, error = (yield waited_on), None
            except GeneratorExit:  # this awaitable is closed: close the coroutine
                self._coro.close()
                raise
            except BaseException as thrown:  # e.g. cancelled: into the coroutine
                value, error = None, thrown

    def _check(self, start: float) -> None:
        end = time.perf_counter()
        if end - start > BLOCKING:
            self._slow(start, end)


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
            if self.is_async:
                blocked = functools.partial(observer.task_blocked, token)
                await Steps(self.func(*self.args, **self.kwargs), blocked)
            else:
                await original(self)
        except BaseException as error:
            observer.task_ended(token, error)
            raise
        observer.task_ended(token, None)

    setattr(observed, _MARK, True)
    BackgroundTask.__call__ = observed  # type: ignore[method-assign]
