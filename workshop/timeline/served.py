"""The app `workshop serve` runs: `app.main:app` inside the timeline's wrapper.

uvicorn imports it by name (`workshop.timeline.served:app`), in its reloading
worker, with the served folder first on the import path, so `app` is the
learner's app/ or a checkpoint's. Nothing in that folder changes.
"""

from __future__ import annotations

from app.main import app as lesson_app
from workshop.timeline import instrument

app = instrument(lesson_app)
