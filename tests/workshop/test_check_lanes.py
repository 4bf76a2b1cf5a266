"""Earlier steps never go silent, and never hold up the step in focus.

On the course's own checkpoint 7 with mistakes of earlier steps: a red
earlier step shows its first cause in one line while step 7 is red too, and
a hang in step 3's code leaves step 7 checked (workshop/checks/lanes.py: the
step in focus runs in a lane of its own, each lane on its own clock).
"""

from __future__ import annotations

import itertools
import shutil
import threading
from pathlib import Path

import pytest

from workshop.checks import lanes, suites
from workshop.checks.suites import Limits, run_suites
from workshop.commands.check import show_focus
from workshop.project import all_steps

ROOT = Path(__file__).resolve().parents[2]
NUMBERS = list(range(8))


@pytest.fixture(autouse=True)
def two_cores(monkeypatch) -> None:
    """Two lanes whatever this machine has, so the outcome is the same anywhere."""
    monkeypatch.setattr(lanes, "cores", lambda: 2)


def checkpoint_7(tmp_path: Path, *edits: tuple[str, str, str]) -> Path:
    """A copy of checkpoint 7's app with (file, old, new) edits made."""
    shutil.copytree(ROOT / "checkpoints" / "step-7" / "app", tmp_path / "app")
    for name, old, new in edits:
        path = tmp_path / "app" / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return tmp_path


def focus_on_7(results, capsys) -> str:
    show_focus(ROOT, all_steps(ROOT), results, 7)
    return capsys.readouterr().out


ADMIN = (
    "background_tasks.add_task(notify_admin, subscriber.email, name=subscriber.name)"
)
NO_ADMIN = ("main.py", f"    {ADMIN}\n", "")
NO_DIGEST = ("main.py", "    background_tasks.add_task(send_digest, job_id)\n", "")


def test_an_earlier_red_step_shows_its_first_cause_while_yours_is_red(
    tmp_path: Path, capsys
) -> None:
    app = checkpoint_7(tmp_path, NO_ADMIN, NO_DIGEST)
    results = run_suites(ROOT, app, NUMBERS)
    by_number = {r.number: r for r in results}
    assert not by_number[7].ok and not by_number[2].ok
    out = focus_on_7(results, capsys)
    lines = out.splitlines()
    step_2 = next(i for i, line in enumerate(lines) if "✗ Step 2 —" in line)
    cause = lines[step_2 + 1]
    assert cause.strip().startswith("✗ "), out
    assert "admin" in cause.lower(), out  # its own cause, not step 7's
    assert "Step 3 —" in lines[step_2 + 2], out  # one line, then the next step
    assert "Stuck? Run: workshop hint 7" in out


HANG_IN_AUDIT = (
    "tasks.py",
    '    with closing(connect()) as db, db:\n        db.execute("INSERT INTO audit',
    "    import time\n\n    time.sleep(600)\n"
    "    with closing(connect()) as db, db:\n"
    '        db.execute("INSERT INTO audit',
)


class Watched(suites.Spare):
    """A spare child that notes, in `EVENTS`, when it was made and when it was
    given its tests, with the thread (the lane) that did either."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        EVENTS.append(("made", self, threading.get_ident()))

    def hand(self, args: list[str]):
        EVENTS.append(("handed", self, threading.get_ident()))
        return super().hand(args)


EVENTS: list[tuple[str, suites.Spare, int]] = []


def warmed_ahead(events: list[tuple[str, suites.Spare, int]]) -> list[bool]:
    """For each lane's third child on: was it made before the child before it
    was handed its tests (so it warmed up while that one ran)?"""
    found = []
    for lane in {thread for what, _, thread in events if what == "handed"}:
        mine = [(what, spare) for what, spare, thread in events if thread == lane]
        handed = [spare for what, spare in mine if what == "handed"]
        for before, spare in itertools.pairwise(handed[1:]):
            found.append(mine.index(("made", spare)) < mine.index(("handed", before)))
    return found


def test_a_hang_in_an_earlier_steps_code_is_waited_out_once_per_lane(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    """The audit task (step 3) never ends: every subscription waits for it.
    Step 7's own suite still has its result; each lane waits out the limit
    once, and every later step is stopped as soon as it sits at the same line
    (workshop/checks/known_hangs.py), each named in one line. From the second
    test stopped there, the child for the tests after it is already warming
    up, started while the one before it ran."""
    app = checkpoint_7(tmp_path, HANG_IN_AUDIT)
    monkeypatch.setattr(suites, "Spare", Watched)
    EVENTS.clear()
    results = run_suites(ROOT, app, NUMBERS, limits=Limits(test=5.0))
    ahead = warmed_ahead(EVENTS)
    assert ahead and all(ahead), ahead
    assert all(r.ran and not r.ok for r in results), results
    messages = [f.message for r in results for f in r.failures]
    waited = [m for m in messages if "did not finish in 5 s" in m]
    assert len(waited) == 2, messages  # once in each lane, not once per test
    assert all("the same hang" in m for m in messages if m not in waited)
    out = focus_on_7(results, capsys)
    assert "Step 7 was not checked" not in out
    assert "stuck at app/tasks.py:55 in write_audit_entry" in out, out
    assert "(the same error as step" in out  # a cause already shown is named


def test_a_thread_at_a_known_place_is_named_at_once() -> None:
    """The child's look at its threads: a thread held at a line seen stuck
    before is reported, with that line, while the test runs."""
    import sys
    import threading

    from workshop.checks import known_hangs

    held, reported = threading.Event(), []
    found = threading.Event()

    def stuck_here() -> None:
        held.wait(30)  # the line the watch is told about

    line = stuck_here.__code__.co_firstlineno + 1
    place = (str(Path(__file__).resolve()), line)
    thread = threading.Thread(target=stuck_here, daemon=True)
    thread.start()
    try:
        known_hangs.watch(
            {place}, lambda: "test_x", lambda p: (reported.append(p), found.set())
        )
        assert found.wait(30), "the known place was never reported"
    finally:
        held.set()
    assert reported == [place]
    assert sys._current_frames()  # the look is read-only: threads run on


def test_the_crash_tiers_weigh_in_the_lanes() -> None:
    """With the crash tiers (verify, `workshop check 9 --crash`), step 9's
    (real workers killed for real: most of the run) fills the focus lane, and
    step 8's runs beside it instead of after it."""
    steps = list(range(10))
    first, second = lanes.split(ROOT, steps, crash=steps)
    assert first[0] == 9 and 8 in second, (first, second)
    fast = lanes.split(ROOT, steps)  # without them, as before: by test count
    assert fast[0][0] == 9 and len(fast[0]) > 1, fast
