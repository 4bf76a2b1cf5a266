"""Every laptop: the Windows and macOS CI jobs, VS Code's Windows overrides,
LF scripts in a Windows checkout, and tests/project/laptop_smoke.py itself.

The jobs cannot run here (no Windows or macOS runner on this machine): what is
tested here is that they ask for the right things, and that the smoke script
they run works on Linux.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from project_files import ROOT, load_jsonc, workflow

LAPTOPS = ["windows-latest", "macos-latest"]
PYTHONS = ["3.11", "3.13"]
SETUP = "python -m workshop setup"
SMOKE = ROOT / "tests" / "project" / "laptop_smoke.py"


def job(name: str) -> dict[str, Any]:
    return workflow("ci.yml")["jobs"][name]


def runs(job_: dict[str, Any]) -> list[str]:
    return [s["run"] for s in job_["steps"] if "run" in s]


def test_every_checkpoint_runs_on_windows_and_macos() -> None:
    """Suites 0..N against each checkpoint N on both laptops' OSes (3.11), the
    last checkpoint on 3.13 too; set up without make; steps 8 and 9 on the
    SQLite broker: no Redis service and no REDIS_URL (their Redis tests skip,
    saying why)."""
    laptop = job("laptop-checkpoint")
    matrix = laptop["strategy"]["matrix"]
    assert laptop["runs-on"] == "${{ matrix.os }}"
    assert matrix["os"] == LAPTOPS
    assert matrix["step"] == "${{ fromJSON(needs.steps.outputs.steps) }}"
    last = "${{ fromJSON(needs.steps.outputs.last) }}"
    newer = [i for i in matrix["include"] if "step" in i]
    assert newer == [{"os": os_, "step": last, "python": "3.13"} for os_ in LAPTOPS]
    assert matrix["python"] == ["3.11"]
    assert "services" not in laptop
    assert "REDIS_URL" not in str(laptop)
    assert runs(laptop)[0] == SETUP
    assert runs(laptop)[1] == '"$VENV_BIN/workshop" check "$STEP" --checkpoint "$STEP"'
    bins = {i["os"]: i["bin"] for i in matrix["include"] if "bin" in i}
    assert bins == {"windows-latest": ".venv/Scripts", "macos-latest": ".venv/bin"}


def test_the_learner_commands_run_on_windows_and_macos() -> None:
    """The smoke job: both OSes, both Pythons, no make, the Windows spelling
    in PowerShell, and the smoke script on each."""
    laptop = job("laptop")
    assert laptop["strategy"]["matrix"] == {"os": LAPTOPS, "python": PYTHONS}
    scripts = runs(laptop)
    assert scripts[0] == SETUP
    assert not [s for s in scripts if re.search(r"\bmake\b", s)]
    [windows] = [s for s in laptop["steps"] if s.get("if") == "runner.os == 'Windows'"]
    assert windows["shell"] == "pwsh"
    assert ".venv\\Scripts\\python tests\\project\\laptop_smoke.py" in windows["run"]
    [other] = [s for s in laptop["steps"] if s.get("if") == "runner.os != 'Windows'"]
    assert ".venv/bin/python tests/project/laptop_smoke.py" in other["run"]


def test_all_green_waits_for_the_laptop_jobs() -> None:
    assert {"laptop", "laptop-checkpoint"} <= set(job("all-green")["needs"])


def commands(path: Path) -> list[dict[str, Any]]:
    data = load_jsonc(ROOT / ".vscode" / path)
    return data.get("tasks") or data["configurations"]


@pytest.mark.parametrize("name", ["tasks.json", "launch.json"])
def test_vscode_has_a_windows_override_wherever_it_names_the_venv(name: str) -> None:
    """Windows has no make and no .venv/bin: every task and launch
    configuration that uses either says what to run there instead."""
    for entry in commands(Path(name)):
        posix = entry.get("command") or entry.get("python", "")
        if ".venv/bin" not in posix and not posix.startswith("make "):
            continue
        windows = entry["windows"].get("command") or entry["windows"]["python"]
        assert ".venv/bin" not in windows and "make" not in windows, entry
        assert windows.startswith(("py -m workshop", ".venv\\Scripts\\", "${")), entry
        if "workshop " in posix and "/workshop " in posix:  # the same subcommand
            assert windows.endswith(posix.split("/workshop ", 1)[1]), entry


def scripts() -> list[str]:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [
        p
        for p in tracked
        if p.endswith(".sh")
        or Path(p).name == "Makefile"
        or (ROOT / p).read_bytes()[:2] == b"#!"
    ]


def test_scripts_keep_lf_in_a_windows_checkout(tmp_path: Path) -> None:
    """A clone with core.autocrlf=true (Git for Windows' default) still has LF
    scripts: .gitattributes says eol=lf, and bash and make fail on CR."""
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "-c", "core.autocrlf=true", "clone", "--quiet", "--no-local",
         str(ROOT), str(clone)],
        check=True,
    )  # fmt: skip
    subprocess.run(["git", "config", "core.autocrlf", "true"], cwd=clone, check=True)
    found = [p for p in scripts() if (clone / p).exists()]
    assert ".devcontainer/start-app.sh" in found and "Makefile" in found
    assert [p for p in found if b"\r\n" in (clone / p).read_bytes()] == []


def smoke(*parts: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SMOKE), *parts],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_smoke_script_names_its_parts_on_a_wrong_one() -> None:
    result = smoke("serv")
    assert result.returncode == 2
    assert result.stdout == (
        "unknown part 'serv': choose from serve, goto, watch, worker, orphan\n"
    )


def test_the_smoke_scripts_goto_part_passes_here() -> None:
    """The quickest part, run for real: it clones the committed tree, edits
    app/, goes to step 1 and restores the edit."""
    result = smoke("goto")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS goto: goto 1 replaced app/" in result.stdout
