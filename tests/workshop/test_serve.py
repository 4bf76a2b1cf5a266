"""`workshop serve`: a real `fastapi dev` server on a free port, with reload."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # tests/, for support
from support.live import free_port

TIMEOUT = 60  # seconds; reached only when something is wrong

APP = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def where() -> dict[str, str]:
    return {{"where": "{where}"}}
"""


def get(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def wait_for(url: str, expected: dict, process: subprocess.Popen, log: Path) -> None:
    """Poll `url` until it answers `expected`; fail if the server dies or never does."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if get(url) == expected:
            return
        if process.poll() is not None:
            pytest.fail(
                f"the server exited with {process.returncode}:\n{log.read_text()}"
            )
        time.sleep(0.1)  # polling interval, not a wait for an event
    pytest.fail(f"{url} never answered {expected}:\n{log.read_text()}")


@pytest.fixture
def fastapi_repo(workshop_repo: Path) -> Path:
    """The fake repo, with a FastAPI app in app/ and in checkpoint 1."""
    for folder in ("app", "checkpoints/step-1/app"):
        main = workshop_repo / folder / "main.py"
        main.write_text(APP.format(where=folder), encoding="utf-8")
    return workshop_repo


@pytest.fixture
def serve(tmp_path: Path):
    """`serve(root, *args)` starts `workshop serve` -> (process, url, log file)."""
    started: list[subprocess.Popen] = []

    def start(root: Path, *args: str) -> tuple[subprocess.Popen, str, Path]:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "workshop", "serve", "--port", str(port), *args],
                cwd=root,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: the reloader and its worker
            )
        started.append(process)
        return process, f"http://127.0.0.1:{port}/", log

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_serve_runs_app_and_reloads_on_save(fastapi_repo: Path, serve) -> None:
    process, url, log = serve(fastapi_repo)
    wait_for(url, {"where": "app"}, process, log)
    # reload watches app/ and nothing else
    watched = [line for line in log.read_text().splitlines() if "Will watch" in line]
    assert watched == [
        "INFO:     Will watch for changes in these directories: "
        f"['{(fastapi_repo / 'app').resolve()}']"
    ]
    main = fastapi_repo / "app" / "main.py"
    main.write_text(APP.format(where="app, edited"), encoding="utf-8")
    wait_for(url, {"where": "app, edited"}, process, log)


def test_serve_a_checkpoint(fastapi_repo: Path, serve) -> None:
    process, url, log = serve(fastapi_repo, "--checkpoint", "1")
    wait_for(url, {"where": "checkpoints/step-1/app"}, process, log)
    assert "Using import string: app.main:app" in log.read_text()


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--checkpoint", "4"], "unknown step '4': valid steps are 0, 1, 2"),
        (["--port", "70000"], "invalid port 70000: use 1 to 65535"),
    ],
)
def test_serve_errors(workshop_repo, run_workshop, args, error: str) -> None:
    code, out, err = run_workshop("serve", *args, cwd=workshop_repo)
    assert (code, out, err) == (2, "", f"workshop: {error}\n")


def test_serve_without_an_app(workshop_repo, run_workshop) -> None:
    (workshop_repo / "app" / "main.py").unlink()
    code, _, err = run_workshop("serve", cwd=workshop_repo)
    assert code == 2
    assert err.startswith("workshop: no app to serve:") and err.count("\n") == 1
