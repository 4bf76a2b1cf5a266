"""The live room: `workshop room serve`, `workshop join`, and what they exchange.

The room runs under a real uvicorn server with a clock the test moves
(tests/support/live_room.py), and learners reach it through HTTP, as their
commands do. The end-to-end test runs the real commands: `workshop room
serve` in a process, three clones of this repository that join it and run
`workshop check`, and the dashboard's JSON read until it shows each of them
(a deadline of 2 s, no fixed wait).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from support.live import wait_until
from support.live_room import CODE, TOKEN, LiveRoomHarness

from workshop.checks.results import Failure, StepResult
from workshop.room import reporting
from workshop.room.live import BODY_LIMIT, BURST

ROOT = Path(__file__).resolve().parents[2]
JSON = "application/json"
LINES = [
    "the welcome email was sent before the response: use add_task",
    "TypeError: add_task() needs the function, not its result",
    "the admin notice went out before the welcome email",
]


@pytest.fixture
def room():
    with LiveRoomHarness() as harness:
        yield harness


# --- many learners, through HTTP ---------------------------------------------------


def test_thirty_learners_report_and_the_dashboard_sums_them_up(room) -> None:
    """30 learners join and report at once; each has a row with their step
    and first line, the common lines are counted, and per step the greens and
    the median time to green come out of the reports."""
    names = [f"Learner {n:02}" for n in range(30)]
    with ThreadPoolExecutor(8) as pool:
        learners = list(pool.map(room.join, names))
    for learner in learners:  # everyone starts step 1, red
        assert room.report(learner, 1, failure=LINES[0], green=(0,)).status_code == 200
    for n, learner in enumerate(learners[:10]):  # ten finish it, n*10 s later
        room.clock.advance(10)
        answer = room.report(learner, 2, failure=LINES[1 + n % 2], green=(0, 1))
        assert answer.status_code == 200, answer.text

    seen = room.view()
    rows = {r["name"]: r for r in seen["learners"]}
    assert sorted(rows) == names
    assert rows["Learner 00"]["step"] == 2 and rows["Learner 29"]["step"] == 1
    assert rows["Learner 29"]["failure"] == LINES[0]
    assert seen["common"] == [
        {"line": LINES[0], "count": 20},
        {"line": LINES[1], "count": 5},
        {"line": LINES[2], "count": 5},
    ]
    steps = {s["number"]: s for s in seen["steps"]}
    assert (steps[0]["green"], steps[1]["green"], steps[2]["green"]) == (30, 10, 0)
    assert (steps[1]["here"], steps[2]["here"]) == (20, 10)
    # learner k turned green 10*(k+1) s after starting: the median of 10..100
    assert steps[1]["median_to_green_s"] == 55.0
    assert steps[0]["median_to_green_s"] is None  # nobody was seen starting it
    assert rows["Learner 29"]["on_step_s"] == 100.0


def test_time_on_step_and_the_stuck_highlight(room) -> None:
    """Red for longer than the room's limit (10 minutes here) is stuck; a
    step changed resets the time; green is never stuck."""
    ada, bob = room.join("Ada"), room.join("Bob")
    room.report(ada, 3, failure=LINES[2], green=(0, 1, 2))
    room.report(bob, 3, green=(0, 1, 2))
    room.clock.advance(601)
    assert room.row("Ada")["stuck"] and room.row("Ada")["red_s"] == 601.0
    assert not room.row("Bob")["stuck"]
    room.report(ada, 4, failure=LINES[0], green=(0, 1, 2, 3))
    assert not room.row("Ada")["stuck"] and room.row("Ada")["on_step_s"] == 0.0


def test_an_older_report_arriving_late_changes_nothing(room) -> None:
    ada = room.join("Ada")
    older = room.report_body(ada, 1, failure=LINES[0])
    room.report(ada, 2, failure=LINES[1], green=(0, 1))
    answer = room.post("/api/report", json=older)
    assert answer.json() == {"applied": False}
    assert room.row("Ada")["step"] == 2


def test_leaving_removes_the_row_and_rejoining_keeps_one(room) -> None:
    ada = room.join("Ada")
    again = room.post("/api/join", json={"code": CODE, "name": "Ada B", "key": ada.key})
    assert again.json()["id"] == ada.id
    assert [r["name"] for r in room.view()["learners"]] == ["Ada B"]
    body = {"code": CODE, "id": ada.id, "key": ada.key}
    assert room.post("/api/leave", json=body).status_code == 200
    assert room.view()["learners"] == []


def test_the_csv_export_has_the_timings_and_no_formula(room) -> None:
    """One row per learner and step begun; a name a spreadsheet would read as
    a formula is quoted."""
    ada = room.join("-Ada")
    room.report(ada, 1, failure=LINES[0], green=(0,))
    room.clock.advance(42)
    room.report(ada, 2, failure=LINES[1], green=(0, 1))
    answer = room.server.get("/api/timings.csv", params={"token": TOKEN})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.text.splitlines() == [
        "learner,step,started_utc,green_utc,seconds",
        "'-Ada,1,2027-01-15T08:00:00Z,2027-01-15T08:00:42Z,42.0",
        "'-Ada,2,2027-01-15T08:00:42Z,,",
    ]


# --- what nobody may do -----------------------------------------------------------


def test_viewing_needs_the_token(room) -> None:
    room.join("Ada")
    get = room.server.get
    for path in ("/api/room", "/api/timings.csv", "/dashboard"):
        assert get(path).status_code == 403
        assert get(path, params={"token": TOKEN + "x"}).status_code == 403
        assert get(path, headers={"Authorization": "Bearer nope"}).status_code == 403
        assert get(path, params={"token": TOKEN}).status_code == 200
    page = get("/dashboard", params={"token": TOKEN})
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Ada" not in page.text  # the page holds no data; its JSON needs the token


def _padded(body: dict) -> bytes:
    """A valid report made longer than the limit with whitespace alone: only
    the size limit can refuse it."""
    return json.dumps(body).encode() + b" " * BODY_LIMIT


def _chunks(data: bytes):
    yield from (data[i : i + 1000] for i in range(0, len(data), 1000))


def bad_requests(room, ada) -> dict[str, tuple[str, dict]]:
    good = room.report_body(ada, 2, failure="fine")
    json_type = {"Content-Type": JSON}
    torn = {"content": b'{"code": "room-code-f', "headers": json_type}
    report = {
        "oversize": {"content": _padded(good), "headers": json_type},
        "oversize, streamed": {"content": _chunks(_padded(good)), "headers": json_type},
        "wrong code": {"json": {**good, "code": "wrong-code-1"}},
        "wrong key": {"json": {**good, "key": "not-her-key"}},
        "malformed JSON": torn,
        "unknown field": {"json": {**good, "env": {"HOME": "/x"}}},
        "a step out of range": {"json": {**good, "step": 1000}},
        "a step the course lacks": {"json": {**good, "step": 42}},
        "two lines of failure": {"json": {**good, "failure": "a\nb"}},
        "a long failure": {"json": {**good, "failure": "x" * 201}},
        "a string for a number": {"json": {**good, "step": "2"}},
    }
    join = {
        "script in a name": {"code": CODE, "name": "<script>alert(1)</script>"},
        "markup in a name": {"code": CODE, "name": "<b>Bob"},
        "a long name": {"code": CODE, "name": "B" * 41},
        "join, wrong code": {"code": "wrong-code-1", "name": "Eve"},
    }
    leave = {"code": CODE, "id": ada.id, "key": "not-her-key"}
    return {
        **{what: ("/api/report", request) for what, request in report.items()},
        **{what: ("/api/join", {"json": body}) for what, body in join.items()},
        "leave, wrong key": ("/api/leave", {"json": leave}),
    }


def test_bad_input_gets_4xx_and_changes_nothing(room) -> None:
    ada = room.join("Ada")
    room.report(ada, 1, failure=LINES[0], green=(0,))
    before = room.view()
    for what, (path, request) in bad_requests(room, ada).items():
        answer = room.post(path, **request)
        assert 400 <= answer.status_code < 500, f"{what}: {answer.status_code}"
        assert answer.status_code == 413 or not what.startswith("oversize"), what
        assert room.view() == before, f"{what} changed the room"
    assert room.post("/api/report", json=room.report_body(ada, 2)).status_code == 200


def test_reports_past_the_rate_limit_are_refused(room) -> None:
    ada = room.join("Ada")
    for _ in range(BURST):
        assert room.report(ada, 1, failure=LINES[0]).status_code == 200
    assert room.report(ada, 2, failure=LINES[1]).status_code == 429
    assert room.row("Ada")["step"] == 1
    room.clock.advance(1)
    assert room.report(ada, 2, failure=LINES[1]).status_code == 200


def test_a_full_room_refuses_one_more() -> None:
    with LiveRoomHarness(max_learners=2) as room:
        room.join("Ada"), room.join("Bob")
        answer = room.post("/api/join", json={"code": CODE, "name": "Cy"})
        assert answer.status_code == 409
        assert len(room.view()["learners"]) == 2


# --- what a report holds ----------------------------------------------------------


def test_a_report_holds_the_step_states_and_one_line_nothing_else(
    workshop_repo: Path,
) -> None:
    """Name-free, code-free: the room's code and this learner's id, the step,
    pass/fail per step, one line of the failure with no path outside the
    course, and the time."""
    joined = reporting.Joined("http://127.0.0.1:9", "c" * 12, "i" * 12, "k" * 12, "A")
    message = (
        f"{workshop_repo}{os.sep}app/main.py:3: NameError: in {Path.home()}/x\n"
        "second line\nthird"
    )
    results = [
        StepResult(0, ran=True, passed=1),
        StepResult(1, ran=True, failures=[Failure("t", "It works.", message)]),
        StepResult(2),
    ]
    body = reporting.payload(workshop_repo, joined, results, "check")
    assert set(body) == {"code", "id", "key", "command", "at", "step", "finished",
                         "steps", "failure"}  # fmt: skip
    assert body["step"] == 1 and body["finished"] is False
    assert body["steps"] == [{"number": 0, "state": "green"},
                             {"number": 1, "state": "red"}]  # fmt: skip
    assert body["failure"] == "app/main.py:3: NameError: in ~/x"


# --- the commands, against a room -------------------------------------------------


def test_join_then_check_reports_and_leave_stops(
    room, workshop_repo: Path, run_workshop
) -> None:
    """Without --name and without a terminal the name is git's user.name."""
    code, out, err = run_workshop("join", room.join_url, cwd=workshop_repo)
    assert code == 0, err
    assert "Joined the room" in out
    assert (workshop_repo / ".workshop" / "join.json").exists()
    assert run_workshop("check", "0", cwd=workshop_repo).code == 0
    row = wait_until(lambda: _row(room, "Test Author", 1), "the check is in the room")
    assert row["state"] == "working" and row["command"] == "check"  # 0 passed
    code, out, _ = run_workshop("join", "--leave", cwd=workshop_repo)
    assert code == 0 and "the room removed you" in out
    assert room.view()["learners"] == []
    assert not (workshop_repo / ".workshop" / "join.json").exists()


