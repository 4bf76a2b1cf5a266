"""The worker's log, in one process: what `Recorder` writes, `WorkerLog` reads.

The Celery signals that call `Recorder.write` are exercised with a real
worker by test_timeline_worker.py; here the file itself: rows come back
once, in order, on this process's clock, and a log that is not there yet is
no error.
"""

from __future__ import annotations

import time
from pathlib import Path

from workshop.timeline.worker_log import Recorder, WorkerLog, short


def test_rows_written_by_the_worker_are_read_once(tmp_path: Path) -> None:
    path = tmp_path / "timeline-worker.db"
    log = WorkerLog(path)
    assert log.changes() == []  # no worker has started: nothing, no error
    recorder = Recorder(path)
    before = time.perf_counter()
    recorder.write("t1", "app.worker.send_digest", "running")
    recorder.write("t1", "app.worker.send_digest", "failed", "MailError: bounced")
    after = time.perf_counter()
    rows = log.changes()
    assert [(r.task_id, r.event, r.error) for r in rows] == [
        ("t1", "running", None),
        ("t1", "failed", "MailError: bounced"),
    ]
    slack = 0.05  # two clocks (time.time, perf_counter) compared once
    assert all(before - slack <= r.at <= after + slack for r in rows)
    assert log.changes() == []  # read once
    recorder.write("t2", "app.worker.welcome", "running")
    assert [r.task_id for r in log.changes()] == ["t2"]
    log.close()


def test_short_names() -> None:
    assert short("app.worker.send_digest") == "send_digest"
    assert short("welcome") == "welcome"
