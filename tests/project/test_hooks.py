"""The pre-commit hooks need no network: in a fresh clone, with every index and
proxy refused and an empty PRE_COMMIT_HOME, `pre-commit run --all-files` passes,
and pre-commit builds no environment of its own. The same offline setting makes
a hook that installs from the index (what the hooks did before) fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from project_files import ROOT

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="the hooks run .venv/bin's tools (POSIX)"
)
NOWHERE = "http://127.0.0.1:9"  # nothing answers: a connection is refused at once
# The old hook: ruff from the package index, installed by pre-commit itself.
FROM_THE_INDEX = """repos:
  - repo: local
    hooks:
      - id: ruff-check
        name: ruff check
        entry: ruff check
        language: python
        additional_dependencies: [ruff==0.17.6]
        types: [python]
"""


def offline(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env = {k: v for k, v in env.items() if not k.lower().endswith("_proxy")}
    proxies = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
    return {
        **env,
        **dict.fromkeys(proxies, NOWHERE),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_NO_CACHE_DIR": "1",
        "UV_OFFLINE": "1",
        "PRE_COMMIT_HOME": str(home),
        "SKIP": "",
    }


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A fresh clone whose .venv is the environment running these tests."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    (clone / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return clone


def pre_commit(clone: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(clone / ".venv" / "bin" / "pre-commit"), "run", "--all-files", *args],
        cwd=clone,
        env=offline(home),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_hooks_pass_offline_at_the_first_commit(
    clone: Path, tmp_path: Path
) -> None:
    home = tmp_path / "pre-commit-home"
    result = pre_commit(clone, home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ruff check" in result.stdout and "Passed" in result.stdout
    built = [p.name for p in home.iterdir() if p.is_dir()] if home.exists() else []
    assert built == []  # no hook environment, nothing fetched


def test_offline_means_offline_a_hook_from_the_index_fails(
    clone: Path, tmp_path: Path
) -> None:
    (clone / "from-the-index.yaml").write_text(FROM_THE_INDEX)
    home = tmp_path / "pre-commit-home"
    result = pre_commit(clone, home, "--config", "from-the-index.yaml")
    assert result.returncode != 0
    assert "An unexpected error has occurred" in result.stdout + result.stderr
