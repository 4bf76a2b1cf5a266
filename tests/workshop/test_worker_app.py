"""A Celery app the checks cannot use is one line naming the fix, never an
INTERNALERROR traceback; an app under another name works, as with celery -A."""

from __future__ import annotations

import shutil
from pathlib import Path

from workshop.checks.suites import run_suites

ROOT = Path(__file__).resolve().parents[2]
NO_APP = '''\
"""Tasks, but no Celery app."""


def welcome(subscriber_id: int, email: str, name: str) -> None:
    pass


def send_digest(job_id: str) -> None:
    pass


def import_subscribers(job_id: str, path: str) -> None:
    pass
'''


def step_8_app(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "checkpoints" / "step-8" / "app", tmp_path / "app")
    return tmp_path


def messages(result) -> list[str]:
    return result.messages + [f.message for f in result.failures]


def test_no_celery_app_is_one_line(tmp_path: Path) -> None:
    app = step_8_app(tmp_path)
    (app / "app" / "worker.py").write_text(NO_APP)
    [result] = run_suites(ROOT, app, [0])
    assert not result.ok
    first = messages(result)[0]
    assert "INTERNALERROR" not in first and "Traceback" not in first
    assert "app/worker.py has no Celery app: create one at its top level" in first


def test_a_celery_app_under_another_name_is_found(tmp_path: Path) -> None:
    app = step_8_app(tmp_path)
    worker = app / "app" / "worker.py"
    text = worker.read_text().replace("celery = Celery(", "queue = Celery(")
    worker.write_text(
        text.replace("@celery.task", "@queue.task").replace("celery.conf", "queue.conf")
    )
    [result] = run_suites(ROOT, app, [0])
    assert result.ok, messages(result)


def test_a_broker_url_with_two_slashes_is_named(tmp_path: Path) -> None:
    """`sqla+sqlite://` and a relative path: green before (the checks' worker
    used its own broker), while the app answered 500."""
    app = step_8_app(tmp_path)
    worker = app / "app" / "worker.py"
    worker.write_text(
        worker.read_text().replace('f"sqla+sqlite:///{', 'f"sqla+sqlite://{')
    )
    [result] = run_suites(ROOT, app, [0])
    assert not result.ok
    first = messages(result)[0].splitlines()[0]
    assert "the broker URL 'sqla+sqlite://data/broker.db' has two slashes" in first
    assert "write sqla+sqlite:/// (three slashes)" in first
