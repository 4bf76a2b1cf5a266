"""`workshop serve`: the app, restarted on every save of app/, through broken saves.

`fastapi dev` (uvicorn's reloader) exits for good when app/ does not import at
start, and prints a long traceback when a save breaks it later. `workshop serve`
checks the port first, then hands over to a small supervisor
(workshop/devserver/app_supervisor.py) that restarts the app on each save of a
Python file in the served app/ (and nowhere else), reports an app that does
not import in one line, and stops gracefully on Ctrl-C. The app's working
directory is the repository root, so its relative paths (e.g. its data/
folder) start there.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path

from workshop.devserver.app_supervisor import AppSupervisor
from workshop.devserver.served_data import served_folder
from workshop.errors import WorkshopError
from workshop.project import APP

ADDRESS_IN_USE = {errno.EADDRINUSE, 10048}  # 10048: WSAEADDRINUSE on Windows


def serve(
    root: Path,
    *,
    checkpoint: str | None = None,
    port: int = 8000,
    host: str = "127.0.0.1",
) -> int:
    """Serve `root`'s app/ (or checkpoint N's) until stopped; 0 when stopped."""
    folder = served_folder(root, checkpoint)
    app_dir = folder / APP
    if not (app_dir / "main.py").is_file():
        raise WorkshopError(f"no app to serve: {app_dir / 'main.py'} does not exist")
    if not 0 < port < 65536:
        raise WorkshopError(f"invalid port {port}: use 1 to 65535")
    listener = listen(host, port)
    url = f"http://{f'[{host}]' if ':' in host else host}:{port}"
    served = app_dir.relative_to(root).as_posix()
    print(
        f"Serving {served}/ at {url} (docs at {url}/docs); it restarts when you "
        f"save a file in {served}/. Ctrl-C stops it.",
        file=sys.stderr,
        flush=True,
    )
    option = f" --checkpoint {checkpoint}" if checkpoint is not None else ""
    no_worker = (
        f"No worker runs: jobs sent to {served}/worker.py stay pending until "
        f"one does. Start it in another terminal: make worker "
        f"(workshop worker{option})."
    )
    return AppSupervisor(
        folder=folder, root=root, listener=listener, no_worker=no_worker
    ).run()


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
