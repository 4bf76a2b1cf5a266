"""The JSON a guide shows after a `curl` is the JSON its step's app answers.

A guide's ```console``` blocks show commands and what they print. Where a
`curl` to the app prints JSON, every object in it must have the fields of
that endpoint's response model in checkpoint N (its OpenAPI schema), in the
model's order, and no other; a field may be left out only where the sample
says so with `...` in its place (`{"id":1,...,"status":"sent",...}`). Error
bodies (`{"detail": ...}`) are not checked. A model that gains a field (the
emails' `error`) and a guide that still prints the old object fail here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from project_files import ROOT

CHECKPOINTS = ROOT / "checkpoints"
BLOCK = re.compile(r"```console\n(.*?)```", re.S)
URL = re.compile(r"http://127\.0\.0\.1:8000(/[^\s'\"]*)")
# a key, or "..." standing for fields left out (never the string value "...")
TOKEN = re.compile(r'"(\w+)":|(?<=[{,])\.\.\.(?=[,}])')
OPENAPI = (
    "import json, sys; sys.path.insert(0, sys.argv[1]); "
    "from app.main import app; print(json.dumps(app.openapi()))"
)
ELIDED = None


def samples(guide: str) -> list[tuple[str, str, str]]:
    """(method, path, printed JSON) for each curl in the guide's console blocks
    whose output is JSON."""
    found = []
    for block in BLOCK.findall(guide):
        commands: list[tuple[str, list[str]]] = []
        command = ""
        for line in block.splitlines():
            if command.endswith("\\"):
                command = command[:-1] + line
                commands[-1] = (command, [])
            elif line.startswith("$ "):
                command = line[2:]
                commands.append((command, []))
            elif commands:
                commands[-1][1].append(line.strip())
        for text, output in commands:
            url = URL.search(text)
            printed = " ".join(o for o in output if o.startswith(("{", "[")))
            if "curl" in text and url and printed:
                method = re.search(r"-X\s+(\w+)", text)
                path = url.group(1).split("?")[0]
                found.append((method.group(1) if method else "GET", path, printed))
    return found


def objects(printed: str) -> list[list[str | None]]:
    """Each flat object's keys in order, ELIDED where it shows `...`."""
    return [
        [key or ELIDED for key in TOKEN.findall(chunk)]
        for chunk in re.findall(r"\{[^{}]*\}", printed)
    ]


@cache
def openapi(step: int, tmp: str) -> dict:
    folder = CHECKPOINTS / f"step-{step}"
    env = {**os.environ, "NEWSLETTER_DB": str(Path(tmp) / f"{step}.db")}
    out = subprocess.run(
        [sys.executable, "-c", OPENAPI, str(folder)],
        cwd=tmp, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


def fields(spec: dict, method: str, path: str) -> list[str]:
    """The response model's fields of METHOD path (a template may match)."""
    for template, operations in spec["paths"].items():
        pattern = re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path) and method.lower() in operations:
            responses = operations[method.lower()]["responses"]
            ok = next(code for code in responses if code.startswith("2"))
            schema = responses[ok]["content"]["application/json"]["schema"]
            schema = schema.get("items", schema)
            name = schema["$ref"].rsplit("/", 1)[-1]
            return list(spec["components"]["schemas"][name]["properties"])
    raise AssertionError(f"{method} {path}: no such operation")


def problems(keys: list[str | None], model: list[str]) -> list[str]:
    """What is wrong with one printed object against the model's fields."""
    unknown = [k for k in keys if k is not ELIDED and k not in model]
    if unknown:
        return [f"fields the model does not have: {unknown}"]
    places = [model.index(k) for k in keys if k is not ELIDED]
    if places != sorted(places):
        return [f"not in the model's order {model}"]
    missing = []
    for index, field in enumerate(model):
        if field in keys:
            continue
        before = [k for k in keys if k is not ELIDED and model.index(k) < index]
        start = keys.index(before[-1]) + 1 if before else 0
        after = [k for k in keys[start:] if k is not ELIDED]
        end = keys.index(after[0]) if after else len(keys)
        if ELIDED not in keys[start:end]:
            missing.append(field)
    return [f"leaves out {missing} with no '...' in their place"] if missing else []


GUIDES = sorted(CHECKPOINTS.glob("step-*/README.md"))


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.parent.name)
def test_printed_json_has_the_models_fields(guide: Path, tmp_path_factory) -> None:
    step = int(guide.parent.name.removeprefix("step-"))
    tmp = str(tmp_path_factory.getbasetemp())
    wrong = []
    for method, path, printed in samples(guide.read_text(encoding="utf-8")):
        if printed.lstrip("[ ").startswith('{"detail"'):
            continue
        model = fields(openapi(step, tmp), method, path)
        for keys in objects(printed):
            wrong += [f"{method} {path}: {p}: {printed}" for p in problems(keys, model)]
    assert not wrong, "\n".join(wrong)


def test_the_reading_finds_a_wrong_sample_and_lets_an_elided_one_pass() -> None:
    model = ["id", "recipient", "subject", "body", "status", "error", "created_at"]
    [full] = objects('{"id":1,"recipient":"a","subject":"s","body":"b",'
                     '"status":"sent","created_at":"..."}')  # fmt: skip
    assert problems(full, model) == [
        "leaves out ['error'] with no '...' in their place"
    ]
    [elided] = objects('{"id":1,"recipient":"a",...,"status":"sent",...}')
    assert problems(elided, model) == []
    [renamed] = objects('{"id":1,"to":"a",...}')
    assert problems(renamed, model) == ["fields the model does not have: ['to']"]
    guide = (
        "```console\n$ curl -s -X POST http://127.0.0.1:8000/subscribers \\\n"
        '    -d \'{"email": "a"}\'\n{"id":1}\n$ curl -s '
        'http://127.0.0.1:8000/outbox   # later\n[{"id":1,...}]\n```\n'
    )
    assert samples(guide) == [
        ("POST", "/subscribers", '{"id":1}'),
        ("GET", "/outbox", '[{"id":1,...}]'),
    ]


def fenced(text: str) -> list[str]:
    """The text of each fenced code block, in order."""
    blocks: list[str] = []
    inside: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("```"):
            if inside is None:
                inside = []
            else:
                blocks.append("\n".join(inside))
                inside = None
        elif inside is not None:
            inside.append(line)
    return blocks


def test_step_1_shows_what_check_prints_on_step_0() -> None:
    """The red check step 1's guide shows is what `workshop check 1` prints on
    step 0's app, line for line (the path:line of the test included)."""
    guide = (CHECKPOINTS / "step-1" / "README.md").read_text(encoding="utf-8")
    shown = next(b for b in fenced(guide) if "✗ Step 1" in b)
    out = subprocess.run(
        [sys.executable, "-m", "workshop", "check", "1", "--checkpoint", "0"],
        cwd=ROOT, env={**os.environ, "NO_COLOR": "1"}, capture_output=True,
        text=True, check=False,
    ).stdout  # fmt: skip
    printed = out.splitlines()
    missing = [line for line in shown.splitlines() if line and line not in printed]
    assert not missing, f"the guide shows lines check does not print: {missing}\n{out}"
