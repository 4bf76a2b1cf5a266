"""`workshop room`: learners' repositories through this course's real suites.

The learners are generated: each holds a real checkpoint's app/ as its work
(workshop/course/room_bench.py makes them, as `workshop bench --room` does), so the
course's own suites decide which step each one is on.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from workshop.course.room_bench import commit, make_learner
from workshop.room import sandbox

ROOT = Path(__file__).resolve().parents[2]
# The room runs learner code only in a sandbox (workshop/room/sandbox.py).
jailed = pytest.mark.skipif(
    sandbox.available() is None,
    reason="the room runs learner code only in bubblewrap: Linux with `bwrap` only",
)
SECRETS = {
    "GITHUB_TOKEN": "ghp_secret",
    "SSH_AUTH_SOCK": "/tmp/agent.sock",
}


@pytest.fixture
def learners(tmp_path: Path) -> dict[str, Path]:
    """ada finished step 0, bob step 2, cy step 2 but with an infinite loop.
    (What learner code can see and do: tests/workshop/test_room_hostile.py.)"""
    return {
        "ada": make_learner(tmp_path / "ada", ROOT, 0),
        "bob": make_learner(tmp_path / "bob", ROOT, 2),
        "cy": make_learner(tmp_path / "cy", ROOT, 2, hang=True),
    }


def room_json(run_workshop, tmp_path: Path, *sources: str) -> list[dict]:
    code, out, err = run_workshop(
        "room", *sources, "--json", "-j", "3", "--cache", str(tmp_path / "cache"),
        cwd=ROOT, env={**SECRETS, "HOME": str(tmp_path / "instructor")},
    )  # fmt: skip
    assert (code, err) == (0, ""), err
    return json.loads(out)["learners"]


@jailed
def test_room_finds_each_learners_step_isolated_and_time_limited(
    learners, run_workshop, tmp_path
) -> None:
    rows = room_json(run_workshop, tmp_path, *map(str, learners.values()))

    found = {r["name"]: r for r in rows}
    assert [r["name"] for r in rows] == ["ada", "bob", "cy"]
    assert (found["ada"]["step"], found["bob"]["step"], found["cy"]["step"]) == (
        1, 3, 0,
    )  # fmt: skip
    assert found["ada"]["check"] == (
        "POST /subscribers answers before the welcome email is sent."
    )
    assert found["cy"]["hangs"] is True
    assert "did not finish in 5 s (stuck at app/main.py:" in found["cy"]["message"]
    assert not found["bob"]["hangs"]
    assert all(r["ran"] and r["error"] is None for r in rows)
    assert all(r["last_commit"] for r in rows)

    # again, nothing changed: nobody is run again
    again = room_json(run_workshop, tmp_path, *map(str, learners.values()))
    assert [(r["step"], r["ran"]) for r in again] == [(1, 0), (3, 0), (0, 0)]

    # ada catches up to step 1 and commits: only ada is run again
    ada = learners["ada"]
    for path in (ROOT / "checkpoints" / "step-1" / "app").glob("*.py"):
        (ada / "app" / path.name).write_text(path.read_text())
    commit(ada, "Step 1 done")
    code, out, _ = run_workshop(
        "room", *map(str, learners.values()), "--cache", str(tmp_path / "cache"),
        cwd=ROOT,
    )  # fmt: skip
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["learner", "step", "first", "failing", "check",
                                "last", "commit"]  # fmt: skip
    assert lines[1].split()[:2] == ["ada", "2"]
    assert lines[2].split()[:2] == ["bob", "3"]
    assert lines[3].split()[:3] == ["cy", "0", "(hangs)"]
    assert lines[-1].startswith("3 learners: step 0: 1, step 2: 1, step 3: 1 · ")
    assert "1 checked, 2 unchanged" in lines[-1]


def test_room_reads_a_list_and_reports_a_repository_it_cannot_fetch(
    run_workshop, tmp_path
) -> None:
    listing = tmp_path / "room.txt"
    listing.write_text(f"# the room\n\n{tmp_path / 'missing'}  # gone\n")
    rows = room_json(run_workshop, tmp_path, "--file", str(listing))
    [row] = rows
    assert row["name"] == "missing"
    assert row["step"] is None and not row["ran"]
    assert row["error"].startswith("git fetch failed: ")


def test_room_without_repositories_is_one_line(run_workshop, tmp_path) -> None:
    code, _, err = run_workshop("room", cwd=ROOT)
    assert code == 2
    assert err == "workshop: no learner repositories: name them, or --file FILE\n"
    code, _, err = run_workshop("room", "--file", str(tmp_path / "no"), cwd=ROOT)
    assert code == 2
    assert err.startswith(f"workshop: cannot read {tmp_path / 'no'}: ")


def test_learner_names_are_short_and_unique() -> None:
    from workshop.room.review import learners

    found = learners([
        "https://github.com/ada/workshop.git",
        "git@github.com:bob/workshop.git",
        "https://github.com/ada/workshop.git",  # twice: once
        "https://gitlab.example/cy/workshop",
        "https://example.invalid/ada/workshop",
    ])  # fmt: skip
    assert [p.name for p in found] == [
        "ada/workshop", "bob/workshop", "cy/workshop", "ada/workshop (2)",
    ]  # fmt: skip
    assert len({p.key for p in found}) == 4


def test_bench_room_options_and_report() -> None:
    """`workshop bench --room`: 30 repositories by default; the report names
    the load, the CPU time, and each goal met or missed."""
    import argparse

    from workshop.bench import add_arguments, settings
    from workshop.course.room_bench import Look, text
    from workshop.room.review import Row

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    chosen = settings(parser.parse_args(["--room"]))
    assert (chosen.room, chosen.repos, chosen.jobs) == (True, 30, 0)
    chosen = settings(parser.parse_args(["--room", "--repos", "3", "--jobs", "2"]))
    assert (chosen.repos, chosen.jobs) == (3, 2)

    info = {"cores": 2, "cpu": "CPU", "python": "3.11", "load_average": [1.5]}
    looks = [Look("cold", 70.0, 30, 80.0), Look("warm", 2.0, 0, 0.5)]
    rows = [Row("a", "a", step=1), Row("b", "b", finished=True)]
    report = text(30, 4, looks, rows, info, info)
    assert "load average 1.5 before, 1.5 after" in report
    assert "cold" in report and "goal ≤ 60 s: missed" in report
    assert "goal ≤ 15 s: met" in report
    assert "with nothing else running, at least 40 s on 2 cores" in report
    assert "steps found: 1, done; 0 hung" in report


def test_watch_looks_again_and_only_fetches(tmp_path, capsys) -> None:
    """--watch prints a fresh table each look; nothing changed, nothing runs."""
    from workshop.commands.room import room

    listing = tmp_path / "room.txt"
    listing.write_text(f"{tmp_path / 'missing'}\n")
    code = room(ROOT, [], file=listing, watch=True, interval=0.01, rounds=2,
                cache=tmp_path / "cache")  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("learner  step  first failing check") == 2
    assert out.count("again in 0.01 s (Ctrl-C stops)") == 1
    assert out.count("0 checked, 1 unchanged") == 2


@jailed
@pytest.mark.skipif(
    sys.platform != "linux",
    reason="finds the room's children through /proc, which only Linux has",
)
def test_ctrl_c_ends_the_room_at_once_and_kills_every_child(tmp_path) -> None:
    import signal
    import subprocess
    import time

    repos = [make_learner(tmp_path / f"l{i}", ROOT, 1, hang=True) for i in range(3)]
    cache = tmp_path / "cache"
    room = subprocess.Popen(
        [sys.executable, "-m", "workshop", "room", *map(str, repos), "-j", "2",
         "--cache", str(cache)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while len(_runners_linux(room.pid)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    runners = _runners_linux(room.pid)
    assert len(runners) == 2, "the learners' checks did not start"
    time.sleep(0.5)

    started = time.monotonic()
    room.send_signal(signal.SIGINT)
    _, err = room.communicate(timeout=10)

    assert time.monotonic() - started < 3
    assert (room.returncode, err) == (130, "workshop: interrupted\n")
    assert not [pid for pid in runners if Path(f"/proc/{pid}").exists()]
    assert not (cache / "results.json").exists()  # an interrupted look is not kept


def _runners_linux(parent: int) -> list[int]:
    """The room's children that run a learner's checks."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and "workshop.checks.child" in line:
            found.append(int(entry.name))
    return found
