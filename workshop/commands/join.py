"""`workshop join URL [--name NAME]`: report this checkout's checks to the
instructor's live room; `workshop join --leave` stops it.

The room's code is checked at once: a wrong code, a full room or a room that
does not answer is one line and exit status 2. The name is the one given,
else asked for on a terminal, else git's user.name. The join is kept in
.workshop/join.json (git-ignored); from then on check, watch and status
report (see workshop/room/reporting.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from workshop import git
from workshop.errors import WorkshopError
from workshop.room import reporting
from workshop.ui import ok, style

SENT = (
    "your name, your step, pass or fail per step, the first line of a failure "
    "and the time (never your code)"
)


def join(
    root: Path, url: str | None, *, name: str | None = None, leave: bool = False
) -> int:
    if leave:
        return leave_room(root)
    if not url:
        raise WorkshopError("give the room's join address: workshop join URL")
    try:
        base, code = reporting.parse_join_url(url)
    except ValueError:
        raise WorkshopError(
            f"{url} is not a room's join address (it looks like "
            "http://HOST:PORT/join/CODE, as 'workshop room serve' printed it)"
        ) from None
    chosen = choose_name(root, name)
    before = reporting.read(root)
    key = before.key if before is not None and before.base == base else None
    body = {"code": code, "name": chosen, **({"key": key} if key else {})}
    try:
        answer = reporting.post(f"{base}/api/join", body)
        joined = reporting.Joined(base, code, answer["id"], answer["key"], chosen)
    except reporting.RoomError as error:
        raise WorkshopError(f"the room at {base} {error}") from None
    except (KeyError, TypeError):
        raise WorkshopError(f"{base} answered, but not as a live room") from None
    reporting.save(root, joined)
    print(ok(f"Joined the room at {base} as {chosen}."))
    print(f"From now on workshop check, watch and status send it {SENT}.")
    print(style("Stop with: workshop join --leave", "dim"))
    return 0


def choose_name(root: Path, given: str | None) -> str:
    """The name given; else asked on a terminal (git's user.name by default);
    else git's user.name. One line when it cannot be a name in the room."""
    default = git.run(root, "config", "user.name", check=False).strip()
    name = given
    if name is None and sys.stdin.isatty():
        offer = f" [{default}]" if default else ""
        name = input(f"Your name in the room (the instructor sees it){offer}: ")
        name = name.strip() or default
    if name is None:
        name = default
    if not name:
        raise WorkshopError("no name to join with: workshop join URL --name NAME")
    problem = reporting.name_problem(name)
    if problem is not None:
        raise WorkshopError(f"{problem}: choose another with --name NAME")
    return name.strip()


def leave_room(root: Path) -> int:
    joined = reporting.read(root)
    if joined is None:
        print("This checkout is not in a live room: nothing to stop.")
        return 0
    reporting.forget(root)
    body = {"code": joined.code, "id": joined.id, "key": joined.key}
    try:
        reporting.post(f"{joined.base}/api/leave", body, timeout=2.0)
        told = "the room removed you"
    except reporting.RoomError as error:
        told = f"the room was not told: it {error}"
    print(f"Left the room at {joined.base} ({told}); checks no longer report.")
    return 0