def _row(room, name: str, step: int):
    rows = [r for r in room.view()["learners"] if r["name"] == name]
    return rows[0] if rows and rows[0]["step"] == step else None


def test_status_reports_too(room, workshop_repo: Path, run_workshop) -> None:
    assert (
        run_workshop("join", room.join_url, "--name", "Ada", cwd=workshop_repo).code
        == 0
    )
    (workshop_repo / "app" / "main.py").write_text("STEP = (\n", encoding="utf-8")
    assert run_workshop("status", cwd=workshop_repo).code == 0
    row = wait_until(lambda: _row(room, "Ada", 0), "the status is in the room")
    assert row["state"] == "red" and row["command"] == "status"
    assert row["failure"].startswith("app/main.py:1")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("address", "said"),
    [
        ("http://127.0.0.1:{port}/join/" + "w" * 12, "refused the code"),
        ("http://127.0.0.1:{closed}/join/" + CODE, "does not answer"),
        ("ftp://127.0.0.1/join/" + CODE, "is not a room's join address"),
        ("http://127.0.0.1:{port}/room/" + CODE, "is not a room's join address"),
    ],
)
def test_join_refused_is_one_line(
    room, workshop_repo: Path, run_workshop, address: str, said: str
) -> None:
    port = room.url.rsplit(":", 1)[1]
    url = address.format(port=port, closed=closed_port())
    code, out, err = run_workshop("join", url, "--name", "Ada", cwd=workshop_repo)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and said in err
    assert not (workshop_repo / ".workshop" / "join.json").exists()


