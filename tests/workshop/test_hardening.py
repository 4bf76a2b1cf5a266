"""workshop/hardening.py on every checkpoint: odd input and old data, no 500.

Each test loads one checkpoint's `app` package in this process (its modules
are dropped again after), and serves it as `workshop serve` does:
`instrument(harden(app))`, the timeline around the hardened app. The lesson
itself carries none of it (tests/project/test_lesson_shared.py).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from workshop import hardening

ROOT = Path(__file__).resolve().parents[2]
CHECKPOINTS = sorted(
    (path.parent for path in ROOT.glob("checkpoints/step-*/app") if path.is_dir()),
    key=lambda path: int(path.name.removeprefix("step-")),
)
ADA = {"email": "ada@example.com", "name": "Ada"}


def drop_app_modules() -> None:
    for name in [n for n in sys.modules if n == "app" or n.startswith("app.")]:
        del sys.modules[name]


@pytest.fixture(params=CHECKPOINTS, ids=lambda folder: folder.name)
def lesson(request, tmp_path, monkeypatch) -> Iterator[Path]:
    """One checkpoint's folder, first on sys.path, with a database in tmp_path."""
    monkeypatch.setenv("NEWSLETTER_DB", str(tmp_path / "data" / "newsletter.db"))
    monkeypatch.setenv("MAIL_DELAY", "0")
    monkeypatch.syspath_prepend(str(request.param))
    drop_app_modules()
    try:
        yield request.param
    finally:
        drop_app_modules()


@pytest.fixture
def served(lesson) -> Callable:
    """Make a TestClient of the app as `workshop serve` serves it."""
    from fastapi.testclient import TestClient

    from workshop.hardening import harden
    from workshop.timeline import instrument

    def client():
        from app.main import app

        return TestClient(instrument(harden(app)), raise_server_exceptions=False)

    return client


@pytest.mark.parametrize("content_type", ["text/plain", "form", "json", None])
def test_a_body_that_is_not_utf8_gets_a_4xx(served, content_type) -> None:
    """printf '\\xff' | curl --data-binary @- -X POST .../subscribers: a 4xx."""
    types = {"form": "application/x-www-form-urlencoded", "json": "application/json"}
    kind = types.get(content_type, content_type)
    headers = {"content-type": kind} if kind else {}
    with served() as client:
        for body in [b"\xff", b"\xff\xfe not JSON", b"name=\xff&email=\xfe"]:
            response = client.post("/subscribers", content=body, headers=headers)
            assert 400 <= response.status_code < 500, (body, response.text)
            assert response.json()["detail"]


def test_odd_json_gets_a_clear_4xx(served) -> None:
    """A lone surrogate, a list, an empty body: a 4xx with a detail, never a 500."""
    json_type = {"content-type": "application/json"}
    with served() as client:
        for body in [
            b'{"email": "ada@example.com", "name": "\\ud800"}',
            b'{"email": "\\udfff@example.com", "name": "Ada"}',
            b"[1, 2]",
            b"",
        ]:
            response = client.post("/subscribers", content=body, headers=json_type)
            assert 400 <= response.status_code < 500, (body, response.status_code)
            assert response.json()["detail"]


def test_a_body_over_64_kib_gets_413(served) -> None:
    """5 MB announced, or 8 MiB streamed without a length: 413, nothing stored."""
    json_type = {"content-type": "application/json"}

    def streamed():  # no Content-Length (chunked)
        yield b'{"email": "ada@example.com", "name": "'
        for _ in range(512):
            yield b"x" * 16 * 1024
        yield b'"}'

    with served() as client:
        big = b"x" * 5_000_000
        response = client.post("/subscribers", content=big, headers=json_type)
        assert response.status_code == 413, response.status_code
        response = client.post("/subscribers", content=streamed(), headers=json_type)
        assert response.status_code == 413, response.status_code
        assert response.json()["detail"]
        assert client.get("/subscribers").json() == []


