"""`workshop room` over hostile learners: the jail holds (issue 21).

Each learner's app/__init__.py attacks the instructor when the checks import
it: a .pth file into the venv, writes outside its copy, a look at the
instructor's home and at every /proc/<pid>/environ (a SECRET is in the room's
environment), a double-forked setsid daemon, three 60 MB files in /tmp, a
connect to a port on 127.0.0.1, a fork bomb (bounded, in case the jail is
not), a forged status.json that would stretch the import limit to the run's
cap, the runner's own functions replaced, and terminal escape codes. After
the room: nothing outside changed, the secret is nowhere, no process of
theirs is left, and the room took well under its run cap of 120 s.

Every process a hostile learner starts carries MARK in its environment (and
the daemon in its command line too), so a survivor is found by reading /proc.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from workshop import lock
from workshop.checks import suites
from workshop.course.room_bench import commit, make_learner
from workshop.errors import WorkshopError
from workshop.room import review as rooms
from workshop.room import sandbox

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-of-the-instructor-4711"
KEY = "ssh-key-of-the-instructor-0815"
MARK = "hostile-learner-mark-2718"

jailed = pytest.mark.skipif(
    sandbox.available() is None,
    reason="the jail is bubblewrap's: Linux with `bwrap` on PATH only",
)
proc = pytest.mark.skipif(
    not Path("/proc/self/environ").exists(), reason="finds survivors through /proc"
)

PRELUDE = """
import os as _o, sys as _s, time as _t
_o.environ["HOSTILE"] = {mark!r}  # every child inherits it: found if it survives
_seen = []
"""

ATTACK = """
import glob as _g, site as _site, socket as _sock, subprocess as _sp
for _d in {{*_site.getsitepackages(), *_g.glob(_s.prefix + "/lib/*/site-packages")}}:
    try:
        with open(_d + "/hostile.pth", "w") as _f:
            _f.write("import os; open({outside!r} + '/pth-ran', 'w')\\n")
        _seen.append("pth written in " + _d)
    except OSError:
        pass
for _p in ({outside!r} + "/pwned", {home!r} + "/pwned"):
    try:
        open(_p, "w").write("pwned")
    except OSError:
        pass
for _read in (lambda: str(_o.listdir({home!r} + "/.ssh")),
              lambda: open({home!r} + "/.ssh/id_rsa").read()):
    try:
        _seen.append(_read())
    except OSError:
        pass
for _pid in [str(_o.getppid()), *_o.listdir("/proc")]:
    try:
        _seen.append(open("/proc/" + _pid + "/environ", "rb").read().decode())
    except (OSError, UnicodeDecodeError):
        pass
if _o.fork() == 0:  # a daemon: fork, setsid, fork, exec
    _o.setsid()
    if _o.fork() == 0:
        _o.execv(_s.executable, [_s.executable, "-c",
                 "import time; time.sleep(300)  # {mark}"])
    _o._exit(0)
for _i in range(3):
    try:
        with open("/tmp/big-%d" % _i, "wb") as _f:
            _f.write(b"x" * 60 * 1024 * 1024)
    except OSError as _e:
        _seen.append("big file %d: %s" % (_i, _e.strerror))
try:
    _c = _sock.create_connection(("127.0.0.1", {port}), timeout=1)
    _c.sendall(b"{mark}")
except OSError as _e:
    _seen.append("connect: " + str(_e))
_leak = [x for x in _seen if "SECRET=" in x or "ssh-key" in x]  # those first
raise RuntimeError("\\x1b[2J\\x1b]0;pwned\\x07" + repr(_leak + _seen)[:2000])
"""

FORK_BOMB = """
_n = 0
try:
    for _ in range(2000):  # bounded: a missing limit must not take the machine
        if _o.fork() == 0:
            _o.execv("/bin/sh", ["sh", "-c", "sleep 60", {mark!r}])
        _n += 1
except OSError:
    pass
