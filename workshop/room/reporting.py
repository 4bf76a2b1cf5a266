"""The learner's side of the live room: what `workshop join` keeps, and what
every `check`, `watch` run and `status` sends to the room.

A report holds the learner's chosen name, the step they are on, pass or fail
per step, the first line of the current failure and the time: nothing else
(no code, no paths outside the course, no environment). It is sent by a
detached, short-lived process (send.py) with a short timeout, so a check never
waits on the room; a room that does not answer is said once, on the next
command, and not again until it has answered.

Standard library only, and urllib only when asked: check imports this module.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workshop.checks import progress
from workshop.checks.results import StepResult
from workshop.checks.summary import first_problem, state
from workshop.project import STATE, all_steps
from workshop.ui import style

JOINED = "join.json"  # in .workshop/: the room joined, this learner's id and key
DOWN = "room-down.json"  # in .workshop/: the last report did not reach the room
SEND = Path(__file__).with_name("send.py")
NAME_MAX = 40
LINE_MAX = 200  # characters of a failure's first line
NAME_MARKS = frozenset(" .-_'")
JOIN_PATH = re.compile(r"^(?P<base>.*?)/join/(?P<code>[A-Za-z0-9_-]{8,64})/?$")
JOIN_TIMEOUT = 5.0  # seconds: `workshop join` waits this long for the room, once
_children: list[subprocess.Popen] = []


@dataclass(frozen=True)
class Joined:
    """A room this checkout reports to: its address, code, and who we are there."""

    base: str  # http://HOST:PORT (the join address without /join/CODE)
    code: str
    id: str
    key: str
    name: str


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a learner's name in the room, or None when it can:
    1 to 40 letters, digits, spaces and . - _ ' (no markup, no control codes)."""
    if not name.strip():
        return "the name is empty"
    if len(name) > NAME_MAX:
        return f"the name is longer than {NAME_MAX} characters"
    odd = [c for c in name if c not in NAME_MARKS and not _letter_or_digit(c)]
    if odd:
        allowed = "letters, digits, spaces and . - _ '"
        return f"the name may hold {allowed} only, not {odd[0]!r}"
    return None


