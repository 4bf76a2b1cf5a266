"""ruff on app/, with the rules that catch this course's traps, before the tests.

flake8-async's blocking calls in `async def` (ASYNC2xx: time.sleep, blocking
HTTP, subprocesses, open) pass every test that does not time them, and
FastAPI's rules (FAST) and undefined names (F821) point at the line before a
test has to guess. Each finding is one line, `app/tasks.py:12: ASYNC251 ...`,
with the fix this course teaches. No ruff installed: no findings (the tests
still run).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

RULES = "ASYNC,FAST,F821"
FIXES = {
    "ASYNC251": "await asyncio.sleep(...) in an async def, or make it a plain def",
    "ASYNC210": "use an async client (await httpx.AsyncClient().get(...)), "
    "or make it a plain def (it runs in the threadpool)",
    "ASYNC220": "await asyncio.create_subprocess_exec(...), or make it a plain def",
    "ASYNC221": "await asyncio.create_subprocess_exec(...), or make it a plain def",
    "ASYNC222": "await asyncio.create_subprocess_exec(...), or make it a plain def",
    "ASYNC230": "open files in a plain def (it runs in the threadpool), "
    "or with await asyncio.to_thread(...)",
    "F821": "import or define it (check its spelling and the imports at the top)",
}
LIMIT = 20.0  # seconds: ruff takes a fraction of one on app/


def ruff_binary() -> str | None:
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:
        return None
    try:
        return str(find_ruff_bin())
    except FileNotFoundError:
        return None


def lint(app_dir: Path) -> list[tuple[str, str]]:
    """[(`app/tasks.py:12`, `ASYNC251 ... — fix: ...`)], in file order."""
    ruff = ruff_binary()
    folder = app_dir / "app"
    if ruff is None or not folder.is_dir():
        return []
    command = [
        ruff, "check", "--no-cache", "--isolated", "--exit-zero",
        "--select", RULES, "--output-format", "json", str(folder),
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=LIMIT)
        found = json.loads(done.stdout or "[]")
    except (OSError, subprocess.TimeoutExpired, ValueError):
        return []
    return [_line(item, app_dir) for item in found]


def _line(item: dict, app_dir: Path) -> tuple[str, str]:
    path = Path(item["filename"]).resolve()
    try:
        name = path.relative_to(app_dir.resolve()).as_posix()
    except ValueError:
        name = path.name
    code = item.get("code") or ""
    fix = FIXES.get(code)
    if code == "F821" and (named := re.search(r"`(\w+)`", item["message"])):
        fix = f"import or define {named[1]} (check its spelling and the imports)"
    message = f"{code} {item['message']}" + (f" — fix: {fix}" if fix else "")
    return f"{name}:{item['location']['row']}", message