raise RuntimeError("forked %d" % _n)
"""

STRETCH = """
import gc as _gc, json as _j, threading as _th
_r = _s.modules["__main__"]
_path = next(o.path for o in _gc.get_objects() if isinstance(o, _r.Status))
def _forge():
    while True:  # importing, since just now, may take 120 s: so it says
        _path.write_text(_j.dumps({{"phase": "importing", "since": _t.time(),
                                   "limit": 120}}))
        _t.sleep(0.1)
_th.Thread(target=_forge, daemon=True).start()
_t.sleep(300)
"""

STUCK = """
import subprocess as _sp
_sp.Popen([_s.executable, "-c", "import time; time.sleep(300)  # {mark}"])
_t.sleep(300)
"""

GREEN = """
_r = _s.modules["__main__"]
_real = _r.Collector.pytest_runtest_logreport
def _all_pass(self, report):
    report.outcome = "passed"
    return _real(self, report)
_r.Collector.pytest_runtest_logreport = _all_pass
"""


def hostile(dest: Path, code: str) -> Path:
    """A learner at step 0 whose app/__init__.py runs `code` on import."""
    repo = make_learner(dest, ROOT, 0)
    init = repo / "app" / "__init__.py"
    init.write_text(PRELUDE.format(mark=MARK) + code + init.read_text())
    commit(repo, "Hostile")
    return repo


def survivors() -> list[int]:
    """Processes that carry MARK in their command line or environment."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            seen = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if MARK.encode() in seen:
            found.append(int(entry.name))
    return found


def tree_of(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_size for p in folder.rglob("*") if p.is_file()}


def grep(folder: Path, *needles: str) -> list[str]:
    hits = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            hits += [f"{path}: {n}" for n in needles if n.encode() in data]
    return hits


@pytest.fixture
def instructor(tmp_path: Path) -> Path:
    home = tmp_path / "instructor"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(KEY)
    (tmp_path / "outside").mkdir()
    return home


