"""Build the real dev container image and work inside it, as Codespaces does.

    python3 tests/project/image.py --cli PATH_TO_devcontainer

With the dev container CLI (@devcontainers/cli, locked in
.github/devcontainer-cli) and a Docker engine: build the image of
.devcontainer/devcontainer.json; start it with `devcontainer up`, which runs
onCreateCommand .. postStartCommand as the container's user; check that user
is the configured non-root one and owns .venv; run `workshop check 0` inside;
start the postAttachCommand (the app) and curl port 8000 inside the container
(/openapi.json and /docs); attach a second time and see the running app left
alone. The container is removed at the end. Each stage prints its time.

CI's `image` job runs it (no Docker engine on the authors' sandbox, so there
it runs only against a stand-in CLI: tests/project/test_image.py).
Standard library only: it runs on the runner's own Python.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid

from project_files import ROOT, load_jsonc

CURL = "curl --fail --silent --show-error --max-time 5"
# Inside the container: the app gets 120 s to answer (the first start of uvicorn).
WAIT = (
    "for i in $(seq 120); do {curl} {url} >/dev/null 2>&1 && exit 0; sleep 1; done;"
    " exit 1"
)
# Inside the container: the first attach's start-worker.sh holds its lock (it
# waits for app/worker.py, or runs the worker) before the second attach comes;
# otherwise the second could take the lock first and wait for ever.
WAIT_LOCKED = (
    "for i in $(seq 60); do flock -n .workshop/start-worker.lock true || exit 0;"
    " sleep 1; done; exit 1"
)


class Failed(Exception):
    """A stage did not do what the image promises."""


class Container:
    """One dev container of this checkout, found again by its id label."""

    def __init__(self, cli: str) -> None:
        self.cli = cli
        self.label = f"workshop.ci={uuid.uuid4().hex[:12]}"
        self.where = ["--workspace-folder", str(ROOT), "--id-label", self.label]

    def run(self, *args: str, timeout: float = 900) -> str:
        done = subprocess.run(
            [self.cli, *args], capture_output=True, text=True, timeout=timeout
        )
        if done.returncode != 0:
            tail = (done.stdout + done.stderr)[-3000:]
            raise Failed(f"devcontainer {args[0]} failed ({done.returncode}):\n{tail}")
        return done.stdout

    def exec(self, command: str, timeout: float = 600) -> str:
        return self.run("exec", *self.where, "sh", "-c", command, timeout=timeout)

    def spawn(self, command: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [self.cli, "exec", *self.where, "sh", "-c", command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def remove(self) -> None:
        ids = subprocess.run(
            ["docker", "ps", "-aq", "--filter", f"label={self.label}"],
            capture_output=True,
            text=True,
        ).stdout.split()
        if ids:
            subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)


def outcome(output: str) -> dict:
    """The JSON result `devcontainer up` prints last."""
    lines = [ln for ln in output.splitlines() if ln.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    if result.get("outcome") != "success":
        raise Failed(f"devcontainer up did not succeed: {output[-2000:]}")
    return result


def attach_commands(config: dict) -> list[str]:
    value = config.get("postAttachCommand")
    if not value:
        raise Failed("postAttachCommand is missing: nothing starts the app")
    values = value.values() if isinstance(value, dict) else [value]
    return [v if isinstance(v, str) else " ".join(v) for v in values]


def stages(box: Container, config: dict) -> list[tuple[str, float]]:
    """Every stage in order; raises Failed at the first that does not hold."""
    timings: list[tuple[str, float]] = []

    def timed(name: str, started: float) -> None:
        timings.append((name, time.monotonic() - started))

    start = time.monotonic()
    box.run("build", "--workspace-folder", str(ROOT))
    timed("devcontainer build", start)

    start = time.monotonic()
    up = outcome(box.run("up", *box.where, "--skip-post-attach"))
    timed("devcontainer up: onCreate .. postStart as the container's user", start)

    user = config["remoteUser"]
    who = box.exec("id -un; id -u; stat -c %U .venv").split()
    if who[:1] != [user] or who[1:2] == ["0"] or who[2:] != [user]:
        raise Failed(f"expected non-root {user} owning .venv, got {who}")
    if up.get("remoteUser") not in (None, user):
        raise Failed(f"devcontainer up ran as {up['remoteUser']}, not {user}")

    start = time.monotonic()
    box.exec(".venv/bin/workshop check 0")
    timed("workshop check 0", start)

    port = int(config["forwardPorts"][0])
    start = time.monotonic()
    apps = [box.spawn(command) for command in attach_commands(config)]
    url = f"http://127.0.0.1:{port}"
    box.exec(WAIT.format(curl=CURL, url=f"{url}/openapi.json"), timeout=180)
    box.exec(f"{CURL} {url}/docs >/dev/null")
    box.exec(WAIT_LOCKED, timeout=90)
    timed(f"postAttachCommand until :{port} answers (curl inside)", start)

    start = time.monotonic()
    for command in attach_commands(config):
        box.exec(command, timeout=60)  # the app runs: it says so and exits
    if any(app.poll() is not None for app in apps):
        raise Failed("a second attach disturbed the running app")
    box.exec(f"{CURL} {url}/openapi.json >/dev/null")
    timed("second postAttachCommand (app already running)", start)
    for app in apps:
        app.terminate()
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cli", default="devcontainer", help="the devcontainer CLI")
    args = parser.parse_args()
    config = load_jsonc(ROOT / ".devcontainer" / "devcontainer.json")
    box = Container(args.cli)
    try:
        timings = stages(box, config)
    except (Failed, subprocess.TimeoutExpired) as error:
        sys.exit(f"image: {error}")
    finally:
        box.remove()
    print(f"dev container {config['name']!r} from {config['image']}:")
    for name, seconds in timings:
        print(f"  {seconds:7.1f}s  {name}")
    print(f"  ran as {config['remoteUser']} (not root); /openapi.json and /docs: 200")
    return 0


if __name__ == "__main__":
    sys.exit(main())
