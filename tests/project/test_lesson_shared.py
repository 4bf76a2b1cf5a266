"""app/hardening.py is shared: the same bytes in app/ and in every checkpoint.

It holds what every step needs and none teaches, so that a step's diff and its
main.py show only the lesson. A copy that drifts would make one step's diff
show hardening changes, or one checkpoint behave unlike the others.
"""

# no `from __future__ import annotations`: FastAPI must resolve the tiny apps'
# annotations at runtime (docs/FACTS.md, notes for test writers)
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = "hardening.py"


def checkpoint_apps() -> list[Path]:
    """checkpoints/step-N/app for every N, found by folder (later steps too)."""
    apps = sorted(
        (path for path in ROOT.glob("checkpoints/step-*/app") if path.is_dir()),
        key=lambda path: int(path.parent.name.removeprefix("step-")),
    )
    assert apps, "no checkpoints found"
    return apps


def test_every_app_carries_the_same_hardening_module() -> None:
    """app/hardening.py and each checkpoint's copy are identical, byte for byte."""
    reference = (ROOT / "app" / SHARED).read_bytes()
    differ = [
        str(app.relative_to(ROOT) / SHARED)
        for app in checkpoint_apps()
        if not (app / SHARED).is_file() or (app / SHARED).read_bytes() != reference
    ]
    assert differ == [], f"missing or not equal to app/{SHARED}: {differ}"


def test_every_main_installs_it() -> None:
    """Each checkpoint's main.py calls harden(app), so the module is in use."""
    missing = [
        str(app.relative_to(ROOT) / "main.py")
        for app in checkpoint_apps()
        if "\nharden(app)" not in (app / "main.py").read_text()
    ]
    assert missing == []


# Why the module exists: FastAPI's defaults on the pinned versions, on tiny
# apps (the guide of step 0 and docs/FACTS.md state these facts).


def tiny_app(limit_body: bool = False):
    from fastapi import FastAPI
    from pydantic import BaseModel

    class Person(BaseModel):
        name: str
        age: int

    app = FastAPI()
    if limit_body:
        from starlette.middleware.body_limit import RequestBodyLimitMiddleware

        app.add_middleware(RequestBodyLimitMiddleware, max_body_size=64 * 1024)
    app.state.calls = []

    @app.post("/people")
    def add(person: Person) -> Person:
        return person

    @app.post("/ping")
    def ping() -> str:
        app.state.calls.append("ping")
        return "pong"

    return app


def test_fastapi_reads_any_body_and_its_422_repeats_the_input() -> None:
    """A 1 MiB name is read whole, and the 422 answer repeats all of it."""
    from fastapi.testclient import TestClient

    name = "x" * 1024 * 1024
    response = TestClient(tiny_app()).post("/people", json={"name": name})  # no age
    assert response.status_code == 422
    assert response.json()["detail"][0]["input"] == {"name": name}


def test_fastapi_422_with_a_lone_surrogate_is_a_500() -> None:
    """The usual 422 body cannot carry a lone surrogate: the client gets a 500."""
    from fastapi.testclient import TestClient

    client = TestClient(tiny_app(), raise_server_exceptions=False)
    body = b'{"name": "Ada", "age": "\\ud800"}'  # not an int: a 422 repeats it
    response = client.post(
        "/people", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 500


def test_an_httpexception_raised_while_the_body_is_read_is_answered() -> None:
    """An HTTPException raised by `receive` reaches FastAPI's handler (BodyLimit)."""
    from fastapi import HTTPException
    from fastapi.testclient import TestClient

    app = tiny_app()

    async def refuse_bodies(scope, receive, send):
        async def refusing_receive():
            raise HTTPException(413, "too large")

        await app(scope, refusing_receive, send)

    response = TestClient(refuse_bodies).post("/people", json={"name": "Ada"})
    assert (response.status_code, response.json()) == (413, {"detail": "too large"})


def test_starlettes_body_limit_runs_an_endpoint_that_reads_no_body() -> None:
    """Starlette's RequestBodyLimitMiddleware (not used here): the endpoint runs first.

    With an announced Content-Length over the limit, an endpoint that never
    reads the body runs, and only its answer is replaced by a plain-text 413.
    hardening.BodyLimit refuses such a request before the app runs.
    """
    from fastapi.testclient import TestClient

    app = tiny_app(limit_body=True)
    response = TestClient(app).post("/ping", content=b"x" * 100_000)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/plain")
    assert app.state.calls == ["ping"]