def _letter_or_digit(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def parse_join_url(url: str) -> tuple[str, str]:
    """`http://HOST:PORT/join/CODE` -> (`http://HOST:PORT`, `CODE`)."""
    found = JOIN_PATH.match(url.strip())
    if found is None or not found["base"].startswith(("http://", "https://")):
        raise ValueError(url)
    return found["base"], found["code"]


def _path(root: Path, name: str) -> Path:
    return root / STATE / name


def read(root: Path) -> Joined | None:
    """The room this checkout joined, or None (never joined, left, unreadable)."""
    try:
        data = json.loads(_path(root, JOINED).read_text(encoding="utf-8"))
        return Joined(**data)
    except (OSError, ValueError, TypeError):
        return None


def save(root: Path, joined: Joined) -> None:
    """Keep the join in .workshop/ (git-ignored), readable by this user only."""
    path = _path(root, JOINED)
    path.parent.mkdir(exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(asdict(joined), file)
    os.replace(temporary, path)
    _path(root, DOWN).unlink(missing_ok=True)


def forget(root: Path) -> None:
    for name in (JOINED, DOWN):
        _path(root, name).unlink(missing_ok=True)


# --- what a report holds ---------------------------------------------------------


def where(root: Path, results: list[StepResult]) -> tuple[int, bool]:
    """The step the learner is on after these results, and whether all are done."""
    ran = {r.number: r for r in results if r.ran}
    last = all_steps(root)[-1].number
    recorded = progress.recorded_step(root)
    if recorded is not None:
        mine = ran.get(recorded.number)
        return recorded.number, recorded.number == last and bool(mine and mine.ok)
    red = [n for n, r in sorted(ran.items()) if not r.ok]
    return (red[0], False) if red else (min(ran, default=0), False)


def first_line(root: Path, result: StepResult) -> str | None:
    """The first line of a red step's first problem, with no path outside the
    course: the checkout's own path is cut, the home folder becomes ~."""
    problem = first_problem(result)
    if problem is None:
        return None
    text = (problem["message"] or "").strip() or problem["check"] or ""
    line = text.splitlines()[0] if text else "failed"
    line = line.replace(str(root) + os.sep, "").replace(str(root), ".")
    line = line.replace(str(Path.home()), "~")
    line = "".join(c if c.isprintable() else " " for c in line)
    return line[:LINE_MAX]


def payload(
    root: Path, joined: Joined, results: list[StepResult], command: str
) -> dict[str, Any]:
    """The whole report: the room's code, who, where, pass/fail, first line, when."""
    step, finished = where(root, results)
    ran = sorted((r for r in results if r.ran), key=lambda r: r.number)
    red = [r for r in ran if not r.ok]
    mine = [r for r in red if r.number == step]
    failing = (mine or red or [None])[0]
    return {
        "code": joined.code,
        "id": joined.id,
        "key": joined.key,
        "command": command,
        "at": time.time(),
        "step": step,
        "finished": finished,
        "steps": [{"number": r.number, "state": state(r)} for r in ran],
        "failure": None if failing is None else first_line(root, failing),
    }


# --- sending, without waiting ---------------------------------------------------


def report(root: Path, results: list[StepResult], command: str) -> None:
    """Send what this run found to the joined room, if any; never wait for it.

    A room that did not take the last report is said once, here, and not again
    until a report gets through. Nothing here can fail the learner's command.
    """
    joined = read(root)
    if joined is None or not results:
        return
    try:
        _say_once(root, joined)
        body = payload(root, joined, results, command)
        _spawn({"url": f"{joined.base}/api/report", "body": body,
                "down": str(_path(root, DOWN))})  # fmt: skip
    except (OSError, ValueError):
        pass  # the room is a convenience: the check's own result stands


def _say_once(root: Path, joined: Joined) -> None:
    path = _path(root, DOWN)
    try:
        down = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(down, dict) or down.get("told"):
        return
    reason = str(down.get("reason") or "it does not answer")
    print(
        style(
            f"workshop: the live room at {joined.base} did not take your last "
            f"report ({reason}); your checks go on without it "
            "('workshop join --leave' stops reporting)",
            "dim",
            stream=sys.stderr,
        ),
        file=sys.stderr,
    )
    path.write_text(json.dumps({**down, "told": True}), encoding="utf-8")


def _spawn(job: dict[str, Any]) -> None:
    """Start send.py detached (its own session or process group), hand it the
    job on stdin and return at once; it ends within its timeout."""
    _children[:] = [c for c in _children if c.poll() is None]
    if sys.platform == "win32":
        detached: dict[str, Any] = {"creationflags": subprocess.DETACHED_PROCESS
                    | subprocess.CREATE_NEW_PROCESS_GROUP}  # fmt: skip
    else:
        detached = {"start_new_session": True}
    child = subprocess.Popen(
        [sys.executable, "-I", "-S", str(SEND)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        **detached,
    )
    _children.append(child)
    assert child.stdin is not None
    with child.stdin:  # a few hundred bytes: less than any pipe's buffer
        child.stdin.write(json.dumps(job).encode())


# --- joining and leaving (these do wait: once, with a short timeout) -------------


class RoomError(Exception):
    """The room said no, or did not answer: one line for the learner."""


def post(url: str, body: dict[str, Any], timeout: float = JOIN_TIMEOUT) -> dict:
    """POST JSON and return the JSON answer; any failure is one RoomError line."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return json.loads(answer.read(65536) or b"{}")
    except urllib.error.HTTPError as error:
        raise RoomError(_refusal(error.code, _detail(error))) from None
    except (OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        raise RoomError(f"does not answer ({reason})") from None


def _detail(error: Any) -> str:
    try:
        detail = json.loads(error.read(4096)).get("detail")
    except (OSError, ValueError, AttributeError):
        return ""
    return detail if isinstance(detail, str) else ""


def _refusal(status: int, detail: str) -> str:
    known = {
        403: "refused the code: ask the instructor for the room's join address again",
        404: "does not know you any more (was it restarted?): join again",
        409: "is full",
        429: "asked to slow down: try again in a few seconds",
    }
    said = known.get(status) or f"answered {status}"
    return f"{said} ({detail})" if detail and status != 403 else said
