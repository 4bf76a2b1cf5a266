"""A learner's .venv stays small: what the learner lock installs is an
allow-list, SQLAlchemy comes as its pure-Python wheel, and setup adds no
setuptools and no bytecode but for what learners' programs import.

The sizes themselves are measured by tests/project/venv_bench.py (figures in
docs/BENCHMARKS.md) and checked by the slow fresh-clone test of test_setup.py;
the tests here are the cheap, deterministic part: a package that joins the
lock, or an install that compiles everything again, fails them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from project_files import ROOT

from workshop import bytecode, setup
from workshop.course import kit, pure

LOCK = (ROOT / "requirements.txt").read_text()

# Every package the learner lock installs on any kit target, and why. A new one
# is a decision: measure the .venv (venv_bench.py) before adding it here.
ALLOWED = {
    # the app: FastAPI, its settings and models, uploads, offline /docs
    "fastapi", "starlette", "pydantic", "pydantic-core", "annotated-types",
    "annotated-doc", "typing-extensions", "typing-inspection", "anyio", "idna",
    "opentelemetry-api", "pydantic-settings", "python-dotenv", "email-validator",
    "dnspython", "python-multipart", "fastapi-offline",
    # make run and reload on save; `fastapi dev`, as FastAPI's docs run an app
    "uvicorn", "h11", "click", "watchfiles", "fastapi-cli", "typer", "rich",
    "rich-toolkit", "shellingham", "markdown-it-py", "mdurl",
    # steps 8-9: Celery, its brokers (Redis; SQLite through SQLAlchemy)
    "celery", "kombu", "billiard", "vine", "amqp", "click-didyoumean",
    "click-plugins", "click-repl", "prompt-toolkit", "wcwidth", "python-dateutil",
    "six", "tzlocal", "tzdata", "redis", "async-timeout", "sqlalchemy",
    # the checks
    "pytest", "pluggy", "iniconfig", "packaging", "pygments", "colorama",
    "httpx", "httpcore", "certifi",
    # the hooks (pre-commit needs virtualenv and its own, never run here)
    "ruff", "pre-commit", "cfgv", "identify", "nodeenv", "pyyaml", "virtualenv",
    "distlib", "filelock", "platformdirs", "python-discovery", "pre-commit-hooks",
    "ruamel-yaml",
    # the editable install of the workshop command
    "flit-core",
}  # fmt: skip


def locked_anywhere() -> set[str]:
    return {
        line.split("==")[0]
        for target in kit.TARGETS
        for python in kit.PYTHONS
        for line in kit.for_target(LOCK, target, python)
    }


def test_the_learner_lock_installs_the_allowed_packages_alone() -> None:
    assert locked_anywhere() - ALLOWED == set()
    assert ALLOWED - locked_anywhere() == set()  # the list is kept true


def test_sqlalchemy_is_locked_to_its_pure_python_wheel() -> None:
    """One hash: the py3-none-any wheel (workshop/course/pure.py), so pip has no
    platform wheel with 9 MB of compiled speedups to choose."""
    [entry] = [e for e, _ in kit.entries(LOCK) if e.startswith("sqlalchemy==")]
    assert entry.count("--hash=sha256:") == 1


ENTRY = """\
six==1.17.0 \\
    --hash=sha256:aaa \\
    --hash=sha256:bbb
    # via python-dateutil
sqlalchemy==2.1.9 \\
    --hash=sha256:111 \\
    --hash=sha256:222 \\
    --hash=sha256:333
    # via background-tasks-workshop (pyproject.toml)
"""


def test_pure_keeps_the_one_hash_and_every_other_line() -> None:
    narrowed = pure.keep_one_hash(ENTRY, "sqlalchemy", "222")
    assert narrowed == ENTRY.replace(
        "    --hash=sha256:111 \\\n    --hash=sha256:222 \\\n    --hash=sha256:333\n",
        "    --hash=sha256:222\n",
    )
    assert pure.version_of(narrowed, "sqlalchemy") == "2.1.9"


def test_pure_never_adds_a_hash_uv_did_not_lock() -> None:
    with pytest.raises(SystemExit, match="not one of its locked files"):
        pure.keep_one_hash(ENTRY, "sqlalchemy", "444")
    with pytest.raises(SystemExit, match="not in the lock once"):
        pure.keep_one_hash(ENTRY, "flask", "222")


def test_setup_installs_without_compiling_everything() -> None:
    commands = setup.pip_commands(Path("python"), ROOT, [], authors=False)
    assert all("--no-compile" in command for command in commands)


def test_trim_removes_setuptools_and_pips_bytecode_not_pip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What ensurepip leaves in a new .venv (Python 3.11): setuptools, and pip
    compiled. setuptools goes through pip (its RECORD); pip stays, uncompiled."""
    venv = tmp_path / ".venv"
    site = setup.site_packages(venv)
    (site / "setuptools-65.5.0.dist-info").mkdir(parents=True)
    cache = site / "pip" / "_internal" / "__pycache__"
    cache.mkdir(parents=True)
    (cache / "main.cpython-311.pyc").write_bytes(b"")
    (site / "pip" / "_internal" / "main.py").write_text("")
    ran: list[list[str]] = []
    monkeypatch.setattr(setup, "install", lambda commands, root: ran.extend(commands))
    setup.trim(venv)
    assert [c[1:] for c in ran] == [
        ["-m", "pip", "uninstall", "--quiet", "--yes", "setuptools"]
    ]
    assert not cache.exists()
    assert (site / "pip" / "_internal" / "main.py").is_file()


def test_the_modules_compiled_ahead_all_import() -> None:
    """A module renamed by an upgrade would silently lose its bytecode."""
    code = "from workshop.bytecode import *; print(import_all(IMPORTED))"
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]", result.stderr[-2000:]
    assert len(bytecode.IMPORTED) == len(set(bytecode.IMPORTED))
