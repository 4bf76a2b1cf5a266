"""The supervisor core `workshop serve` and `workshop worker` share
(workshop/devserver/supervisor.py), driven one event at a time with a child
that ignores SIGTERM: past its grace it is killed, says so, and a restart
starts the next one while a stop ends. serve's own grace is proven end to end
by test_serve.py; the worker's (10 s) only here, with a short one."""

from __future__ import annotations

import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from workshop.devserver.supervisor import (
    Changed,
    Exited,
    Overdue,
    Stop,
    Supervisor,
    kill,
    spawn,
)

STUBBORN = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("up", flush=True)
time.sleep(60)
"""
WAIT = 10.0  # seconds for an event that comes at once


@dataclass(kw_only=True)
class Stubborn(Supervisor):
    noun = "stubborn child"
    stopping_line = "stopping"
    forced_line = "forced"
    overdue_line = "overdue: killed"
    restart_grace = stop_grace = 0.2
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def _start(self) -> None:
        child = spawn(["-c", STUBBORN], self.root, stdout=subprocess.PIPE)
        assert child.stdout is not None
        assert child.stdout.readline() == b"up\n"  # SIGTERM is ignored from now
        self.started.append(child)
        self._follow(child)

    def _ended(self, process: subprocess.Popen[bytes]) -> None:
        raise AssertionError(f"ended on its own: {process.returncode}")


@pytest.fixture
def stubborn(tmp_path: Path):
    supervisor = Stubborn(folder=tmp_path, root=tmp_path)
    yield supervisor
    for child in supervisor.started:
        kill(child)


def test_a_restart_kills_a_child_past_its_grace_and_starts_the_next(
    stubborn: Stubborn, capsys: pytest.CaptureFixture[str]
) -> None:
    stubborn._start()
    first = stubborn.started[0]
    assert not stubborn._handle(Changed("app/main.py changed"))
    assert stubborn.events.get(timeout=WAIT) == Overdue(first)
    assert not stubborn._handle(Overdue(first))
    assert first.returncode == -signal.SIGKILL
    assert stubborn.events.get(timeout=WAIT) == Exited(first)
    assert not stubborn._handle(Exited(first))
    assert len(stubborn.started) == 2 and stubborn.child is stubborn.started[1]
    assert not stubborn.restarting
    said = capsys.readouterr().err
    assert said == "app/main.py changed: restarting the stubborn child\n" + (
        "overdue: killed\n"
    )


def test_a_stop_kills_a_child_past_its_grace_and_ends(
    stubborn: Stubborn, capsys: pytest.CaptureFixture[str]
) -> None:
    stubborn._start()
    child = stubborn.started[0]
    assert not stubborn._handle(Stop(signal.SIGTERM))
    assert stubborn.events.get(timeout=WAIT) == Overdue(child)
    assert not stubborn._handle(Overdue(child))
    assert stubborn.events.get(timeout=WAIT) == Exited(child)
    assert stubborn._handle(Exited(child)), "the command is done"
    assert len(stubborn.started) == 1
    assert capsys.readouterr().err == "stopping\noverdue: killed\n"
