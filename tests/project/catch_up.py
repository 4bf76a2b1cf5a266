"""Run each checkpoint's app on database files other checkpoints wrote.

    python tests/project/catch_up.py WORK_DIR CHECKPOINT_DIR...

For each checkpoint a: a fresh file, used by a's app. Then for each
checkpoint b and each a != b: a copy of a's file, used by b's app, as after
`workshop goto b` or `git checkout step-b`. "Used" means real requests through
TestClient, lifespan included, to the app hardened as `workshop serve` serves
it (workshop/hardening.py): read every list, subscribe (from step 5 on, the
first step that handles a refused email, also one address the mail server
refuses), start a digest where there is one, read
again. Prints a JSON list of the requests that answered 5xx or raised (in the
endpoint or in a background task).

One process loads one checkpoint after another: it drops the previous `app`
package from sys.modules and puts the next folder first on sys.path. It is
started by tests/project/test_catch_up.py, never imported by pytest.
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from pathlib import Path

READ = ("/subscribers", "/outbox", "/audit")  # the lists, where the step has them


def load(checkpoint: Path):
    """The FastAPI app and settings of checkpoint's `app` package, freshly imported."""
    for name in [name for name in sys.modules if name.split(".")[0] == "app"]:
        del sys.modules[name]
    sys.path[0] = str(checkpoint)
    importlib.invalidate_caches()
    main = importlib.import_module("app.main")
    return main.app, importlib.import_module("app.config").settings


def use(
    app, settings, db_file: Path, emails: list[str], job_ids: list[str]
) -> list[str]:
    """Requests a learner would send; the ones that fail, as 'METHOD path: what'."""
    from fastapi.testclient import TestClient

    settings.newsletter_db = db_file
    settings.mail_delay = 0.0
    paths = {getattr(route, "path", None) for route in app.routes}
    problems: list[str] = []

    def call(method: str, path: str, **kwargs):
        try:
            response = client.request(method, path, **kwargs)
        except Exception as error:  # raised by the endpoint or a background task
            what = " ".join(str(error).split())[:120]  # one line
            problems.append(f"{method} {path}: {type(error).__name__}: {what}")
            return None
        if response.status_code >= 500:
            problems.append(f"{method} {path}: {response.status_code}")
        return response

    def read_everything() -> None:
        for path in READ:
            if path in paths:
                call("GET", path)
        if "/jobs/{job_id}" in paths:
            for job_id in job_ids:
                call("GET", f"/jobs/{job_id}")

    from workshop.hardening import harden  # as `workshop serve` serves it

    with TestClient(harden(app)) as client:
        read_everything()
        for email in emails:
            call("POST", "/subscribers", json={"email": email, "name": "Ada"})
        if "/digests" in paths:
            response = call("POST", "/digests")
            if response is not None and response.status_code == 202:
                job_ids.append(response.json()["id"])
        read_everything()
    return problems


def copy_database(source: Path, target: Path) -> None:
    """Copy an SQLite file with its -wal and -shm files, if any are left."""
    for suffix in ("", "-wal", "-shm"):
        extra = source.with_name(source.name + suffix)
        if extra.exists():
            shutil.copyfile(extra, target.with_name(target.name + suffix))


def main(work: Path, checkpoints: list[Path]) -> list[str]:
    sys.path.insert(0, "")  # the slot `load` fills with a checkpoint folder
    problems: list[str] = []
    written: dict[Path, tuple[Path, list[str]]] = {}
    for a in checkpoints:
        app, settings = load(a)
        db_file, job_ids = work / f"{a.name}.db", []
        emails = [f"ada-{a.name}@example.com"]
        if int(a.name.removeprefix("step-")) >= 5:  # handles refused emails
            emails.append(f"nobody-{a.name}@bounce.example.com")
        for problem in use(app, settings, db_file, emails, job_ids):
            problems.append(f"{a.name} alone: {problem}")
        written[a] = (db_file, job_ids)
    for b in checkpoints:
        app, settings = load(b)
        for a in checkpoints:
            if a == b:
                continue
            db_file = work / f"{a.name}-then-{b.name}.db"
            copy_database(written[a][0], db_file)
            job_ids = list(written[a][1])
            emails = [f"grace-{b.name}@example.com"]
            for problem in use(app, settings, db_file, emails, job_ids):
                problems.append(f"{a.name} then {b.name}: {problem}")
    return problems


if __name__ == "__main__":
    found = main(Path(sys.argv[1]), [Path(arg) for arg in sys.argv[2:]])
    print(json.dumps(found, indent=1))