def test_a_422_stays_short(served) -> None:
    """A 422 answer is under 8 KiB, however long the wrong value was."""
    long = 60_000  # just under the 64 KiB limit, once sent as JSON
    with served() as client:
        for body in [
            {**ADA, "name": "x" * long},
            {**ADA, "name": "ü" * (long // 2)},
            {**ADA, "email": "a" * long + "@example.com"},
            {"name": "x" * long},
            ["x" * long],
        ]:
            response = client.post("/subscribers", json=body)
            assert response.status_code == 422, response.status_code
            assert len(response.content) < 8 * 1024, len(response.content)


def other_step_database(path: Path) -> None:
    """A file another step wrote: its outbox lacks this step's columns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, recipient TEXT)")
        db.execute("INSERT INTO outbox (recipient) VALUES ('old@example.com')")
        db.execute("PRAGMA user_version = 12345")


def test_another_steps_database_is_set_aside(served, tmp_path) -> None:
    """Old data of another step is moved aside at startup: no 500, nothing lost."""
    database = tmp_path / "data" / "newsletter.db"
    other_step_database(database)
    with served() as client:
        assert client.get("/outbox").json() == []
        assert client.post("/subscribers", json={**ADA, "email": "x@y"}).is_client_error
    aside = tmp_path / "data" / "newsletter-old1.db"
    with closing(sqlite3.connect(aside)) as db:
        assert db.execute("SELECT recipient FROM outbox").fetchall() == [
            ("old@example.com",)
        ]


def test_this_steps_database_is_kept(served, tmp_path) -> None:
    """The file this step wrote is not moved aside at the next start."""
    with served():
        pass  # the app started: its lifespan made the tables
    with closing(sqlite3.connect(tmp_path / "data" / "newsletter.db")) as db, db:
        db.execute(
            "INSERT INTO subscribers (email, name) VALUES ('kept@example.com', 'K')"
        )
    with served() as client:
        emails = [s["email"] for s in client.get("/subscribers").json()]
    assert emails == ["kept@example.com"]
    assert not (tmp_path / "data" / "newsletter-old1.db").exists()


def test_the_lesson_keeps_its_docs_urls_through_the_wrapper(served) -> None:
    """The timeline still finds /docs on the hardened app (offline assets)."""
    with served() as client:
        page = client.get("/docs")
    assert page.status_code == 200
    assert "/_workshop/static/" in page.text


def test_a_file_made_with_another_schema_is_moved_aside(tmp_path: Path, caplog) -> None:
    """Same SCHEMA: the data stays. Another: the file moves aside, with one log line."""
    db_file = tmp_path / "newsletter.db"
    old = "CREATE TABLE IF NOT EXISTS notes (text TEXT);"
    new = "CREATE TABLE IF NOT EXISTS notes (text TEXT, author TEXT);"

    def start(schema: str) -> list[str]:
        """What db.init_db does at startup; the notes the app then sees."""
        hardening.set_aside_other_schema(db_file, schema)
        with closing(sqlite3.connect(db_file)) as db, db:
            db.executescript(schema)
            return [row[0] for row in db.execute("SELECT text FROM notes")]

    assert start(old) == []
    with closing(sqlite3.connect(db_file)) as db, db:
        db.execute("INSERT INTO notes VALUES ('kept')")
    assert start(old) == ["kept"]
    assert caplog.messages == []

    assert start(new) == [], "another SCHEMA: a fresh file"
    with closing(sqlite3.connect(db_file)) as db:
        db.execute("SELECT author FROM notes")  # with the new column
    assert caplog.messages == [
        f"{db_file} was written by another step;"
        f" moved to {tmp_path / 'newsletter-old1.db'}; starting fresh"
    ]
    with closing(sqlite3.connect(tmp_path / "newsletter-old1.db")) as db:
        assert db.execute("SELECT text FROM notes").fetchall() == [("kept",)]
    start(old)
    assert (tmp_path / "newsletter-old2.db").is_file(), "old1 is never overwritten"
