"""tests/project/image.py, the CI job that builds the real dev container image,
run here against a stand-in `devcontainer` CLI (no Docker engine here): the
stages run in order, the app is started with the postAttachCommand and curled
inside the container, and a root user or a silent port fails the job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from project_files import ROOT

FAKE = """\
import json, os, sys, time
args = sys.argv[1:]
with open(os.environ["CALLS"], "a") as log:
    log.write(json.dumps(args) + "\\n")
command = args[-1]
if args[0] == "up":
    print("log line")
    print(json.dumps({"outcome": "success", "remoteUser": "vscode"}))
elif args[0] == "exec" and command.startswith("id -un"):
    print(os.environ["WHO"])
elif args[0] == "exec" and "openapi.json" in command and os.environ.get("SILENT"):
    sys.exit(7)
elif args[0] == "exec" and "start-worker.lock" in command:
    marker = os.environ["CALLS"] + ".worker.sh"
    for _ in range(600):  # as the real loop: until the first attach holds it
        if os.path.exists(marker):
            sys.exit(0)
        time.sleep(0.1)
    sys.exit(1)
elif args[0] == "exec" and command.startswith("sh .devcontainer/start-"):
    first = os.environ["CALLS"] + ".first." + command.split("start-")[1]
    try:
        os.close(os.open(first, os.O_CREAT | os.O_EXCL))
        time.sleep(float(os.environ.get("SLOW_START", "0")))  # a busy machine
    except FileExistsError:
        pass
    marker = os.environ["CALLS"] + "." + command.split("start-")[1]
    if not os.path.exists(marker):
        open(marker, "w").close()
        time.sleep(60)  # the app (or the worker), running until the job stops it
"""


def run_job(tmp_path: Path, **env: str) -> tuple[subprocess.CompletedProcess, list]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "devcontainer"
    cli.write_text(f"#!{sys.executable}\n{FAKE}")
    cli.chmod(0o755)
    docker = bin_dir / "docker"
    docker.write_text("#!/bin/sh\nexit 0\n")
    docker.chmod(0o755)
    calls = tmp_path / "calls.jsonl"
    result = subprocess.run(
        [sys.executable, "tests/project/image.py", "--cli", str(cli)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "CALLS": str(calls),
            "WHO": "vscode\n1001\nvscode",
            **env,
        },
    )
    lines = calls.read_text().splitlines() if calls.exists() else []
    return result, [json.loads(line) for line in lines]


def test_the_stages_in_order(tmp_path: Path) -> None:
    result, calls = run_job(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    verbs = [call[0] for call in calls]
    assert verbs[:2] == ["build", "up"]
    assert "--skip-post-attach" in calls[1]  # the app starts later, watched
    commands = [call[-1] for call in calls[2:]]
    assert commands[0].startswith("id -un")
    assert commands[1] == ".venv/bin/workshop check 0"
    # the app is started in the background (its call may be logged later)
    attach = ["sh .devcontainer/start-app.sh", "sh .devcontainer/start-worker.sh"]
    for command in attach:
        assert commands.count(command) == 2  # the app (worker), and a second attach
    rest = [c for c in commands[2:] if c not in attach]
    assert "http://127.0.0.1:8000/openapi.json" in rest[0]  # waited for
    assert "http://127.0.0.1:8000/docs" in rest[1]
    assert "start-worker.lock" in rest[2]  # the first worker attach holds it
    assert commands[-3:] == [*attach, rest[-1]]  # then it still answers
    label = calls[1][calls[1].index("--id-label") + 1]
    assert all(label in call for call in calls[1:])  # one container throughout
    assert "ran as vscode (not root)" in result.stdout


def test_a_slow_first_attach_is_waited_for(tmp_path: Path) -> None:
    """The first attach's worker script takes 3 s to start: the second attach
    comes only once it holds its lock (CI's stop 28 timed out on this race)."""
    result, _ = run_job(tmp_path, SLOW_START="3")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_root_user_fails_the_job(tmp_path: Path) -> None:
    result, _ = run_job(tmp_path, WHO="root\n0\nroot")
    assert result.returncode == 1
    assert "expected non-root vscode owning .venv" in result.stderr


def test_an_app_that_never_answers_fails_the_job(tmp_path: Path) -> None:
    result, _ = run_job(tmp_path, SILENT="1")
    assert result.returncode == 1
    assert "devcontainer exec failed (7)" in result.stderr


CLI_DIR = ROOT / ".github" / "devcontainer-cli"


def test_the_cli_is_pinned_and_locked_with_its_hash() -> None:
    """An exact version; the lock holds its integrity hash and no download URL,
    so `npm ci` installs that very file from the configured registry."""
    wanted = json.loads((CLI_DIR / "package.json").read_text())["dependencies"]
    assert list(wanted) == ["@devcontainers/cli"]
    version = wanted["@devcontainers/cli"]
    assert version.count(".") == 2 and version.replace(".", "").isdigit()
    lock = json.loads((CLI_DIR / "package-lock.json").read_text())
    entry = lock["packages"]["node_modules/@devcontainers/cli"]
    assert entry["version"] == version
    assert entry["integrity"].startswith("sha512-")
    assert "resolved" not in json.dumps(lock)


def test_the_image_job_runs_the_locked_cli_and_this_script() -> None:
    from project_files import workflow

    jobs = workflow("ci.yml")["jobs"]
    runs = [step.get("run", "") for step in jobs["image"]["steps"]]
    cli = ".github/devcontainer-cli/node_modules/.bin/devcontainer"
    assert runs[1].startswith("npm ci --prefix .github/devcontainer-cli ")
    assert "--ignore-scripts" in runs[1]
    assert runs[2] == f"python3 tests/project/image.py --cli {cli}"
    assert "image" in jobs["all-green"]["needs"]
