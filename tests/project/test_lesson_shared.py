"""app/hardening.py is shared: the same bytes in app/ and in every checkpoint.

It holds what every step needs and none teaches, so that a step's diff and its
main.py show only the lesson. A copy that drifts would make one step's diff
show hardening changes, or one checkpoint behave unlike the others.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = "hardening.py"


def checkpoint_apps() -> list[Path]:
    """checkpoints/step-N/app for every N, found by folder (later steps too)."""
    apps = sorted(
        (path for path in ROOT.glob("checkpoints/step-*/app") if path.is_dir()),
        key=lambda path: int(path.parent.name.removeprefix("step-")),
    )
    assert apps, "no checkpoints found"
    return apps


def test_every_app_carries_the_same_hardening_module() -> None:
    """app/hardening.py and each checkpoint's copy are identical, byte for byte."""
    reference = (ROOT / "app" / SHARED).read_bytes()
    differ = [
        str(app.relative_to(ROOT) / SHARED)
        for app in checkpoint_apps()
        if not (app / SHARED).is_file() or (app / SHARED).read_bytes() != reference
    ]
    assert differ == [], f"missing or not equal to app/{SHARED}: {differ}"


def test_every_main_installs_it() -> None:
    """Each checkpoint's main.py calls harden(app), so the module is in use."""
    missing = [
        str(app.relative_to(ROOT) / "main.py")
        for app in checkpoint_apps()
        if "\nharden(app)" not in (app / "main.py").read_text()
    ]
    assert missing == []
