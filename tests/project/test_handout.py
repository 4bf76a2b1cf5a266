"""The learner's hand-out (docs/handout.html) prints on one page, A4 and Letter.

Printed with Chromium headless (`--print-to-pdf`) once with `@page { size: A4 }`
and once with `size: letter` added to its own `@page` rule; the PDF must have
exactly one page of that size. Skipped, saying so, where no Chromium is
installed (`apt-get install -y chromium`). The `workshop` commands it names
must be real ones.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from project_files import ROOT

HANDOUT = ROOT / "docs" / "handout.html"
RULE = "@page { margin: 12mm; }"
SIZES = {"A4": (595, 842), "letter": (612, 792)}  # points, rounded
CHROMIUM = next(
    (
        found
        for name in ("chromium", "chromium-browser", "google-chrome")
        if (found := shutil.which(name))
    ),
    None,
)


def print_pages(html: str, tmp_path: Path) -> tuple[int, tuple[int, int]]:
    """How many pages Chromium prints `html` on, and the size of the first."""
    page, pdf = tmp_path / "handout.html", tmp_path / "handout.pdf"
    page.write_text(html, encoding="utf-8")
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri()],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    box = re.search(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    return pages, (round(float(box[1])), round(float(box[2])))


def sized(size: str, html: str | None = None) -> str:
    html = HANDOUT.read_text(encoding="utf-8") if html is None else html
    assert RULE in html, f"docs/handout.html no longer has the rule {RULE!r}"
    return html.replace(RULE, RULE.replace(";", f"; size: {size};", 1))


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium to print with")
@pytest.mark.parametrize("size", SIZES)
def test_the_handout_prints_on_one_page(size: str, tmp_path: Path) -> None:
    assert print_pages(sized(size), tmp_path) == (1, SIZES[size])


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium to print with")
def test_a_longer_handout_would_be_caught(tmp_path: Path) -> None:
    """Not vacuous: the same page with its steps twice needs a second sheet."""
    html = HANDOUT.read_text(encoding="utf-8")
    steps = re.search(r"<ol start=\"0\">.*?</ol>", html, re.S)[0]
    longer = html.replace(steps, steps * 2)
    assert print_pages(sized("letter", longer), tmp_path)[0] == 2


def test_the_commands_it_names_exist() -> None:
    text = HANDOUT.read_text(encoding="utf-8")
    named = set(re.findall(r"<code>workshop (\w+)", text))
    usage = subprocess.run(
        [sys.executable, "-m", "workshop", "--help"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    known = set(re.findall(r"^  (\w+) ", usage, re.M))
    assert named and named <= known, named - known
