"""The committed CodeTours: valid against CodeTour's own schema, one per step
after the first, and exactly what `workshop tours` generates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from project_files import ROOT, check_jsonschema

SCHEMA = ROOT / "tests" / "project" / "codetour.schema.json"
TOURS = sorted((ROOT / ".tours").glob("*.tour"))


def test_a_tour_for_every_step_after_the_first() -> None:
    steps = sorted(int(p.name[5:]) for p in (ROOT / "checkpoints").glob("step-*"))
    assert [p.name for p in TOURS] == sorted(f"step-{n}.tour" for n in steps[1:])


def test_tours_match_codetours_schema() -> None:
    result = check_jsonschema(*TOURS, schema=SCHEMA, filetype="json")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_catches_a_broken_tour(tmp_path: Path) -> None:
    """The check is real: a tour without steps, a step without description."""
    for text in ('{"title": "t"}', '{"title": "t", "steps": [{"file": "a"}]}'):
        broken = tmp_path / "broken.tour"
        broken.write_text(text)
        assert (
            check_jsonschema(broken, schema=SCHEMA, filetype="json").returncode != 0
        ), text


def test_tours_are_what_workshop_tours_writes() -> None:
    """Regenerated after every change to a checkpoint or a guide's Exercise."""
    result = subprocess.run(
        [sys.executable, "-m", "workshop", "tours", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
