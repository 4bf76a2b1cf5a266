"""Without Chromium the browser tests skip with their reason; in CI they fail."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run_without_browser(**env: str) -> subprocess.CompletedProcess[str]:
    """One browser test, pointed at a Chromium that is not there."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "-rs",
            str(HERE / "test_browser.py"),
            "-k",
            "redoc",
        ],
        env={
            **os.environ,
            "CHROMIUM": str(HERE / "no-such-chromium"),
            "REQUIRE_BROWSER": "",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_missing_browser_skips_with_its_reason() -> None:
    result = run_without_browser()
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert "no Chromium at" in result.stdout
    assert "apt-get install chromium" in result.stdout


def test_with_require_browser_a_missing_browser_fails() -> None:
    result = run_without_browser(REQUIRE_BROWSER="1")
    assert result.returncode == 1, result.stdout
    assert "REQUIRE_BROWSER=1, but no Chromium at" in result.stdout
