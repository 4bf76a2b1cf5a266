"""The GitHub workflows: valid, locked down, and built from the checkpoint folders."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from project_files import (
    BIN,
    ROOT,
    WORKFLOWS,
    check_jsonschema,
    command_problems,
    workflow,
)

NAMES = ("ci.yml", "tags.yml")
WORKFLOW_SCHEMA = "vendor.github-workflows"  # check-jsonschema ships it
USES = re.compile(
    r"^\s*(?:-\s+)?uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)"
    r"(?:\s+#\s*(?P<comment>.*))?$"
)


def jobs(name: str) -> dict[str, dict[str, Any]]:
    return workflow(name)["jobs"]


def steps(name: str) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, s) for job_id, job in jobs(name).items() for s in job["steps"]]


ZIZMOR = ("--offline", "--no-config", "--min-severity", "medium", "--format", "json")


def zizmor(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BIN / "zizmor", *ZIZMOR, "--no-progress", *map(str, paths)],
        capture_output=True,
        text=True,
    )


def test_workflows_match_the_github_workflow_schema() -> None:
    """Both workflows validate against check-jsonschema's GitHub workflow schema."""
    result = check_jsonschema(*(WORKFLOWS / n for n in NAMES), schema=WORKFLOW_SCHEMA)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The schema check is real: a job without runs-on fails it."""
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  a:\n    steps:\n      - run: 'true'\n")
    assert check_jsonschema(broken, schema=WORKFLOW_SCHEMA).returncode != 0


def test_zizmor_finds_nothing_at_medium_or_above() -> None:
    """zizmor (offline audits, no config) reports no finding of medium severity or
    above in either workflow."""
    result = zizmor(*(WORKFLOWS / n for n in NAMES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_zizmor_catches_an_unsafe_workflow(tmp_path: Path) -> None:
    """The zizmor check is real: an unpinned action and an injected title fail it."""
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "on: pull_request_target\npermissions: write-all\njobs:\n  a:\n"
        "    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    result = zizmor(bad)
    assert result.returncode != 0
    audits = {finding["ident"] for finding in json.loads(result.stdout)}
    assert {"unpinned-uses", "template-injection"} <= audits


def test_triggers() -> None:
    """ci runs on branch pushes and pull requests; tags on main, by hand, and
    when a GitHub release is published."""
    assert workflow("ci.yml")["on"] == {
        "push": {"branches": ["**"]},
        "pull_request": None,
    }
    assert workflow("tags.yml")["on"] == {
        "push": {"branches": ["main"]},
        "workflow_dispatch": None,
        "release": {"types": ["published"]},
    }


def test_a_published_release_builds_its_release_tags() -> None:
    """On a release, the publish job runs (its ref is the release's tag, not
    main) and builds NAME-step-N from the release's tag name, which reaches the
    script through env; on a push, the step-N tags as before."""
    job = jobs("tags.yml")["publish"]
    assert job["if"] == (
        "github.ref == 'refs/heads/main' || github.event_name == 'release'"
    )
    [step] = [s for s in job["steps"] if "run" in s]
    assert step["env"]["RELEASE"] == "${{ github.event.release.tag_name }}"
    code = [ln.strip() for ln in step["run"].splitlines()]
    assert code[code.index(RELEASE_PUSH) - 1] == 'if [ -n "$RELEASE" ]; then'
    assert code[code.index(PUSH) - 1] == "else"


def test_every_action_is_pinned_to_a_commit_with_its_version() -> None:
    """Each `uses:` names a full commit SHA and its release in a comment, and an
    action is pinned to the same commit everywhere."""
    pins: dict[str, set[tuple[str, str]]] = {}
    for name in NAMES:
        for line in (WORKFLOWS / name).read_text().splitlines():
            if match := USES.match(line):
                assert re.fullmatch(r"[0-9a-f]{40}", match["ref"]), line
                assert re.fullmatch(r"v\d+\.\d+\.\d+", match["comment"] or ""), line
                pins.setdefault(match["action"], set()).add(
                    (match["ref"], match["comment"])
                )
    assert set(pins) == {"actions/checkout", "actions/setup-python"}
    assert all(len(versions) == 1 for versions in pins.values()), pins


def test_permissions_are_least_privilege() -> None:
    """No top-level grant; each job reads at most, except the tag push job."""
    for name in NAMES:
        assert workflow(name)["permissions"] == {}
        for job_id, job in jobs(name).items():
            expected = {"contents": "write"} if job_id == "publish" else None
            grants = job["permissions"]
            if expected and name == "tags.yml":
                assert grants == expected
            else:
                assert set(grants.values()) <= {"read"}, (name, job_id)


def test_credentials_are_never_persisted() -> None:
    """Every checkout sets persist-credentials: false; the token reaches only the
    step that pushes tags, through its environment."""
    token_steps = []
    for name in NAMES:
        for job_id, step in steps(name):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, (name, job_id)
            if "github.token" in json.dumps(step) or "secrets." in json.dumps(step):
                token_steps.append((name, job_id, step["run"]))
    [(name, job_id, script)] = token_steps
    assert (name, job_id) == ("tags.yml", "publish")
    assert PUSH in [line.strip() for line in script.splitlines()]


# The one way the token-holding job starts Python: -S reads no site-packages
# (so no .pth file runs), -E no PYTHON* variable; -m finds workshop/ in the
# checkout, the current directory.
PUSH = "python3 -S -E -m workshop tags --push origin"
RELEASE_PUSH = 'python3 -S -E -m workshop tags --release "$RELEASE" --push origin'
INSTALLS = re.compile(r"\b(make|pip3?|pipx|uv|poetry|conda|npm|apt-get|apt)\b|\.venv")


def holds_a_token(job: dict[str, Any]) -> bool:
    """Whether a job can write anything or sees a token or a secret."""
    grants = job.get("permissions", {}).values()
    text = json.dumps(job["steps"])
    return "write" in grants or "github.token" in text or "secrets." in text


def test_the_job_holding_the_token_installs_nothing() -> None:
    """Installed packages can ship .pth files that run whenever Python starts, and
    the steps of a job share one file system: so the job that holds the token
    installs nothing (its only action is checkout: no setup-python, no make venv,
    no pip) and starts Python only as `python3 -S -E`, standard library only."""
    holders = [
        (n, j) for n in NAMES for j, job in jobs(n).items() if holds_a_token(job)
    ]
    assert holders == [("tags.yml", "publish")]
    job = jobs("tags.yml")["publish"]
    actions = {s["uses"].split("@")[0] for s in job["steps"] if "uses" in s}
    assert actions == {"actions/checkout"}
    for step in job["steps"]:
        code = [ln.strip() for ln in step.get("run", "").splitlines()]
        code = [ln for ln in code if ln and not ln.startswith("#")]
        assert not [ln for ln in code if INSTALLS.search(ln)], step
        assert [ln for ln in code if "python" in ln] in ([], [RELEASE_PUSH, PUSH])


def test_a_copys_ci_puts_the_progress_table_on_the_job_summary() -> None:
    """In a copy (not the template), the verify job prints the learner's
    progress and appends it as a table to the job summary page."""
    [step] = [s for _, s in steps("ci.yml") if "workshop status" in s.get("run", "")]
    code = [ln.strip() for ln in step["run"].splitlines()]
    code = [ln for ln in code if not ln.startswith("#")]
    line = '.venv/bin/workshop status --all --summary "$GITHUB_STEP_SUMMARY"'
    assert code[code.index(line) - 1] == 'if [ "$IS_TEMPLATE" = "false" ]; then'


def test_concurrency_cancels_superseded_ci_runs_but_never_tag_publishing() -> None:
    """ci cancels an older run of the same ref; tags queue and never cancel."""
    ci = workflow("ci.yml")["concurrency"]
    assert ci["cancel-in-progress"] is True
    assert "github.ref" in ci["group"]
    assert workflow("tags.yml")["concurrency"] == {
        "group": "tags",
        "cancel-in-progress": False,
    }


def test_run_steps_interpolate_no_expressions() -> None:
    """No `${{ }}` inside any run: script; values reach scripts through env."""
    for name in NAMES:
        for job_id, step in steps(name):
            assert "${{" not in step.get("run", ""), (name, job_id, step.get("name"))


def test_project_commands_in_run_steps_exist() -> None:
    """Every make target and workshop subcommand a run step uses exists."""
    found = {}
    for name in NAMES:
        for _, step in steps(name):
            for line in step.get("run", "").splitlines():
                line = line.strip().replace('"$workshop"', ".venv/bin/workshop")
                if line.startswith(("make ", ".venv/bin/")):
                    found[line] = command_problems(re.sub(r'"\$\w+"', "N", line))
    assert any(line.startswith(".venv/bin/workshop verify") for line in found)
    assert found == {line: [] for line in found}


# --- the checkpoint matrix -------------------------------------------------------


def matrix_script() -> str:
    [step] = [s for _, s in steps("ci.yml") if s.get("id") == "list"]
    return step["run"]


def emit_matrix(cwd: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    output = tmp_path / "github-output"
    output.write_text("")
    result = subprocess.run(
        ["bash", "-e", "-c", matrix_script()],
        cwd=cwd,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    result.stdout = output.read_text()
    return result


def outputs(text: str) -> dict[str, Any]:
    return {k: json.loads(v) for k, v in (ln.split("=", 1) for ln in text.splitlines())}


def test_matrix_covers_exactly_the_checkpoint_folders(tmp_path: Path) -> None:
    """The list job, run here, emits one entry per checkpoints/step-N folder."""
    result = emit_matrix(ROOT, tmp_path)
    assert result.returncode == 0, result.stderr
    folders = sorted(
        int(p.name.removeprefix("step-"))
        for p in (ROOT / "checkpoints").glob("step-*")
        if p.is_dir()
    )
    assert folders
    assert outputs(result.stdout) == {"steps": folders, "last": folders[-1]}


def test_matrix_follows_new_folders_without_a_workflow_edit(tmp_path: Path) -> None:
    """A new step-N folder joins the matrix in numeric order; other entries don't."""
    repo = tmp_path / "repo"
    for name in ("step-0", "step-2", "step-10", "notes"):
        (repo / "checkpoints" / name).mkdir(parents=True)
    (repo / "checkpoints" / "step-3").write_text("a file, not a checkpoint")
    result = emit_matrix(repo, tmp_path)
    assert result.returncode == 0, result.stderr
    assert outputs(result.stdout) == {"steps": [0, 2, 10], "last": 10}


