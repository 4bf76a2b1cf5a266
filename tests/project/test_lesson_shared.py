"""The lesson holds only the lesson: what no step teaches lives in the tooling.

The hardening (a 413 over 64 KiB, a 422 that can always be sent, another
step's database moved aside) is workshop/hardening.py, put around the app by
`workshop serve` and the checks; no checkpoint carries or imports it. The
pretend mail server refuses the same addresses from step 0, so step 5's diff
is its lesson (handling and retrying), not a new mail server. And every
main.py says how to run it the way the README does.
"""

# no `from __future__ import annotations`: FastAPI must resolve the tiny apps'
# annotations at runtime (docs/FACTS.md, notes for test writers)
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def checkpoint_apps() -> list[Path]:
    """checkpoints/step-N/app for every N, found by folder (later steps too)."""
    apps = sorted(
        (path for path in ROOT.glob("checkpoints/step-*/app") if path.is_dir()),
        key=lambda path: int(path.parent.name.removeprefix("step-")),
    )
    assert apps, "no checkpoints found"
    return [ROOT / "app", *apps]


def test_no_lesson_carries_the_hardening() -> None:
    """No app/ has hardening.py, and none imports the workshop's tooling."""
    found = [
        str(path.relative_to(ROOT))
        for app in checkpoint_apps()
        for path in sorted(app.glob("*.py"))
        if path.name == "hardening.py"
        or "hardening" in path.read_text(encoding="utf-8")
        or "workshop" in imported_modules(path)
    ]
    assert found == []


def imported_modules(path: Path) -> set[str]:
    """The top-level names of the modules `path` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_mail_server_refuses_the_same_addresses_from_step_0() -> None:
    """Every mailer.py has MailError and checks each delivery (bounce, greylist)."""
    missing = []
    for app in checkpoint_apps():
        source = (app / "mailer.py").read_text(encoding="utf-8")
        tree = ast.parse(source)
        names = {getattr(node, "name", None) for node in tree.body}
        checked = source.count("    _check_accepted(recipient)\n")
        if not {"MailError", "_check_accepted", "deliver"} <= names or checked != 2:
            missing.append(str(app.relative_to(ROOT) / "mailer.py"))
    assert missing == []


def test_every_main_says_how_to_run_it_as_the_readme_does() -> None:
    """main.py's first line names `make run`, the README's command."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme
    wrong = [
        str(app.relative_to(ROOT) / "main.py")
        for app in checkpoint_apps()
        if "`make run`" not in (app / "main.py").read_text().partition("\n")[0]
    ]
    assert wrong == []


# Why workshop/hardening.py exists: FastAPI's defaults on the pinned versions, on tiny
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


def test_fastapi_422_on_a_body_that_is_not_utf8_is_a_500() -> None:
    """A body that is not JSON reaches the 422 as bytes; b"\\xff" is a 500."""
    from fastapi.testclient import TestClient

    client = TestClient(tiny_app(), raise_server_exceptions=False)
    for content_type in ["text/plain", "application/x-www-form-urlencoded", None]:
        headers = {"content-type": content_type} if content_type else {}
        response = client.post("/people", content=b"\xff", headers=headers)
        assert response.status_code == 500, content_type


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
    workshop/hardening.py's BodyLimit refuses such a request before the app runs.
    """
    from fastapi.testclient import TestClient

    app = tiny_app(limit_body=True)
    response = TestClient(app).post("/ping", content=b"x" * 100_000)
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/plain")
    assert app.state.calls == ["ping"]
