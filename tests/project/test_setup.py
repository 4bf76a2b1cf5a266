"""`python -m workshop setup`, the path without make: standard library only until
.venv exists, one line and a non-zero exit on bad input, and (slow, one test)
a fresh clone from `python3 -m workshop setup` to a green `workshop check 0`,
its .venv within budget."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from project_files import ROOT

from workshop import setup

# What runs before .venv exists: it must parse on the Pythons it turns away.
BEFORE_VENV = ("workshop/__init__.py", "workshop/__main__.py", "workshop/setup.py")
IMPORTED = """
import runpy, sys
before = set(sys.modules)
sys.argv = ["workshop", "setup", "--help"]
try:
    runpy.run_module("workshop", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
print(*sorted(set(sys.modules) - before), sep="\\n", file=sys.stderr)
"""


def test_setup_imports_only_the_standard_library() -> None:
    """`python -m workshop setup` reaches setup before workshop.cli, fastapi,
    pydantic or anything else .venv would have to provide."""
    result = subprocess.run(
        [sys.executable, "-c", IMPORTED],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {name.split(".")[0] for name in result.stderr.split()}
    outside = imported - set(sys.stdlib_module_names) - {"workshop", "__main__"}
    assert outside == set()
    assert "usage: python -m workshop setup" in result.stdout
    assert "workshop.setup" in result.stderr.split()


@pytest.mark.parametrize("path", BEFORE_VENV)
def test_what_runs_before_the_venv_parses_on_old_pythons(path: str) -> None:
    """So that Python 3.8 gets the one line below, not a SyntaxError."""
    ast.parse((ROOT / path).read_text(), feature_version=(3, 8))


def repository(tmp_path: Path, lock: str) -> Path:
    """The modules setup runs with, and a lock, in a folder of their own."""
    root = tmp_path / "repo"
    for name in BEFORE_VENV:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, root / name)
    (root / "requirements.txt").write_text(lock)
    return root


def run_setup(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workshop", "setup", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


BROKEN = [
    ("fastapi>=0.163\n", "requirements.txt is broken at 'fastapi>=0.163'"),
    ("fastapi==0.163.2\n", "requirements.txt is broken at 'fastapi==0.163.2'"),
    ("# nothing\n", "requirements.txt is broken: it pins no package"),
]


@pytest.mark.parametrize(("lock", "said"), BROKEN)
def test_a_broken_lock_is_one_line_and_nothing_is_created(
    tmp_path: Path, lock: str, said: str
) -> None:
    root = repository(tmp_path, lock)
    result = run_setup(root)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"error: {said}")
    assert not (root / ".venv").exists()


GOOD = "flit-core==3.12.0 \\\n    --hash=sha256:" + "0" * 64 + "\n"


def test_no_write_access_is_one_line(tmp_path: Path) -> None:
    """A .venv where nothing can be written (even by root: /proc)."""
    root = repository(tmp_path, GOOD)
    result = run_setup(root, "--venv", "/proc/workshop-venv")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("error: ")
    assert "/proc/workshop-venv" in result.stderr


def test_a_python_too_old_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(setup, "OLDEST", (99, 0))
    assert setup.main(["--venv", "no-such-venv"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: Python 99.0 or newer is needed (this is 3.")
    assert error.count("\n") == 1
    assert not (ROOT / "no-such-venv").exists()


def test_the_next_step_is_spelled_the_way_this_os_spells_it() -> None:
    spelled = setup.spelled(Path("/x/.venv"), "workshop")
    posix, windows = ".venv/bin/workshop", ".venv\\Scripts\\workshop"
    assert spelled == (windows if os.name == "nt" else posix)


def base_python() -> str:
    """A Python outside any virtual environment, as a learner's would be."""
    for name in ("python3", "python3.exe", "python.exe"):
        candidate = Path(sys.base_prefix) / "bin" / name
        if candidate.is_file():
            return str(candidate)
    return sys.executable


# The files of a fresh learner .venv (docs/BENCHMARKS.md: 115.6 MB on Linux,
# Python 3.11; it was 164.8 MB). Issue 19 asks for 100: not reached.
VENV_BUDGET = 120_000_000


def venv_bytes(venv: Path) -> int:
    return sum(p.lstat().st_size for p in venv.rglob("*") if not p.is_dir())


@pytest.mark.slow
def test_a_fresh_clone_from_setup_to_a_green_check_without_make(
    tmp_path: Path,
) -> None:
    """The no-make path as a learner takes it: the real lock, from the package
    index as pip is configured here (or the kit, when ROOT has one)."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PATH")}
    env["PATH"] = os.pathsep.join(
        p for p in os.environ["PATH"].split(os.pathsep) if sys.prefix not in p
    )
    if (ROOT / "wheelhouse" / "kit.txt").is_file():
        env["WHEELHOUSE"] = str(ROOT / "wheelhouse")
    made = subprocess.run(
        [base_python(), "-m", "workshop", "setup"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert made.returncode == 0, made.stderr[-2000:]
    assert venv_bytes(clone / ".venv") <= VENV_BUDGET
    command = setup.spelled(clone / ".venv", "workshop")
    assert command in made.stdout
    checked = subprocess.run(
        [str(clone / command), "check", "0"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert checked.returncode == 0, checked.stdout[-2000:] + checked.stderr[-2000:]