def test_matrix_fails_without_checkpoints(tmp_path: Path) -> None:
    """No checkpoint folders is an error, not an empty matrix that passes."""
    (tmp_path / "repo" / "checkpoints").mkdir(parents=True)
    result = emit_matrix(tmp_path / "repo", tmp_path)
    assert result.returncode != 0
    assert "no checkpoints/step-N folders" in result.stderr


def test_checkpoint_jobs_run_each_checkpoint_and_the_last_on_newer_pythons() -> None:
    """The checkpoint job takes its steps from the list job, checks suites 0..N
    against checkpoint N, and adds the last checkpoint on Python 3.12 and 3.13."""
    job = jobs("ci.yml")["checkpoint"]
    matrix = job["strategy"]["matrix"]
    assert matrix["step"] == "${{ fromJSON(needs.steps.outputs.steps) }}"
    assert matrix["python"] == ["3.11"]
    last = "${{ fromJSON(needs.steps.outputs.last) }}"
    assert matrix["include"] == [
        {"step": last, "python": "3.12"},
        {"step": last, "python": "3.13"},
    ]
    assert job["strategy"]["fail-fast"] is False
    [check] = [s for s in job["steps"] if "workshop check" in s.get("run", "")]
    assert check["run"] == '.venv/bin/workshop check "$STEP" --checkpoint "$STEP"'
    assert check["env"] == {
        "STEP": "${{ matrix.step }}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }
    # step 8's suite on Redis: a service container beside every checkpoint job
    assert job["services"]["redis"]["ports"] == ["6379:6379"]
    assert job["services"]["redis"]["image"].startswith("redis:")


@pytest.mark.parametrize("name", NAMES)
def test_every_job_has_a_timeout(name: str) -> None:
    """No job can hang for the default six hours."""
    for job_id, job in jobs(name).items():
        assert 0 < job["timeout-minutes"] <= 15, job_id
