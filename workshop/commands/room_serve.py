"""`workshop room serve`: the live room, on this machine, for one session.

It prints two addresses and writes them to .workshop/room.json: the
dashboard's, with a secret token that only the instructor has, and the join
address with the room's code, for learners (`workshop join URL`). It serves
until Ctrl-C; what learners sent lives in memory only and is gone then
(export the CSV first to keep the timings). Learners' code never comes here:
the room receives their reports, data only.

The address printed: the Codespace's forwarded one when it runs in a
Codespace, this machine's address on the network for --host 0.0.0.0, or
--url when given (a proxy, a tunnel). FastAPI and uvicorn are imported here,
when it runs, never by the rest of the command.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
from pathlib import Path

from workshop.errors import WorkshopError
from workshop.project import STATE, all_steps
from workshop.ui import ok, style

ROOM_FILE = "room.json"
EVERYWHERE = {"0.0.0.0", "::", ""}


def room_serve(
    root: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    url: str | None = None,
    max_learners: int = 60,
    stuck: float = 10.0,
) -> int:
    if max_learners < 1 or stuck <= 0:
        raise WorkshopError("--max must be 1 or more and --stuck more than 0 minutes")
    steps = {s.number: s.title for s in all_steps(root)}
    listening = bind(host, port)
    base = (url or public_base(host, listening.getsockname()[1])).rstrip("/")
    code, token = secrets.token_urlsafe(9), secrets.token_urlsafe(24)
    addresses = {"dashboard": f"{base}/dashboard?token={token}",
                 "join": f"{base}/join/{code}"}  # fmt: skip
    path = root / STATE / ROOM_FILE
    write_private(path, json.dumps(addresses, indent=2) + "\n")
    try:
        announce(addresses, host)
        serve(steps, listening, code, token, max_learners, stuck * 60)
    except KeyboardInterrupt:
        pass  # Ctrl-C (or SIGTERM) is how a room closes: not an error
    finally:
        path.unlink(missing_ok=True)
        listening.close()
    print("The room is closed: what learners sent is gone (nothing was stored).")
    return 0


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, so a port that is taken is one line, before any
    address is printed."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    if os.name != "nt":  # on Windows this flag would let two rooms share a port
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as error:
        listening.close()
        raise WorkshopError(
            f"cannot listen on {host}:{port} ({error.strerror}): "
            f"try another port, workshop room serve --port {port + 1}"
        ) from None
    listening.listen(128)
    return listening


def public_base(host: str, port: int) -> str:
    """The address learners use: the Codespace's, the LAN's, or the host's."""
    codespace = os.environ.get("CODESPACE_NAME")
    domain = os.environ.get("GITHUB_CODESPACES_PORT_FORWARDING_DOMAIN")
    if codespace and domain:
        return f"https://{codespace}-{port}.{domain}"
    if host in EVERYWHERE:
        host = lan_address()
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def lan_address() -> str:
    """This machine's address on its network: the one a route out would use
    (a UDP socket's connect sends nothing)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with contextlib.suppress(OSError), probe:
        probe.connect(("10.255.255.255", 1))
        return probe.getsockname()[0]
    return "127.0.0.1"


def write_private(path: Path, text: str) -> None:
    """Write a file only this user can read (it holds the dashboard's token)."""
    path.parent.mkdir(exist_ok=True)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)


def announce(addresses: dict[str, str], host: str) -> None:
    print(ok("The live room is open."))
    print(f"  Dashboard (yours only, keep it secret): {addresses['dashboard']}")
    print(f"  Learners run:  workshop join {addresses['join']}")
    print(style(f"  (both are in {STATE}/{ROOM_FILE}; Ctrl-C closes the room)", "dim"))
    if os.environ.get("CODESPACE_NAME"):
        print(style("  In a Codespace: make the port public (Ports panel, "
                    "right-click, Port Visibility: Public)", "dim"))  # fmt: skip
    elif host not in EVERYWHERE and host.startswith("127."):
        print(style("  Only this machine can reach it: --host 0.0.0.0 for "
                    "the room's network", "dim"))  # fmt: skip


def serve(
    steps: dict[int, str],
    listening: socket.socket,
    code: str,
    token: str,
    max_learners: int,
    stuck_after: float,
) -> None:
    import uvicorn

    from workshop.room.live import LiveRoom, create_app

    room = LiveRoom(steps, max_learners=max_learners, stuck_after=stuck_after)
    app = create_app(room, code=code, token=token)
    # no access log: the dashboard's token is in its address, names in bodies
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    # uvicorn stops gracefully, then raises the signal again with the handler
    # it found: make SIGTERM's an exception too, so room.json is removed
    with contextlib.suppress(ValueError):  # not the main thread: no handlers
        signal.signal(signal.SIGTERM, _interrupt)
    uvicorn.Server(config).run(sockets=[listening])


def _interrupt(number: int, frame: object) -> None:
    raise KeyboardInterrupt
