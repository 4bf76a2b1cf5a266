"""Find the Celery app of app/worker.py the way `celery -A app.worker` does.

The worker command takes the module's `app` or `celery`, or else any Celery
instance at its top level; the checks and `workshop worker` must accept the
same apps, and when there is none say in one line what to write.
"""

from __future__ import annotations

import importlib
import re
from typing import Any


class NoCeleryApp(Exception):
    """app/worker.py imports, but holds no Celery app (or one no worker can use)."""


MISSING = (
    "app/worker.py has no Celery app: create one at its top level, "
    '`celery = Celery("newsletter", broker=broker)`, and decorate the tasks '
    "with @celery.task (read checkpoints/step-8/README.md)"
)


def worker_app() -> Any:
    """The Celery app of app.worker (importing it): `celery`, `app`, or the
    only Celery instance in the module, as Celery's own find_app looks."""
    from celery import Celery

    module = importlib.import_module("app.worker")
    for name in ("celery", "app"):
        if isinstance(getattr(module, name, None), Celery):
            return getattr(module, name)
    found = [value for value in vars(module).values() if isinstance(value, Celery)]
    if not found:
        raise NoCeleryApp(MISSING)
    return found[0]


def broker_problem(app: Any) -> str | None:
    """What is wrong with the app's broker URL, seen in the URL itself."""
    url = str(app.conf.broker_url or "")
    if re.match(r"sqla\+sqlite://[^/]", url):
        return (
            f"app/worker.py: the broker URL {url!r} has two slashes before a "
            "relative path, so SQLAlchemy reads its first folder as a host: write "
            "sqla+sqlite:/// (three slashes) and the path"
        )
    return None
