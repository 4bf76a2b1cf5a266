"""`workshop serve`: run the app with reload, like `fastapi dev app/main.py`.

It runs the `fastapi` command of this interpreter's environment, in place of
this process (Ctrl-C goes straight to it), and reloads only on changes in the
served `app/` folder, not in the guides, tests or other checkpoints.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path

from workshop.errors import WorkshopError
from workshop.project import APP, get_step

ADDRESS_IN_USE = {errno.EADDRINUSE, 10048}  # 10048: WSAEADDRINUSE on Windows


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
    listen(host, port).close()
    command = build_command(app_dir, host, port)
    sys.stdout.flush()
    os.chdir(root)  # the app's relative paths (e.g. its data/ folder) start here
    os.execv(command[0], command)
    return 0  # not reached: execv replaces this process


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on host:port, or one line saying why there is none.

    Binding before anything starts turns a busy port into a hint instead of
    uvicorn's "[Errno 98]" after "Server started".
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if os.name == "posix":  # as uvicorn does: a port in TIME_WAIT is free
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # uvicorn's default backlog
    except OSError as error:
        sock.close()
        if error.errno in ADDRESS_IN_USE:
            other = free_port_after(host, port)
            raise WorkshopError(
                f"port {port} is in use (another workshop serve?): stop it, or run "
                f"make run PORT={other} / workshop serve --port {other}"
            ) from None
        reason = error.strerror or str(error)
        raise WorkshopError(f"cannot serve on {host}:{port}: {reason}") from None
    return sock


def free_port_after(host: str, port: int) -> int:
    """The first port after `port` that is free now (or simply the next one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in range(port + 1, min(port + 20, 65535) + 1):
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, candidate))
            except OSError:
                continue
            return candidate
    return port + 1
