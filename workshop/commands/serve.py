"""`workshop serve`: run the app with reload, like `fastapi dev app/main.py`.

It runs the `fastapi` command of this interpreter's environment, in place of
this process (Ctrl-C goes straight to it), and reloads only on changes in the
served `app/` folder, not in the guides, tests or other checkpoints.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from workshop.errors import WorkshopError
from workshop.project import APP, get_step


def fastapi_command() -> Path:
    """The `fastapi` command installed beside this Python."""
    folder = Path(sys.executable).parent
    for name in ("fastapi", "fastapi.exe"):
        if (folder / name).is_file():
            return folder / name
    raise WorkshopError(
        f"the fastapi command is not installed in {folder}: run 'make venv'"
    )


def build_command(app_dir: Path, host: str, port: int) -> list[str]:
    return [
        str(fastapi_command()),
        "dev",
        str(app_dir / "main.py"),
        "--host",
        host,
        "--port",
        str(port),
        "--reload-dir",
        str(app_dir),
    ]


def serve(
    root: Path,
    *,
    checkpoint: str | None = None,
    port: int = 8000,
    host: str = "127.0.0.1",
) -> int:
    app_dir = get_step(root, checkpoint).app if checkpoint is not None else root / APP
    if not (app_dir / "main.py").is_file():
        raise WorkshopError(f"no app to serve: {app_dir / 'main.py'} does not exist")
    if not 0 < port < 65536:
        raise WorkshopError(f"invalid port {port}: use 1 to 65535")
    command = build_command(app_dir, host, port)
    sys.stdout.flush()
    os.chdir(root)  # the app's relative paths (e.g. its data/ folder) start here
    os.execv(command[0], command)
    return 0  # not reached: execv replaces this process
