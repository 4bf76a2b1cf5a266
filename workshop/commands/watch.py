"""`workshop watch`: run the check again every time a file under app/ changes.

Each run is a fresh `workshop check` process, so it always imports the app as
it is on disk now. Stops with Ctrl-C.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

from workshop.errors import WorkshopError
from workshop.project import APP, get_step
from workshop.ui import style

# Besides Python files, the text files an app may read (templates, data, config).
EXTRA_EXTENSIONS = (".html", ".jinja", ".jinja2", ".json", ".toml", ".txt", ".sql")
CLEAR = "\033[2J\033[H"


def watch(root: Path, *, upto: str | None = None) -> int:
    from watchfiles import PythonFilter
    from watchfiles import watch as watch_files

    app_dir = root / APP
    if not app_dir.is_dir():
        raise WorkshopError(f"no {APP}/ folder to watch in {root}")
    if upto is not None:
        get_step(root, upto)  # an unknown step is an error now, not on every run
    command = [sys.executable, "-m", "workshop", "check"]
    command += [upto] if upto is not None else []
    watch_filter = PythonFilter(extra_extensions=EXTRA_EXTENSIONS)
    try:
        check_once(command, root, reason=None)
        for changes in watch_files(app_dir, watch_filter=watch_filter, debounce=300):
            changed = sorted(
                {Path(path).relative_to(root).as_posix() for _, path in changes}
            )
            check_once(command, root, reason=", ".join(changed))
    except KeyboardInterrupt:
        print("\nStopped watching.")
    return 0


def check_once(command: list[str], root: Path, reason: str | None) -> None:
    """Clear the screen (on a terminal), say why, and run one check."""
    if sys.stdout.isatty():
        print(CLEAR, end="")
    now = datetime.now().strftime("%H:%M:%S")
    why = f"changed: {reason}" if reason else "watching app/"
    print(style(f"[{now}] {why} (Ctrl-C to stop)", "dim"), flush=True)
    subprocess.run(command, cwd=root, check=False)
    print(style("Waiting for changes in app/ ...", "dim"), flush=True)
