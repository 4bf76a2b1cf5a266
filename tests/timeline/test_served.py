"""`workshop serve` itself serves the timeline and offline /docs (the same command
`make run` and the dev container run), here for checkpoint 1 of this repository."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from timeline_support import ROOT, WAIT, finished, kind, signup

from workshop.bench.server import free_port


@pytest.fixture
def served_by_workshop(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    command = ["workshop", "serve", "--checkpoint", "1", "--port", str(port)]
    log = tmp_path / "serve.log"
    env = {
        **os.environ,
        "NEWSLETTER_DB": str(tmp_path / "newsletter.db"),  # not the repo's data/
        "MAIL_DELAY": "0.05",
    }
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", *command],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the reloader and its worker
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process, log)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=WAIT)


def wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"workshop serve exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_workshop/timeline.json", timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)  # polling for the port, not waiting for an outcome
    pytest.fail(f"workshop serve never answered:\n{log.read_text()}")


def text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=WAIT) as response:
        return response.read().decode()


def test_workshop_serve_has_the_timeline_and_offline_docs(served_by_workshop) -> None:
    url = served_by_workshop
    assert "/_workshop/static/swagger-ui-bundle.js" in text(f"{url}/docs")
    assert "<title>Timeline" in text(f"{url}/_workshop/timeline")
    signup(url, "ada@example.com")
    (request,) = finished(url)
    assert [t["name"] for t in kind(request, "task")] == ["send_welcome_email"]
