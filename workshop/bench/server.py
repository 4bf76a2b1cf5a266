"""A real uvicorn server in a subprocess, on a free loopback port.

The server runs in its own process so that it and the load generator do not
share a GIL: what we measure is the server, not our own client.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from workshop.errors import WorkshopError

HOST = "127.0.0.1"  # loopback only, never configurable


def free_port() -> int:
    """A port the OS reports free right now on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """`with Server("app.main:app", app_dir, env) as server:` -> server.url.

    `app_dir` goes first on the server's import path (uvicorn's --app-dir), so
    `app` means the `app/` package inside it. `env` is added to the current
    environment. A fresh temporary folder is the server's working directory and
    holds its log (and whatever `env` points into it, see `tmp`).
    """

    def __init__(
        self,
        app: str,
        app_dir: Path,
        env: dict[str, str] | None = None,
        *,
        ready_timeout: float = 30.0,
    ) -> None:
        self.app = app
        self.app_dir = Path(app_dir).resolve()
        self.extra_env = dict(env or {})
        self.ready_timeout = ready_timeout
        self._tmp = tempfile.TemporaryDirectory(prefix="workshop-bench-")
        self.tmp = Path(self._tmp.name)
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log = self.tmp / "server.log"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def __enter__(self) -> Server:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            self.app,
            "--app-dir",
            str(self.app_dir),
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            "--no-access-log",
            # Pending background tasks must not hold up the next measurement.
            "--timeout-graceful-shutdown",
            "1",
        ]

    def start(self) -> None:
        env = {**os.environ, **self.extra_env, "PYTHONDONTWRITEBYTECODE": "1"}
        for _attempt in range(3):  # the port may be taken between probe and bind
            self.port = free_port()
            with self._log.open("wb") as log:
                self._process = subprocess.Popen(
                    self.command(),
                    cwd=self.tmp,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_ready():
                return
            if b"address already in use" not in self._log.read_bytes().lower():
                break
        last = self.log_tail()
        raise WorkshopError(
            f"the server for {self.app} in {self.app_dir} did not start"
            + (f": {last}" if last else "")
        )

    def _wait_ready(self) -> bool:
        """True once the port accepts connections; False if the process died."""
        assert self._process is not None
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise WorkshopError(
            f"the server for {self.app} was not ready after {self.ready_timeout:g} s"
        )

    def log_tail(self) -> str:
        try:
            lines = self._log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1].strip() if lines else ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            stop_process(process)
        self._tmp.cleanup()


def stop_process(process: subprocess.Popen) -> None:
    """Ask a child process to stop (SIGTERM), and kill it after 5 s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
