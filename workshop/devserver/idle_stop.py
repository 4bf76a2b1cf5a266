"""An idle worker stops at once when asked to stop (`stop_idle_at_once`).

On a broker kombu polls (SQLite, `sqla+sqlite://`), Celery's consumer loop
waits in kombu's `drain_events(timeout=2.0)`, which sleeps between two polls of
an empty queue, and looks at the stop request only between two such waits: a
warm shutdown of a worker with no job took 2 to 4 s, on every save under
`workshop worker` and on every Ctrl-C.

Here that sleep wakes when the stop request comes (Celery's
`worker_shutting_down` signal rings a socket pair) and, when the worker holds
no job (none reserved, running or waiting for its ETA), raises Celery's own
warm-shutdown exception right there (`state.maybe_shutdown()`). The rest is
Celery's warm shutdown, unchanged: the consumer closes its channel (kombu puts
back any message taken and not acknowledged) and the pool stops. Nothing can be
taken between the look and the stop: the look runs in the consumer's own thread,
between two polls, and the loop ends there. A worker with a job goes on as
before: its jobs finish first. Celery's soft shutdown settings
(`worker_soft_shutdown_timeout`) do not do this: they time a cold shutdown.
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time
from typing import Any


def stop_idle_at_once() -> None:
    """Apply the above to the Celery worker this process starts next."""
    from celery import signals
    from celery.worker import state
    from kombu.transport.virtual import base

    bell, ringer = socket.socketpair()  # select() takes sockets on Windows too
    bell.setblocking(False)
    ringer.setblocking(False)

    def ring(**_: Any) -> None:  # in Celery's signal handler: no locks here
        with contextlib.suppress(OSError):  # full: it rang already
            ringer.send(b"\0")

    def pause(seconds: float) -> None:
        """kombu's sleep between two polls of an empty queue."""
        if threading.current_thread() is not threading.main_thread():
            time.sleep(seconds)  # not the consumer's loop
            return
        if select.select([bell], [], [], seconds)[0]:
            with contextlib.suppress(OSError):
                bell.recv(64)  # heard: the next pause sleeps again
        if not state.requests:  # no job reserved, running or scheduled
            state.maybe_shutdown()  # raises WorkerShutdown once asked to stop

    signals.worker_shutting_down.connect(ring, weak=False)
    base.sleep = pause  # drain_events' `sleep(polling_interval)`
