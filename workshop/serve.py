"""`workshop serve`: run the app with reload, like `fastapi dev app/main.py`.

It runs the `fastapi` command of this interpreter's environment, in place of
this process (Ctrl-C goes straight to it), and reloads only on changes in the
served `app/` folder, not in the guides, tests or other checkpoints.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from workshop.project import APP, find_root, get_step
from workshop.ui import WorkshopError


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--checkpoint", metavar="N", help="serve checkpoints/step-N/app instead of app/"
    )
    parser.add_argument(
        "--port", type=int, default=8000, help="the port to serve on (default: 8000)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="the address to serve on (default: 127.0.0.1; 0.0.0.0 for everyone)",
    )


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


def run(args: argparse.Namespace) -> int:
    root = find_root()
    if args.checkpoint is not None:
        app_dir = get_step(root, args.checkpoint).app
    else:
        app_dir = root / APP
    if not (app_dir / "main.py").is_file():
        raise WorkshopError(f"no app to serve: {app_dir / 'main.py'} does not exist")
    if not 0 < args.port < 65536:
        raise WorkshopError(f"invalid port {args.port}: use 1 to 65535")
    command = build_command(app_dir, args.host, args.port)
    sys.stdout.flush()
    os.chdir(root)  # the app's relative paths (e.g. its data/ folder) start here
    os.execv(command[0], command)
    return 0  # not reached: execv replaces this process
