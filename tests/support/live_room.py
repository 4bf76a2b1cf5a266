"""A live room (workshop/room/live.py) under a real uvicorn server, for tests.

`LiveRoomHarness(max_learners=..., stuck_after=...)` serves the room's app on
a free port with a clock the test moves (`clock.advance(seconds)`), so time on
a step, the stuck highlight and the median time to green are deterministic.
`join(name)` and `report(learner, ...)` go through HTTP, as learners' do;
`view()` reads the dashboard's JSON with the instructor's token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from support.live import LiveServer

CODE = "room-code-for-tests"
TOKEN = "instructor-token-for-tests"
STEPS = {n: f"Step {n}" for n in range(10)}


class Clock:
    """The room's clock: starts at a fixed moment, moves only when told."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Learner:
    id: str
    key: str
    name: str


class LiveRoomHarness:
    def __init__(self, *, max_learners: int = 60, stuck_after: float = 600.0) -> None:
        from workshop.room.live import LiveRoom, create_app

        self.clock = Clock()
        self.room = LiveRoom(
            STEPS, max_learners=max_learners, stuck_after=stuck_after, clock=self.clock
        )
        self.server = LiveServer(create_app(self.room, code=CODE, token=TOKEN))
        self.url = self.server.url
        self.join_url = f"{self.url}/join/{CODE}"
        self.dashboard = f"{self.url}/dashboard?token={TOKEN}"
        self._at = time.time()

    def __enter__(self) -> LiveRoomHarness:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.close()

    def post(self, path: str, **kwargs: Any):
        return self.server.post(path, **kwargs)

    def join(self, name: str) -> Learner:
        answer = self.post("/api/join", json={"code": CODE, "name": name})
        assert answer.status_code == 200, answer.text
        data = answer.json()
        return Learner(data["id"], data["key"], data["name"])

    def report_body(
        self,
        learner: Learner,
        step: int,
        failure: str | None = None,
        green: tuple[int, ...] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        """A report like reporting.payload's: steps in `green` pass, `step`
        fails when there is a failure line."""
        self._at += 1  # each report newer than the last
        steps = [{"number": n, "state": "green"} for n in green]
        if failure is not None:
            steps.append({"number": step, "state": "red"})
        return {
            "code": CODE, "id": learner.id, "key": learner.key, "command": "check",
            "at": self._at, "step": step, "finished": False, "steps": steps,
            "failure": failure, **extra,
        }  # fmt: skip

    def report(self, learner: Learner, step: int, **fields: Any):
        return self.post("/api/report", json=self.report_body(learner, step, **fields))

    def view(self) -> dict[str, Any]:
        answer = self.server.get(
            "/api/room", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    def row(self, name: str) -> dict[str, Any]:
        return next(r for r in self.view()["learners"] if r["name"] == name)
