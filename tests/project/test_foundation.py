"""The foundation: two README commands, a hashed lock without URLs, pinned hooks."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.txt"


def lock_pins() -> dict[str, str]:
    pins = re.findall(
        r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", LOCK.read_text(), re.MULTILINE
    )
    return {name.lower().replace("_", "-"): version for name, version in pins}


def test_every_locked_requirement_is_pinned_with_hashes() -> None:
    """Each requirement in the lock names one exact version and its hashes."""
    entries = re.split(r"\n(?=\S)", LOCK.read_text())
    requirements = [e for e in entries if e.strip() and not e.startswith("#")]
    assert len(requirements) > 20
    for entry in requirements:
        assert re.match(r"^[A-Za-z0-9_.-]+==\S+", entry), entry.splitlines()[0]
        assert "--hash=sha256:" in entry, entry.splitlines()[0]


def test_lock_has_no_urls_and_no_file_sets_an_index() -> None:
    """No committed file records a download URL in the lock or sets a package index.
    Index settings belong to the machine: the offline kit's options are written
    by workshop/course/kit.py into the git-ignored wheelhouse (its kit.txt), never into
    a committed file, and the Makefile only reads them from there."""
    assert "://" not in LOCK.read_text()
    tracked = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files"], capture_output=True, text=True, check=True
    ).stdout.split()
    # spelled in pieces so that this file does not match its own pattern
    pattern = re.compile("(extra-)?index" + "-url|find" + "-links")
    offenders = [
        name
        for name in tracked
        if (ROOT / name).is_file()
        for line in (ROOT / name).read_text(errors="ignore").splitlines()
        if pattern.search(line) and name != "workshop/course/kit.py"
    ]
    assert offenders == []
    assert "no-index" not in (ROOT / "Makefile").read_text()


def test_lock_covers_the_declared_dependencies() -> None:
    """fastapi, uvicorn, watchfiles and the dev tools are all in the lock."""
    pins = lock_pins()
    for name in ("fastapi", "starlette", "uvicorn", "watchfiles", "pytest", "ruff"):
        assert name in pins, name
    assert pins["pre-commit"]


def test_pre_commit_ruff_pin_matches_the_lock() -> None:
    """pre-commit runs the same ruff version as the virtual environment."""
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    hook_pins = set(re.findall(r"ruff==([\w.]+)", config))
    assert hook_pins == {lock_pins()["ruff"]}


def test_readme_opens_with_the_two_commands() -> None:
    """README's first code block holds exactly `make run` and `make test`."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```\w*\n(.*?)```", readme, re.DOTALL)
    assert block is not None
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert [c for c in commands if c] == ["make run", "make test"]
    assert readme.index("```") < readme.index("\n## ")


# What .ci/run may do before `make test`: install Chromium for the browser
# tests when it is missing, and make a missing browser fail there; point step
# 8's suite at Redis, so that a missing Redis fails there too.
CI_SETUP = [
    'if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get'
    " > /dev/null; then",
    "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq"
    " chromium > /dev/null",
    "fi",
    "export REQUIRE_BROWSER=1",
    'export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"',
]


def test_ci_runs_the_readme_test_command() -> None:
    """.ci/run calls `make test` and nothing else, after the browser's setup."""
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    commands = [
        line.strip()
        for line in lines
        if line and not line.startswith(("#", "set ", "cd "))
    ]
    assert commands == [*CI_SETUP, "make test"]


def test_makefile_has_the_readme_targets() -> None:
    """The Makefile defines run, test and lock."""
    makefile = (ROOT / "Makefile").read_text()
    for target in ("run", "test", "lock", "venv"):
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), target


def test_playwright_is_locked_apart_for_the_tests_only() -> None:
    """requirements-browser.txt pins Playwright with hashes and no URLs;
    `make test` installs it, `make venv` (what learners run) does not."""
    browser_lock = (ROOT / "requirements-browser.txt").read_text()
    assert "://" not in browser_lock
    entries = [e for e in re.split(r"\n(?=\S)", browser_lock) if e[:1].isalpha()]
    assert any(e.startswith("playwright==") for e in entries)
    assert all("--hash=sha256:" in e for e in entries)
    assert "playwright" not in lock_pins()
    makefile = (ROOT / "Makefile").read_text()
    venv_recipe = re.search(r"^\$\(STAMP\):.*?\n\n", makefile, re.M | re.S)
    assert venv_recipe and "requirements-browser" not in venv_recipe.group(0)
    assert re.search(r"^test: .*\$\(BROWSER\)", makefile, re.M)
