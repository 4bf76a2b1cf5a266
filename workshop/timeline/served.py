"""`app.main:app`, hardened, inside the timeline's wrapper, importable by name.

`workshop serve` builds the same app in workshop/devserver/app_process.py's
`build_app`; this module is for uvicorn by name
(`workshop.timeline.served:app`), as `workshop bench` runs it, with the served
folder first on the import path (`--app-dir`), so `app` is that folder's app/.
Nothing in it changes.
"""

from __future__ import annotations

import os

from app.main import app as lesson_app
from workshop.hardening import harden
from workshop.timeline import instrument

if os.environ.get("WORKSHOP_KEY_PREFIX"):  # a test's own Redis keys
    from workshop.queueboot import configure_broker

    configure_broker()
app = instrument(harden(lesson_app))
