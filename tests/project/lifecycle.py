"""Run the dev container's lifecycle commands the way a fresh codespace does.

    python3 tests/project/lifecycle.py [--user UID] [--keep]

A fresh clone of this repository's HEAD under /tmp, a fresh HOME, a minimal
PATH (the image's Python, git and make), and the commands read from
.devcontainer/devcontainer.json, in the specification's order:
onCreateCommand, updateContentCommand, postCreateCommand, postStartCommand,
then postAttachCommand, which starts the app. It passes when every command
succeeds, the app answers on its forwarded port (/openapi.json and /docs), and
a second attach leaves the running app alone. Run as root, the commands run as
the non-root user UID (default 1000, the image's `vscode` user id). Only the
machine's package index settings (PIP_*, proxies, certificates) pass through
from the caller's environment.

Not part of `make test`: it installs the lock from the package index into a
new .venv and binds the fixed port 8000, so it runs on its own (CI job
`devcontainer`, or by hand) and prints the time of each stage.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from project_files import ROOT, load_jsonc

STAGES = (
    "onCreateCommand",
    "updateContentCommand",
    "postCreateCommand",
    "postStartCommand",
)
ATTACH_TIMEOUT = 120.0  # seconds for the app to answer after postAttachCommand


def as_argv(command: str | list[str]) -> list[str]:
    """A string runs in a shell, a list runs as is (the specification's rule)."""
    return ["/bin/sh", "-c", command] if isinstance(command, str) else command


def named(value: str | list[str] | dict | None) -> dict[str, str | list[str]]:
    """The commands of one stage; an object's entries run in parallel."""
    if value is None:
        return {}
    return dict(value) if isinstance(value, dict) else {"": value}


class Runner:
    def __init__(self, workdir: Path, uid: int | None) -> None:
        self.repo = workdir / "repo"
        self.home = workdir / "home"
        self.logs = workdir / "logs"
        self.uid = uid
        self.env = {
            "HOME": str(self.home),
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "USER": "vscode",
            # How this machine reaches the package index (certificates,
            # proxies, pip settings); none of it comes from the project.
            **{
                key: value
                for key, value in os.environ.items()
                if key.startswith(("PIP_", "SSL_CERT_", "REQUESTS_CA_"))
                or key.lower().endswith("_proxy")
            },
        }

    def spawn(self, argv: list[str], log: Path) -> subprocess.Popen[bytes]:
        prefix = []
        if self.uid is not None:
            prefix = [
                "setpriv",
                f"--reuid={self.uid}",
                f"--regid={self.uid}",
                "--clear-groups",
                "--",
            ]
        with log.open("wb") as out:
            return subprocess.Popen(
                [*prefix, *argv],
                cwd=self.repo,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def run_stage(self, stage: str, commands: dict[str, str | list[str]]) -> float:
        start = time.monotonic()
        running = {
            name: self.spawn(as_argv(cmd), self.logs / f"{stage}{name}.log")
            for name, cmd in commands.items()
        }
        for name, proc in running.items():
            if proc.wait() != 0:
                log = (self.logs / f"{stage}{name}.log").read_text(errors="replace")
                sys.exit(f"{stage} {name} failed ({proc.returncode}):\n{log[-3000:]}")
        return time.monotonic() - start


def port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def wait_for_app(port: int, procs: list[subprocess.Popen[bytes]]) -> float:
    start = time.monotonic()
    while time.monotonic() - start < ATTACH_TIMEOUT:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError("postAttachCommand exited before the app answered")
        try:
            status, body = get(f"http://127.0.0.1:{port}/openapi.json")
            if status == 200 and json.loads(body).get("paths"):
                return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.2)  # polling interval, not a wait for the app
    raise RuntimeError(f"the app did not answer on port {port} in {ATTACH_TIMEOUT}s")


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--user",
        type=int,
        default=1000,
        help="uid to run the commands as when started as root",
    )
    parser.add_argument("--keep", action="store_true", help="keep the clone")
    args = parser.parse_args()

    config = load_jsonc(ROOT / ".devcontainer" / "devcontainer.json")
    port = int(config["forwardPorts"][0])
    if port_is_open(port):
        sys.exit(f"port {port} is already in use: stop what listens there first")

    uid = args.user if os.geteuid() == 0 else None
    workdir = Path(tempfile.mkdtemp(prefix="workshop-lifecycle-"))
    runner = Runner(workdir, uid)
    timings: list[tuple[str, float]] = []
    procs: list[subprocess.Popen[bytes]] = []
    try:
        start = time.monotonic()
        subprocess.run(
            ["git", "clone", "--quiet", "--no-local", str(ROOT), str(runner.repo)],
            check=True,
        )
        runner.home.mkdir()
        runner.logs.mkdir()
        if uid is not None:
            subprocess.run(["chown", "-R", f"{uid}:{uid}", str(workdir)], check=True)
        timings.append(("git clone", time.monotonic() - start))

        for stage in STAGES:
            commands = named(config.get(stage))
            if commands:
                timings.append((stage, runner.run_stage(stage, commands)))

        attach = named(config.get("postAttachCommand"))
        if not attach:
            sys.exit("postAttachCommand is missing: nothing starts the app")
        procs = [
            runner.spawn(as_argv(cmd), runner.logs / f"attach{name}.log")
            for name, cmd in attach.items()
        ]
        timings.append(
            (f"postAttachCommand until :{port} answers", wait_for_app(port, procs))
        )
        status, _ = get(f"http://127.0.0.1:{port}/docs")
        if status != 200:
            sys.exit(f"/docs answered {status}")

        # A second attach (a reconnect) must leave the running app alone.
        again = time.monotonic()
        second = [
            runner.spawn(as_argv(cmd), runner.logs / f"reattach{name}.log")
            for name, cmd in attach.items()
        ]
        for proc in second:
            if proc.wait(timeout=60) != 0:
                sys.exit("the second postAttachCommand failed")
        if not all(p.poll() is None for p in procs) or not port_is_open(port):
            sys.exit("the second postAttachCommand disturbed the running app")
        timings.append(
            ("second postAttachCommand (app already running)", time.monotonic() - again)
        )
    except RuntimeError as error:
        for log in sorted(runner.logs.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}")
        sys.exit(str(error))
    finally:
        stop(procs)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    who = f"uid {uid}" if uid is not None else f"uid {os.geteuid()}"
    print(f"lifecycle of {config['name']!r} in a fresh clone as {who}, fresh HOME:")
    for name, seconds in timings:
        print(f"  {seconds:7.1f}s  {name}")
    print(f"  app answered on port {port}: /openapi.json and /docs gave 200")
    if args.keep:
        print(f"  kept: {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
