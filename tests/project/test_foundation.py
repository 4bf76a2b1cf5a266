"""The foundation: two README commands (and the path without make), two hashed
locks without URLs (the learner's and the authors'), hooks that run .venv's tools."""

from __future__ import annotations

import re
import shlex
import subprocess
from importlib.metadata import distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.txt"  # the learner lock: make venv, workshop setup
AUTHORS_LOCK = ROOT / "requirements-authors.txt"  # make test adds it


def lock_pins(lock: Path = LOCK) -> dict[str, str]:
    pins = re.findall(
        r"^([A-Za-z0-9_.-]+)==([^\s;\\]+)", lock.read_text(), re.MULTILINE
    )
    return {name.lower().replace("_", "-"): version for name, version in pins}


def test_every_locked_requirement_is_pinned_with_hashes() -> None:
    """Each requirement in both locks names one exact version and its hashes."""
    for lock, least in ((LOCK, 40), (AUTHORS_LOCK, 5)):
        entries = re.split(r"\n(?=\S)", lock.read_text())
        requirements = [e for e in entries if e.strip() and not e.startswith("#")]
        assert len(requirements) > least, lock.name
        for entry in requirements:
            assert re.match(r"^[A-Za-z0-9_.-]+==\S+", entry), entry.splitlines()[0]
            assert "--hash=sha256:" in entry, entry.splitlines()[0]


# What the app, the checks and the hooks import or run: the learner lock.
LEARNER = {
    "fastapi", "fastapi-cli", "uvicorn", "watchfiles", "python-multipart",
    "pydantic-settings", "email-validator", "fastapi-offline", "celery", "redis",
    "sqlalchemy",
    "pytest", "httpx", "ruff", "pre-commit", "pre-commit-hooks", "flit-core",
}  # fmt: skip
# The authors' tools, and what fastapi[standard] and uvicorn[standard] pulled
# that nothing a learner runs uses (`fastapi dev` stays: the course names it).
NOT_LEARNER = {
    "pytest-xdist", "zizmor", "check-jsonschema", "playwright",
    "opentelemetry-sdk", "protobuf", "jinja2", "fastapi-cloud-cli",
    "uvloop", "httptools", "websockets",
}  # fmt: skip


def test_the_learner_lock_holds_what_learners_use_and_no_more() -> None:
    learner, authors = lock_pins(), lock_pins(AUTHORS_LOCK)
    assert set(learner) >= LEARNER
    assert set(learner) & NOT_LEARNER == set()
    assert {"pytest-xdist", "zizmor", "check-jsonschema"} <= set(authors)
    shared = set(learner) & set(authors)
    assert {name: authors[name] for name in shared} == {
        name: learner[name] for name in shared
    }  # the authors' lock is resolved with the learner lock as its constraints


def test_lock_has_no_urls_and_no_file_sets_an_index() -> None:
    """No committed file records a download URL in the lock or sets a package index.
    Index settings belong to the machine: the offline kit's options are written
    by workshop/course/kit.py into the git-ignored wheelhouse (its kit.txt), never into
    a committed file, and the Makefile only reads them from there."""
    assert "://" not in LOCK.read_text() + AUTHORS_LOCK.read_text()
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


def test_every_hook_is_local_and_runs_a_tool_of_the_venv() -> None:
    """No remote repository and no environment pre-commit would build (with a
    download): each hook runs a program of .venv that the learner lock installs."""
    import yaml

    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    scripts = {  # each program of a venv's bin/ and the package that put it there
        file.name: dist.metadata["Name"].lower().replace("_", "-")
        for dist in distributions()
        for file in dist.files or []
        if file.parent.name == "bin"
    }
    hooks = config["repos"][0]["hooks"]
    assert len(hooks) >= 8
    for hook in hooks:
        assert hook["language"] == "unsupported", hook["id"]
        assert "additional_dependencies" not in hook, hook["id"]
        program = shlex.split(hook["entry"])[0]
        assert program.startswith(".venv/bin/"), hook["id"]
        name = program.removeprefix(".venv/bin/")
        assert name == "python" or scripts.get(name) in lock_pins(), hook["id"]


def code_blocks(text: str) -> list[list[str]]:
    """The commands of each fenced block (comments and blank lines left out)."""
    blocks = re.findall(r"```\w*\n(.*?)```", text, re.DOTALL)
    return [
        [c for c in (line.split("#")[0].strip() for line in b.splitlines()) if c]
        for b in blocks
    ]


def test_readme_opens_with_the_two_commands() -> None:
    """README's first code block holds exactly `make run` and `make test`; the
    second, the path without make, in the POSIX and the Windows spelling."""
    readme = (ROOT / "README.md").read_text()
    first, second = code_blocks(readme)[:2]
    assert first == ["make run", "make test"]
    assert second == [
        "python3 -m workshop setup",
        ".venv/bin/workshop serve",
        "py -m workshop setup",
        ".venv\\Scripts\\workshop serve",
    ]
    assert readme.index("```") < readme.index("\n## ")


# What .ci/run may do before `make test`: install Chromium for the browser
# tests when it is missing, and make a missing browser fail there; point step
# 8's suite at Redis, so that a missing Redis fails there too.
CI_SETUP = [
    'missing=""',
    '[ -x /usr/bin/chromium ] || missing="$missing chromium"',
    'command -v bwrap > /dev/null || missing="$missing bubblewrap"',
    'if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null;'
    " then",
    "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq"
    " $missing > /dev/null",
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


def recipe(target: str) -> str:
    planned = subprocess.run(
        # --no-print-directory: under `make test` this make is a sub-make,
        # which would print "Entering directory" lines around its plan
        ["make", "--no-print-directory", "-n", "-B", target, "PYTHON=python3"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return planned.stdout


def test_make_venv_is_workshop_setup_and_make_test_adds_the_authors_lock() -> None:
    """make calls the same code as the path without make: the learner lock for
    make venv, the authors' lock on top for make test."""
    setup = "python3 -m workshop setup --venv .venv --wheelhouse wheelhouse"
    venv = recipe("venv").splitlines()
    assert venv == [setup]
    test = recipe("test")
    assert f"{setup} --authors" in test
    assert "requirements-browser.txt" in test


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
