"""Run one job of a workflow here, the way its runner would, in a fresh clone.

    python3 tests/project/run_workflow_locally.py ci.yml verify
    python3 tests/project/run_workflow_locally.py ci.yml checkpoint --matrix step=3
    python3 tests/project/run_workflow_locally.py tags.yml publish
    python3 tests/project/run_workflow_locally.py ci.yml verify --skip 4

The clone has the checkout step's fetch-depth (default 1); `--detached` checks out
HEAD's commit detached, as a pull request run does. `actions/checkout` is that
clone; `actions/setup-python` must ask for this Python's version (only the
interpreter running this script is available here). Each `run:` script runs
with GitHub's `bash --noprofile --norc -eo pipefail`, the workflow's, job's and
step's env, GITHUB_OUTPUT, GITHUB_WORKSPACE and RUNNER_TEMP. Only these
expressions are filled in: `${{ matrix.* }}`, `${{ github.repository }}`
($GITHUB_REPOSITORY or OWNER/REPO), `${{ github.token }}` (a dummy) and
`${{ github.event.repository.is_template }}` ($IS_TEMPLATE or true) and
`${{ github.event.release.tag_name }}` ($RELEASE_TAG or empty: not a release);
GITHUB_STEP_SUMMARY is a file in RUNNER_TEMP, printed at the end. `origin`
points at a throw-away bare repository, so a push never leaves the machine.
Job outputs are not passed between jobs: give a matrix value with --matrix.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from project_files import ROOT, workflow


def fill(value: str, matrix: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        if expression.startswith("matrix."):
            return matrix[expression.removeprefix("matrix.")]
        if expression == "github.token":
            return "dummy-token-for-a-local-run"
        if expression == "github.repository":
            return os.environ.get("GITHUB_REPOSITORY", "OWNER/REPO")
        if expression == "github.event.repository.is_template":
            # "true" as in the template itself; IS_TEMPLATE=false: a learner's copy
            return os.environ.get("IS_TEMPLATE", "true")
        if expression == "github.event.release.tag_name":
            return os.environ.get("RELEASE_TAG", "")
        raise SystemExit(f"cannot evaluate ${{{{ {expression} }}}} here")

    return re.sub(r"\$\{\{(.*?)\}\}", one, str(value))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workflow")
    parser.add_argument("job")
    parser.add_argument("--matrix", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--detached", action="store_true")
    parser.add_argument("--skip", type=int, action="append", default=[], metavar="N",
                        help="leave out step N (1 is the first step)")  # fmt: skip
    args = parser.parse_args()
    matrix = dict(item.split("=", 1) for item in args.matrix)
    matrix.setdefault("python", f"{sys.version_info.major}.{sys.version_info.minor}")

    data = workflow(args.workflow)
    job = data["jobs"][args.job]
    temp = Path(tempfile.mkdtemp(prefix=f"workflow-{args.job}-"))
    workspace, runner_temp = temp / "workspace", temp / "runner-temp"
    runner_temp.mkdir()
    checkout = next(s for s in job["steps"] if "actions/checkout@" in s.get("uses", ""))
    depth = int(checkout.get("with", {}).get("fetch-depth", 1))
    history = ["--depth", str(depth)] if depth else []  # 0: the whole history
    subprocess.run(["git", "clone", "--quiet", *history, ROOT.as_uri(),
                    str(workspace)], check=True)  # fmt: skip
    if args.detached:
        subprocess.run(["git", "-C", str(workspace), "checkout", "--quiet",
                        "--detach"], check=True)  # fmt: skip
    bare = temp / "origin.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    subprocess.run(["git", "-C", str(workspace), "remote", "set-url", "origin",
                    str(bare)], check=True)  # fmt: skip
    output = runner_temp / "github-output"
    output.touch()
    summary = runner_temp / "step-summary.md"
    summary.touch()
    base_env = {
        **os.environ,
        **{k: fill(v, matrix) for k, v in data.get("env", {}).items()},
        **{k: fill(v, matrix) for k, v in job.get("env", {}).items()},
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_SERVER_URL": "https://github.invalid",
        "RUNNER_TEMP": str(runner_temp),
        "CI": "true",
    }
    base_env.pop("VIRTUAL_ENV", None)
    print(f"{args.workflow} / {args.job} {matrix} in {workspace}")
    for number, step in enumerate(job["steps"], 1):
        uses = step.get("uses", "")
        label = step.get("name") or uses or step.get("run", "").splitlines()[0]
        if number in args.skip:
            print(f"[{number}] {label}: skipped (--skip {number})")
            continue
        if uses.startswith("actions/checkout@"):
            print(f"[{number}] {label}: the clone above")
            continue
        if uses.startswith("actions/setup-python@"):
            wanted = fill(step["with"]["python-version"], matrix)
            if wanted != matrix["python"]:
                raise SystemExit(f"needs Python {wanted}; this is {matrix['python']}")
            print(f"[{number}] {label}: Python {wanted} (this interpreter)")
            continue
        env = {
            **base_env,
            **{k: fill(v, matrix) for k, v in step.get("env", {}).items()},
        }
        env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
        start = time.monotonic()
        result = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
            cwd=workspace, env=env,
        )  # fmt: skip
        seconds = time.monotonic() - start
        status = "ok" if result.returncode == 0 else f"FAILED ({result.returncode})"
        print(f"[{number}] {label}: {status} in {seconds:.1f}s", flush=True)
        if result.returncode:
            return 1
    if summary.stat().st_size:
        print(f"job summary ({summary}):\n{summary.read_text(encoding='utf-8')}")
    print(f"job {args.job} passed; kept in {temp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