def room(
    tmp_path: Path, repos: list[Path], env: dict[str, str], *extra: str
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "workshop", "room", *map(str, repos), "--json",
         "-j", "2", "--cache", str(tmp_path / "cache"), *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def room_env(home: Path, **more: str) -> dict[str, str]:
    """The room's environment: a SECRET in it, and its temporary folders in
    the test's (a SIGKILLed room cannot remove its own)."""
    temporary = home.parent / "tmp"
    temporary.mkdir(exist_ok=True)
    return {**os.environ, "HOME": str(home), "SECRET": SECRET,
            "TMPDIR": str(temporary), **more}  # fmt: skip


@jailed
@proc
def test_hostile_learners_change_nothing_outside_and_leave_nothing_behind(
    tmp_path, instructor
) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    outside = tmp_path / "outside"
    port = listener.getsockname()[1]
    attack = ATTACK.format(mark=MARK, outside=str(outside), home=str(instructor),
                           port=port)  # fmt: skip
    repos = [
        hostile(tmp_path / "attack", attack),
        hostile(tmp_path / "bomb", FORK_BOMB.format(mark=MARK)),
        hostile(tmp_path / "stretch", STRETCH),
        hostile(tmp_path / "green", GREEN),
    ]
    venv = Path(sys.prefix)
    venv_before = tree_of(venv)
    home_before = tree_of(instructor)
    tmp_before = set(os.listdir("/tmp"))

    started = time.monotonic()
    child = room(tmp_path, repos, room_env(instructor))
    out, err = child.communicate(timeout=150)
    seconds = time.monotonic() - started
    assert child.returncode == 0, err
    rows = {r["name"]: r for r in json.loads(out)["learners"]}

    # nothing outside the jail changed, and nothing reached the instructor
    assert tree_of(venv) == venv_before
    assert tree_of(instructor) == home_before
    assert not list(outside.iterdir())
    assert not [n for n in set(os.listdir("/tmp")) - tmp_before if "big-" in n]
    with pytest.raises(BlockingIOError):
        listener.accept()
    listener.close()
    # the secret and the key are nowhere: not in the output, not in a file
    assert SECRET not in out + err and KEY not in out + err
    assert not grep(tmp_path / "cache", SECRET, KEY)
    # no process of theirs is left: not the daemon, not the bomb's
    assert not survivors()
    # the attack ran (its message came back), cleaned of its escape codes
    assert "pth written" not in rows["attack"]["message"]
    assert "\x1b" not in out and "\x07" not in out
    assert "RuntimeError: [2J]0;pwned" in rows["attack"]["message"]
    # the bomb ended: by the process limit, or by the import limit while forking
    bomb = rows["bomb"]["message"]
    assert rows["bomb"]["hangs"] or int(bomb.split("forked ")[1].split()[0]) < 256
    # a forged status.json does not stretch the import limit of 4 s
    assert rows["stretch"]["hangs"] is True
    assert "importing app/ did not finish in 4 s" in rows["stretch"]["message"]
    assert seconds < 90, f"the room took {seconds:.0f} s"


@jailed
@proc
@pytest.mark.parametrize("signum", ["SIGTERM", "SIGHUP", "SIGKILL"])
def test_a_signal_to_the_room_ends_every_process_it_started(
    tmp_path, instructor, signum
) -> None:
    stuck = hostile(tmp_path / "stuck", STUCK.format(mark=MARK))
    child = room(tmp_path, [stuck], room_env(instructor))
    deadline = time.monotonic() + 30
    while not survivors() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert survivors(), "the learner's code did not start"

    child.send_signal(getattr(signal, signum))
    child.communicate(timeout=10)

    deadline = time.monotonic() + 5  # SIGKILL: the kernel ends the jail
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not survivors()


def test_without_a_sandbox_no_learner_code_runs(tmp_path, instructor) -> None:
    outside = tmp_path / "outside"
    spy = f"open({str(outside / 'ran')!r}, 'w').write('ran')\n"
    repo = hostile(tmp_path / "spy", spy)
    env = room_env(instructor)
    if sys.platform.startswith("linux"):  # elsewhere there is no sandbox anyway
        bin_dir = tmp_path / "bin"  # git, and no bwrap
        bin_dir.mkdir()
        (bin_dir / "git").symlink_to(shutil.which("git") or "git")
        env["PATH"] = str(bin_dir)

    child = room(tmp_path, [repo], env)
    out, err = child.communicate(timeout=60)

    assert child.returncode == 0, err
    assert err == (
        "no sandbox here: install bubblewrap (sudo apt-get install bubblewrap) to "
        "run learners' code; showing last commits only\n"
    )
    [row] = json.loads(out)["learners"]
    assert (row["ran"], row["error"], row["step"]) == (
        False,
        "not run: no sandbox here",
        None,
    )
    assert row["commit"] and row["last_commit"]
    assert not (outside / "ran").exists()

    table = subprocess.run(
        [sys.executable, "-m", "workshop", "room", str(repo), "--cache",
         str(tmp_path / "cache")], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    ).stdout  # fmt: skip
    assert table.count("! not run: no sandbox here") == 1
    assert "0 checked, 0 unchanged, 1 not run (no sandbox), in " in table
    assert not (outside / "ran").exists()


@jailed
def test_the_jail_limits_processes_and_disk(tmp_path) -> None:
    """The fork bomb's limit and the size of /tmp, measured inside the jail."""
    copy, results = tmp_path / "copy", tmp_path / "results"
    (copy / "app").mkdir(parents=True)
    results.mkdir()
    script = copy / "app" / "bomb.py"
    script.write_text(BOMB_AND_FILL)
    caps = sandbox.Caps(processes=32, disk=8 * 1024**2)
    jail = sandbox.jail(sandbox.available(), caps, ROOT, copy, results)

    done = subprocess.run([*jail, sys.executable, str(script)], capture_output=True,
                          text=True, timeout=60)  # fmt: skip

    assert done.returncode == 0, done.stderr
    forked, written = map(int, done.stdout.split())
    assert 0 < forked < 32, done.stderr
    assert written <= 8 * 1024**2  # of the 64 MB it tried


BOMB_AND_FILL = """
import os
forked = 0
try:
    for _ in range(200):
        if os.fork() == 0:
            os.execv("/bin/sh", ["sh", "-c", "sleep 10"])
        forked += 1
except OSError:
    pass
written = 0
try:
    with open("/tmp/fill", "wb") as f:
        for _ in range(64):
            f.write(b"x" * 1024 * 1024)
            f.flush()
            written += 1024 * 1024
except OSError:
    pass
print(forked, written)
"""


def test_a_fetch_that_never_answers_is_cut_off(tmp_path) -> None:
    """A server that accepts and never answers: one row says so, in time."""
    silent = socket.create_server(("127.0.0.1", 0))  # the kernel accepts for it
    people = rooms.learners([f"http://127.0.0.1:{silent.getsockname()[1]}/a.git"])
    the_room = rooms.Room(ROOT, tmp_path / "cache", 1, bwrap=None, fetch_seconds=1)

    [row] = the_room.check(people)

    silent.close()
    assert row.error == "git fetch did not finish in 1 s"


def test_a_source_that_looks_like_an_option_reaches_git_as_a_source(tmp_path):
    marker = tmp_path / "ran"
    people = rooms.learners([f"--upload-pack=touch {marker};"])
    the_room = rooms.Room(ROOT, tmp_path / "cache", 1, bwrap=None)

    [row] = the_room.check(people)

    # git saw a repository (and refused its name), not an option it would obey
    assert (
        row.error
        == f"git fetch failed: fatal: strange pathname '{people[0].source}' blocked"
    )
    assert not marker.exists()


def test_two_rooms_on_one_cache_do_not_run_at_once(tmp_path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    the_room = rooms.Room(ROOT, cache, 1, bwrap=None)
    with lock.held(cache, "room"), pytest.raises(WorkshopError) as refused:
        the_room.check(rooms.learners([str(tmp_path)]))
    assert str(refused.value).startswith("another 'workshop room' is running (pid ")


def test_learner_text_loses_its_control_characters() -> None:
    assert rooms.clean("ok\x1b[2J\x1b]0;title\x07\r\x9b!\tend") == "ok[2J]0;title!\tend"


class Clock:
    """time.time() of workshop/checks/suites.py, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        return self.now


def test_a_forged_status_does_not_stretch_the_import_limit(monkeypatch) -> None:
    """The learner's process keeps writing 'importing, since now, 120 s'."""
    clock = Clock()
    monkeypatch.setattr(suites, "time", clock)
    room_limits = replace(rooms.ROOM_LIMITS, asked=())
    believing, untrusting = suites._Clock(rooms.ROOM_LIMITS), suites._Clock(room_limits)

    def forged() -> dict:
        return {"phase": "importing", "since": clock.now, "limit": 120}

    assert not untrusting.out(forged())
    clock.now += room_limits.importing + 0.1
    assert untrusting.out(forged())
    assert not believing.out(forged())  # what the room did before


def test_a_tests_extra_time_comes_from_the_suites_not_the_status(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(suites, "time", clock)
    asked = rooms.asked_limits(ROOT / "tests" / "steps")
    assert asked["test_a_job_whose_worker_is_killed_comes_back_on_redis"] == 45.0
    limits = replace(rooms.ROOM_LIMITS, asked=tuple(asked.items()))
    watch = suites._Clock(limits)
    claims = {"phase": "test", "since": clock.now, "limit": 999,
              "test": "tests/steps/test_step_1.py::test_any"}  # fmt: skip

    assert not watch.out(claims)
    clock.now += limits.test + 0.1
    assert watch.out({**claims, "since": clock.now})
    slow = {
        **claims,
        "test": "t.py::test_a_job_whose_worker_is_killed_comes_back_on_redis",
    }
    assert not watch.out(slow)
    clock.now += 45.1  # its own 45 s, not the 999 it claims
    assert watch.out(slow)


@jailed
def test_a_look_without_a_sandbox_is_not_kept_as_a_result(tmp_path) -> None:
    """Rows that could not run are looked at again once a sandbox is there."""
    people = rooms.learners([str(make_learner(tmp_path / "ada", ROOT, 0))])
    cache = tmp_path / "cache"

    [first] = rooms.Room(ROOT, cache, 1, bwrap=None).check(people)
    [then] = rooms.Room(ROOT, cache, 1).check(people)

    assert (first.ran, first.error) == (False, rooms.NOT_RUN)
    assert (then.ran, then.error, then.step) == (True, None, 1)
