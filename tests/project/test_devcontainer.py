"""The dev container and VS Code files: valid, and naming only what the project has."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from project_files import ROOT, command_problems, load_jsonc, strip_comments
from support.live import free_port

DEVCONTAINER = ROOT / ".devcontainer" / "devcontainer.json"
START_APP = ROOT / ".devcontainer" / "start-app.sh"
VSCODE = ROOT / ".vscode"
SCHEMA = Path(__file__).with_name("devContainer.base.schema.json")


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return load_jsonc(DEVCONTAINER)


def schema_errors(data: Any) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft201909Validator(load_jsonc(SCHEMA))
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(data)]


def test_comments_are_stripped_outside_strings_only() -> None:
    """The JSON-with-comments loader keeps // and /* inside strings."""
    text = '{"a": "x // y /* z */", // note\n "b": /* c */ 1}'
    assert strip_comments(text).count("//") == 1
    assert json.loads(strip_comments(text)) == {
        "a": "x // y /* z */",
        "b": 1,
    }


@pytest.mark.parametrize(
    "path",
    [DEVCONTAINER, *(VSCODE / f"{n}.json" for n in ("tasks", "launch", "extensions"))],
    ids=lambda p: p.name,
)
def test_file_parses_as_json_with_comments(path: Path) -> None:
    """devcontainer.json, tasks.json, launch.json and extensions.json parse."""
    assert isinstance(load_jsonc(path), dict)


def test_devcontainer_matches_the_specification_schema(config: dict) -> None:
    """devcontainer.json is valid against the dev container specification's schema."""
    assert schema_errors(config) == []


def test_the_schema_rejects_a_misspelled_property(config: dict) -> None:
    """The schema check is real: an unknown top-level property is an error."""
    broken = {**config, "postAttachCommands": "make run"}
    assert schema_errors(broken)


def test_image_is_a_pinned_major_of_the_official_python_image(config: dict) -> None:
    """The image is mcr's devcontainers/python at a major version, on our Python."""
    match = re.fullmatch(
        r"mcr\.microsoft\.com/devcontainers/python:(\d+)-3\.(\d+)-(bookworm|trixie)",
        config["image"],
    )
    assert match, config["image"]
    pyproject = (ROOT / "pyproject.toml").read_text()
    minimum = re.search(r'requires-python = ">=3\.(\d+)"', pyproject)
    assert minimum and int(match.group(2)) >= int(minimum.group(1))


def test_commands_run_as_the_non_root_user(config: dict) -> None:
    """Lifecycle commands and the editor run as the image's non-root user."""
    assert config["remoteUser"] == "vscode"
    assert "containerUser" not in config


def test_dependencies_install_in_a_stage_prebuilds_run(config: dict) -> None:
    """make venv and pre-commit install run in onCreate/updateContent, not later."""
    early = " && ".join(
        config.get(stage, "") for stage in ("onCreateCommand", "updateContentCommand")
    )
    assert "make venv" in early
    assert ".venv/bin/pre-commit install" in early
    assert config.get("waitFor", "updateContentCommand") in (
        "onCreateCommand",
        "updateContentCommand",
    )


def lifecycle_commands(config: dict) -> list[str]:
    commands = []
    for key in (
        "onCreateCommand",
        "updateContentCommand",
        "postCreateCommand",
        "postStartCommand",
        "postAttachCommand",
    ):
        value = config.get(key)
        for command in value.values() if isinstance(value, dict) else [value]:
            if command is not None:
                assert isinstance(command, str), f"{key}: use shell strings"
                commands.append(command)
    return commands


def test_lifecycle_commands_name_what_the_project_has(config: dict) -> None:
    """Every lifecycle command is a make target, a .venv tool or a project script."""
    commands = lifecycle_commands(config)
    assert commands
    assert {c: command_problems(c) for c in commands} == {c: [] for c in commands}


