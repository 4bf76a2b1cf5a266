"""`workshop watch --poll`: the files are looked at on a timer, for mounts where
file events never arrive (Docker Desktop's shared folders, network drives)."""

from __future__ import annotations

import queue
import threading
from pathlib import Path
from typing import Any

import pytest
import watchfiles
from test_watch import Output, save_until_seen, start_watch

from workshop.checks import appwatch
from workshop.commands import watch


@pytest.mark.parametrize(("poll", "expected"), [(True, True), (False, None)])
def test_poll_asks_watchfiles_to_poll(
    workshop_repo: Path, monkeypatch, poll: bool, expected: bool | None
) -> None:
    """--poll forces polling; without it watchfiles chooses (and still reads
    WATCHFILES_FORCE_POLLING)."""
    seen: dict[str, Any] = {}
    stop = threading.Event()

    def fake_watch(*paths, **options):
        seen.update(options)
        stop.set()
        yield {(watchfiles.Change.modified, str(workshop_repo / "app" / "main.py"))}

    monkeypatch.setattr(watchfiles, "watch", fake_watch)
    events: queue.Queue[watch.Event] = queue.Queue()
    watch._watch_forever(workshop_repo, events, threading.Event(), stop, poll)
    assert seen["force_polling"] is expected
    assert seen["poll_delay_ms"] == appwatch.POLL_DELAY_MS
    assert events.get_nowait().names == {"app/main.py"}


def test_watch_poll_notices_a_save(workshop_repo: Path) -> None:
    process = start_watch(workshop_repo, "0", "--poll")
    output = Output(process)
    try:
        assert output.wait_for("Waiting for changes"), output.seen
        main = workshop_repo / "app" / "main.py"
        save_until_seen(output, main, "STEP = 0\n", "changed: app/main.py")
        assert output.wait_for("All 1 checks of step 0 pass."), output.seen
    finally:
        output.stop()