def test_a_full_room_or_a_bad_name_is_one_line(
    workshop_repo: Path, run_workshop
) -> None:
    with LiveRoomHarness(max_learners=1) as room:
        room.join("Ada")
        code, _, err = run_workshop("join", room.join_url, "--name", "Bob",
                                    cwd=workshop_repo)  # fmt: skip
        assert code == 2 and "is full" in err and len(err.splitlines()) == 1
        code, _, err = run_workshop("join", room.join_url, "--name", "<b>",
                                    cwd=workshop_repo)  # fmt: skip
        assert code == 2 and "letters, digits" in err


def test_a_room_that_does_not_answer_is_said_once(
    room, workshop_repo: Path, run_workshop
) -> None:
    """The check after a lost report says so, in one line on stderr; the
    next says nothing more; the check's own result is untouched."""
    assert (
        run_workshop("join", room.join_url, "--name", "Ada", cwd=workshop_repo).code
        == 0
    )
    room.server.close()  # the room goes away
    down = workshop_repo / ".workshop" / reporting.DOWN
    first = run_workshop("check", "0", cwd=workshop_repo)
    assert first.code == 0 and "live room" not in first.stderr
    wait_until(down.exists, "the lost report is noted", timeout=10)
    second = run_workshop("check", "0", cwd=workshop_repo)
    assert second.code == 0
    assert second.stderr.count("did not take your last report") == 1
    third = run_workshop("check", "0", cwd=workshop_repo)
    assert "live room" not in third.stderr


