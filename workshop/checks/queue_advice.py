"""Known mistakes of the task-queue steps (8 on), and the fix for each.

The same shape as workshop/checks/diagnose.py's ADVICE, consulted before it:
where a message holds a Celery worker's evidence, the fix is the worker's
(a plain `def` task cannot `await`, a plain function has no `.delay`).
"""

from __future__ import annotations

import re

QUEUE_ADVICE: list[tuple[re.Pattern[str], str]] = [
    (
        # the step 8 suite's evidence: an async task called from a worker task
        re.compile(r"(?s)coroutine '(\w+)' was never awaited.*asyncio\.run"),
        "fix: a Celery task is a plain def, where {0}(...) only makes a coroutine "
        "that is never awaited: run it with asyncio.run(tasks.{0}(...))",
    ),
    (
        re.compile(r"'function' object has no attribute '(delay|apply_async)'"),
        "fix: the function you call .{0}() on is a plain function: decorate it "
        "with @celery.task in app/worker.py, and the worker runs it",
    ),
    (
        # kombu's, from .delay(): the broker refused, or never answered
        re.compile(
            r"OperationalError: .*(?:Error \d+ connecting|Connection refused"
            r"|[Tt]imed out|Timeout reading)"
        ),
        "fix: the broker did not answer: catch kombu's OperationalError around "
        ".delay(), mark the job failed and raise HTTPException(503, ...)",
    ),
]
