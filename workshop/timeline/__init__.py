"""The timeline `workshop serve` adds around the app: see it happen.

`instrument(app)` wraps any ASGI app (the learner's `app.main:app` or a
checkpoint's) without touching its code. It records, per request, when it
arrived and when its response was fully sent, each background task's start and
end, and the emails and jobs its code inserted (seen in the app's SQLite file,
read-only, and named at insert time by the request whose context wrote them:
database.py), and from step 8 each job sent to a Celery worker (worker_log.py).
A step of an async task that holds the event loop is noted too (tasks.py).
It serves what it saw under /_workshop/:

- /_workshop/timeline        the page (no external assets, relative URLs)
- /_workshop/timeline.json   the same events as JSON
- /_workshop/timeline/reset  POST: forget them
- /_workshop/static/...      Swagger UI and ReDoc, so /docs works offline

Modules: events (what is remembered), reading (the one line under a row),
tasks (where background tasks are observed), database (emails and jobs),
worker_log (step 8's Celery jobs, from both processes), asgi (the wrapper),
docs (offline /docs), page.html (the page), served (the same app as
`workshop serve`'s, by name, for the bench).
`workshop serve` wraps the app in workshop/devserver/app_process.py's
`build_app`.
"""

from __future__ import annotations

from workshop.timeline.asgi import PREFIX, instrument

__all__ = ["PREFIX", "instrument"]