# --- end to end: the real commands ------------------------------------------------


def clone(source: Path, dest: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", "--shared", str(source), str(dest)],
                   check=True, capture_output=True)  # fmt: skip
    return dest


@pytest.fixture
def served_room(tmp_path: Path):
    """`workshop room serve --port 0` in a clone of this repository."""
    instructor = clone(ROOT, tmp_path / "instructor")
    process = subprocess.Popen(
        # -P: this checkout's workshop package, not the clone's (its HEAD)
        [sys.executable, "-P", "-m", "workshop", "room", "serve", "--port", "0"],
        cwd=instructor, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    addresses = instructor / ".workshop" / "room.json"
    try:
        wait_until(lambda: addresses.exists() or process.poll() is not None,
                   "the room is open", timeout=30)  # fmt: skip
        assert process.poll() is None, process.communicate()
        data = json.loads(addresses.read_text(encoding="utf-8"))
        wait_until(lambda: _answers(data["dashboard"]), "the room answers", timeout=30)
        yield data
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert not addresses.exists(), "room.json outlived the room"


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_three_clones_join_and_check_and_the_dashboard_shows_them(
    served_room, tmp_path: Path, run_workshop
) -> None:
    """Each clone's app/ is a checkpoint (0, 1, 2): its check stops at the
    next step, and within 2 s the dashboard shows that step and the failure's
    first line, as the check printed it."""
    room_json = served_room["dashboard"].replace("/dashboard?", "/api/room?")
    for k in range(3):
        learner = clone(ROOT, tmp_path / f"learner-{k}")
        shutil.rmtree(learner / "app")
        shutil.copytree(learner / "checkpoints" / f"step-{k}" / "app", learner / "app")
        joined = run_workshop("join", served_room["join"], "--name", f"Learner {k}",
                              cwd=learner)  # fmt: skip
        assert joined.code == 0, joined.stderr
        checked = run_workshop("check", cwd=learner, timeout=180)
        assert checked.code == 1, checked.stdout
        row = wait_until(
            lambda k=k: _shown(room_json, f"Learner {k}", k + 1),
            f"the dashboard shows learner {k} on step {k + 1}",
            timeout=2.0,
        )
        assert row["state"] == "red" and row["failure"], row
        assert f": {row['failure']}" in checked.stdout  # the line the check printed
    page = httpx.get(served_room["dashboard"], timeout=5)
    assert page.status_code == 200 and "dashboard.js" in page.text


def _shown(url: str, name: str, step: int):
    rows = httpx.get(url, timeout=2).json()["learners"]
    mine = [r for r in rows if r["name"] == name]
    return mine[0] if mine and mine[0]["step"] == step else None


def test_room_serve_on_a_taken_port_is_one_line(
    workshop_repo: Path, run_workshop
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        code, out, err = run_workshop(
            "room", "serve", "--port", port, cwd=workshop_repo
        )
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert f"--port {int(port) + 1}" in err
    assert not (workshop_repo / ".workshop" / "room.json").exists()


def test_watch_reports_each_run(
    room, workshop_repo: Path, run_workshop, start_workshop
) -> None:
    """Each check of a watch run reaches the room, named as watch's."""
    assert (
        run_workshop("join", room.join_url, "--name", "Ada", cwd=workshop_repo).code
        == 0
    )
    watching = start_workshop("watch", "0", cwd=workshop_repo)
    row = wait_until(lambda: _row(room, "Ada", 1), "the watch run is in the room",
                     timeout=60)  # fmt: skip
    assert row["command"] == "watch"
    watching.process.terminate()


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is POSIX")
def test_join_asks_for_a_name_on_a_terminal(room, workshop_repo: Path) -> None:
    """On a terminal, without --name, join asks; the answer is the name."""
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "workshop", "join", room.join_url],
        cwd=workshop_repo, stdin=follower, stdout=follower, stderr=follower,
    )  # fmt: skip
    os.close(follower)
    seen = b""
    while b"Your name in the room" not in seen:
        seen += os.read(leader, 1024)
    os.write(leader, b"Grace Hopper\n")
    assert process.wait(timeout=60) == 0
    os.close(leader)
    assert [r["name"] for r in room.view()["learners"]] == ["Grace Hopper"]
