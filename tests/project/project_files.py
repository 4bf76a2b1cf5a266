"""Helpers for the tests of the project files: JSON with comments, commands, YAML.

Stdlib only (PyYAML is imported where a workflow is read), so that
tests/project/lifecycle.py can use it with any Python 3.11+.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # the venv's tools: check-jsonschema, zizmor
WORKFLOWS = ROOT / ".github" / "workflows"


def strip_comments(text: str) -> str:
    """`text` without // and /* */ comments; string literals are kept intact."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i : end + 1])
            i = end + 1
        elif text.startswith("//", i):
            newline = text.find("\n", i)
            i = n if newline == -1 else newline
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end == -1:
                raise ValueError("unterminated /* comment")
            out.append(" ")
            i = end + 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def load_jsonc(path: Path) -> Any:
    """Parse a JSON-with-comments file (trailing commas are not allowed)."""
    return json.loads(strip_comments(path.read_text(encoding="utf-8")))


def load_yaml(path: Path) -> Any:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def workflow(name: str) -> dict[str, Any]:
    """A workflow as data; YAML 1.1 reads the key `on` as True, so it is renamed."""
    data = load_yaml(WORKFLOWS / name)
    if True in data:
        data["on"] = data.pop(True)
    return data


@cache
def make_targets() -> frozenset[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    return frozenset(re.findall(r"^([A-Za-z][\w-]*):", makefile, re.MULTILINE))


@cache
def workshop_commands() -> frozenset[str]:
    from workshop.cli import COMMANDS

    return frozenset(COMMANDS)


@cache
def locked_packages() -> frozenset[str]:
    lock = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    names = re.findall(r"^([A-Za-z0-9_.-]+)==", lock, re.MULTILINE)
    return frozenset(name.lower().replace("_", "-") for name in names)


def command_problems(command: str) -> list[str]:
    """What in a shell command names something the project does not have.

    Checks each simple command joined by && or ;: `make T` (T is a Makefile
    target), `.venv/bin/workshop C` (C is a workshop subcommand),
    `.venv/bin/X` (X comes from a locked package), `sh PATH` (PATH exists).
    """
    problems = []
    for part in re.split(r"&&|;|\|\|", command):
        words = shlex.split(part)
        if not words:
            continue
        program, args = words[0], words[1:]
        if program == "make":
            targets = [a for a in args if not a.startswith("-") and "=" not in a]
            problems += [
                f"no make target {t!r}"
                for t in targets or ["(default)"]
                if t not in make_targets()
            ]
        elif program.endswith(".venv/bin/workshop"):
            sub = next((a for a in args if not a.startswith("-")), None)
            if sub not in workshop_commands():
                problems.append(f"no workshop command {sub!r}")
        elif program.startswith(".venv/bin/"):
            tool = program.removeprefix(".venv/bin/")
            if tool not in locked_packages() | {"python", "pytest"}:
                problems.append(f"{tool!r} is not installed by requirements.txt")
        elif program == "sh":
            if not args or not (ROOT / args[0]).is_file():
                problems.append(f"no script {args[:1]}")
        else:
            problems.append(f"unexpected program {program!r}")
    return problems


def check_jsonschema(
    *paths: Path, schema: Path | str, filetype: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The venv's check-jsonschema on `paths`: `schema` is a schema file, or
    the name of a schema it ships (`vendor.github-workflows`)."""
    which = ["--schemafile", str(schema)] if isinstance(schema, Path) else []
    which = which or ["--builtin-schema", str(schema)]
    kind = ["--default-filetype", filetype] if filetype else []
    return subprocess.run(
        [BIN / "check-jsonschema", *which, *kind, *map(str, paths)],
        capture_output=True,
        text=True,
    )