def test_the_app_starts_on_attach_on_the_forwarded_port(config: dict) -> None:
    """postAttachCommand runs the start script; port 8000 is forwarded, labelled,
    opened in a preview, and is the port `make run` serves on."""
    assert list(config["postAttachCommand"].values()) == [
        "sh .devcontainer/start-app.sh",
        "sh .devcontainer/start-worker.sh",
    ]
    assert config["forwardPorts"] == [8000]
    attributes = config["portsAttributes"]["8000"]
    assert attributes["label"]
    assert attributes["onAutoForward"] == "openPreview"
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^PORT\s*\?=\s*8000$", makefile, re.MULTILINE)


def test_no_port_is_made_public() -> None:
    """Ports keep the private default: nothing sets a visibility."""
    assert "visibility" not in strip_comments(DEVCONTAINER.read_text())


def test_first_guide_opens_in_codespaces(config: dict) -> None:
    """customizations.codespaces.openFiles names existing guides."""
    files = config["customizations"]["codespaces"]["openFiles"]
    assert files == ["checkpoints/step-0/README.md"]
    assert all((ROOT / f).is_file() for f in files)


def test_host_requirements_are_modest(config: dict) -> None:
    """Two cores and 4 GB: the smallest Codespaces machine is enough."""
    assert config["hostRequirements"] == {"cpus": 2, "memory": "4gb"}


def test_editor_uses_the_venv_and_formats_with_ruff_on_save(config: dict) -> None:
    """Python and ruff extensions; the venv's interpreter; ruff formats on save."""
    vscode = config["customizations"]["vscode"]
    assert {"ms-python.python", "charliermarsh.ruff"} <= set(vscode["extensions"])
    settings = vscode["settings"]
    assert settings["python.defaultInterpreterPath"] == (
        "${containerWorkspaceFolder}/.venv/bin/python"
    )
    assert settings["ruff.importStrategy"] == "fromEnvironment"
    python = settings["[python]"]
    assert python["editor.defaultFormatter"] == "charliermarsh.ruff"
    assert python["editor.formatOnSave"] is True


def test_settings_live_in_one_place(config: dict) -> None:
    """Editor settings are only in devcontainer.json; extensions.json lists the same
    extensions the container installs."""
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", ".vscode"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert ".vscode/settings.json" not in tracked
    recommended = load_jsonc(VSCODE / "extensions.json")["recommendations"]
    assert recommended == config["customizations"]["vscode"]["extensions"]


# --- the start script ----------------------------------------------------------


def run_start_app(tmp_path: Path, port: int) -> subprocess.CompletedProcess[str]:
    """Run start-app.sh with a `make` that only records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_make = bin_dir / "make"
    fake_make.write_text(f'#!/bin/sh\necho "$@" > "{tmp_path}/make-args"\n')
    fake_make.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PORT": str(port)}
    return subprocess.run(
        ["sh", str(START_APP)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_start_script_runs_make_run_when_the_port_is_free(tmp_path: Path) -> None:
    """On attach, with nothing on the port, the script runs `make run` on it."""
    port = free_port()
    result = run_start_app(tmp_path, port)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "make-args").read_text().split() == ["run", f"PORT={port}"]


def test_start_script_leaves_a_running_app_alone(tmp_path: Path) -> None:
    """On a re-attach, with the app already listening, no second server starts."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = run_start_app(tmp_path, port)
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stdout
    assert not (tmp_path / "make-args").exists()


# --- the worker's start script and Redis -----------------------------------------

START_WORKER = ROOT / ".devcontainer" / "start-worker.sh"


