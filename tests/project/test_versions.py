"""The versions the docs name are the versions the lock pins, and the
Dependabot file that bumps the lock is valid: a bump cannot leave the text
behind (CI fails on Dependabot's own pull request until the text follows)."""

from __future__ import annotations

import re
from pathlib import Path

from project_files import ROOT, check_jsonschema
from test_foundation import lock_pins

DEPENDABOT = ROOT / ".github" / "dependabot.yml"
SCHEMA = ROOT / "tests" / "project" / "dependabot-2.0.schema.json"
# "FastAPI 0.163.2", "uvicorn\n0.54.0": a package's name, then a full version.
# Two-part versions ("FastAPI 0.121+") tell history and are left alone.
MENTION = re.compile(r"\b([A-Za-z][\w.-]*)\s+v?(\d+\.\d+\.\d+)\b")


def texts() -> list[Path]:
    guides = sorted((ROOT / "checkpoints").glob("step-*/README.md"))
    return [ROOT / "README.md", ROOT / "docs" / "FACTS.md", *guides]


def mentions(text: str, pins: dict[str, str]) -> list[tuple[str, str, int]]:
    """(package, version, line) for each versioned mention of a locked package."""
    found = []
    for match in MENTION.finditer(text):
        name = match.group(1).lower().replace("_", "-")
        if name in pins:
            line = text.count("\n", 0, match.start()) + 1
            found.append((name, match.group(2), line))
    return found


def stale(text: str, pins: dict[str, str]) -> list[str]:
    return [
        f"line {line}: {name} {version}, but the lock pins {pins[name]}"
        for name, version, line in mentions(text, pins)
        if version != pins[name]
    ]


def test_named_versions_match_the_lock() -> None:
    pins = lock_pins()
    problems = {
        path.relative_to(ROOT).as_posix(): stale(path.read_text(), pins)
        for path in texts()
    }
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_docs_do_name_the_pinned_versions() -> None:
    """Not vacuous: README, FACTS and the guides name FastAPI, Starlette and
    uvicorn with a version."""
    pins = lock_pins()
    named = {
        (path.name, name)
        for path in texts()[:2]
        for name, _, _ in mentions(path.read_text(), pins)
    }
    for doc in ("README.md", "FACTS.md"):
        assert {(doc, p) for p in ("fastapi", "starlette", "uvicorn")} <= named


def test_a_stale_version_is_caught() -> None:
    pins = {"fastapi": "0.163.2", "uvicorn": "0.54.0"}
    text = "On **FastAPI 0.163.1 / uvicorn\n0.54.0**, since FastAPI 0.121+."
    assert stale(text, pins) == ["line 1: fastapi 0.163.1, but the lock pins 0.163.2"]


def test_dependabot_file_matches_its_schema() -> None:
    result = check_jsonschema(DEPENDABOT, schema=SCHEMA)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dependabot_schema_check_is_real(tmp_path: Path) -> None:
    broken = tmp_path / "dependabot.yml"
    broken.write_text(
        "version: 2\nupdates:\n  - package-ecosystem: pipx\n    directory: /\n"
    )
    assert check_jsonschema(broken, schema=SCHEMA).returncode != 0


def test_one_pull_request_a_week_for_every_ecosystem() -> None:
    """Every ecosystem the project pins is in the one weekly group, which has the
    only schedule."""
    import yaml

    config = yaml.safe_load(DEPENDABOT.read_text())
    [(name, group)] = config["multi-ecosystem-groups"].items()
    assert group["schedule"]["interval"] == "weekly"
    updates = config["updates"]
    ecosystems = {u["package-ecosystem"] for u in updates}
    assert ecosystems == {"github-actions", "pip", "devcontainers", "npm"}
    for update in updates:
        assert update["multi-ecosystem-group"] == name
        assert update["patterns"] == ["*"]
        assert "schedule" not in update
        folder = ROOT / update["directory"].lstrip("/")
        assert folder.is_dir(), update