def start_worker(tmp_path: Path, repo: Path) -> subprocess.Popen[str]:
    """start-worker.sh in `repo`, with a `make` that only records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake_make = bin_dir / "make"
    fake_make.write_text(f'#!/bin/sh\necho "$@" > "{tmp_path}/make-args"\n')
    fake_make.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.Popen(
        ["sh", str(START_WORKER)],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_worker_script_waits_for_step_8_then_runs_make_worker(tmp_path: Path) -> None:
    """Before step 8 it waits (and a second attach leaves it alone); once
    app/worker.py exists it runs `make worker`."""
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    waiting = start_worker(tmp_path, repo)
    try:
        deadline = time.monotonic() + 30
        while not (repo / ".workshop" / "start-worker.lock").exists():
            assert time.monotonic() < deadline, "the script never took its lock"
            time.sleep(0.05)  # polling interval, not a wait for an event
        second = start_worker(tmp_path, repo)
        output, _ = second.communicate(timeout=30)
        assert second.returncode == 0, output
        assert "already started" in output
        assert waiting.poll() is None, "the first one still waits"

        (repo / "app" / "worker.py").write_text("celery = None\n")
        output, _ = waiting.communicate(timeout=30)
        assert waiting.returncode == 0, output
        assert (tmp_path / "make-args").read_text().split() == ["worker"]
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()


def test_redis_script_never_fails_the_container_start() -> None:
    """`redis.sh start` exits 0 with or without Redis: step 8 then uses SQLite."""
    result = subprocess.run(
        ["sh", str(ROOT / ".devcontainer" / "redis.sh"), "start"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "Redis" in result.stdout


# --- tasks.json and launch.json ------------------------------------------------


def tasks() -> list[dict[str, Any]]:
    return load_jsonc(VSCODE / "tasks.json")["tasks"]


def test_tasks_cover_serve_check_watch_verify() -> None:
    """tasks.json has the serve, check, watch and verify tasks."""
    labels = {t["label"] for t in tasks()}
    for name in ("serve", "check", "watch", "verify"):
        assert f"workshop: {name}" in labels


def test_every_task_command_exists() -> None:
    """Each task runs a make target or a workshop subcommand that exists."""
    commands = [t["command"] for t in tasks()]
    problems = {
        c: command_problems(re.sub(r"\$\{input:\w+\}", "", c)) for c in commands
    }
    assert problems == {c: [] for c in commands}


def test_task_references_resolve() -> None:
    """dependsOn, preLaunchTask and ${input:...} name tasks and inputs that exist."""
    data = load_jsonc(VSCODE / "tasks.json")
    labels = {t["label"] for t in data["tasks"]}
    inputs = {i["id"] for i in data.get("inputs", [])}
    for task in data["tasks"]:
        assert task.get("dependsOn", next(iter(labels))) in labels
        assert set(re.findall(r"\$\{input:(\w+)\}", task["command"])) <= inputs
    for launch in load_jsonc(VSCODE / "launch.json")["configurations"]:
        assert launch.get("preLaunchTask", next(iter(labels))) in labels


def app_launch() -> dict[str, Any]:
    (launch,) = load_jsonc(VSCODE / "launch.json")["configurations"]
    return launch


def test_launch_debugs_the_app_under_uvicorn_beside_the_running_app() -> None:
    """The debug configuration runs uvicorn on app.main:app as `make run` serves
    it (workshop.timeline.served: the timeline, offline /docs, the hardening),
    without reload, on a port other than the one `make run` holds."""
    launch = app_launch()
    assert (launch["type"], launch["request"], launch["module"]) == (
        "debugpy",
        "launch",
        "uvicorn",
    )
    assert launch["python"] == "${workspaceFolder}/.venv/bin/python"
    args = launch["args"]
    assert args[0] == "workshop.timeline.served:app"
    assert (ROOT / "app" / "main.py").is_file()
    assert "--reload" not in args
    assert args[args.index("--port") + 1] == "8001"
    config = load_jsonc(DEVCONTAINER)
    assert "8001" in config["portsAttributes"]


def test_launch_command_serves_the_docs(tmp_path: Path) -> None:
    """The launch configuration's command starts the app, prints the line its
    serverReadyAction waits for, and the URL it opens (/docs) answers."""
    launch = app_launch()
    port = free_port()
    args = [str(port) if a == "8001" else a for a in launch["args"]]
    shutil.copytree(ROOT / "app", tmp_path / "app")  # the app may write data/
    proc = subprocess.Popen(
        [sys.executable, "-m", launch["module"], *args],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in proc.stdout], daemon=True
    ).start()
    ready = launch["serverReadyAction"]
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            match = re.search(ready["pattern"], line)
            url = match.group(1) if match else None
        docs = ready["uriFormat"].replace("%s", url)
        assert docs == f"http://127.0.0.1:{port}/docs"
        with urllib.request.urlopen(docs, timeout=10) as response:
            assert response.status == 200
    finally:
        proc.kill()  # its shutdown is not under test: skip uvicorn's graceful 0.2 s
        proc.wait(timeout=15)
