"""Helpers of the task-queue steps (8 on): brokers, real worker and web processes.

- `run_queued_jobs_here` (autouse, imported by conftest.py): on an app that has
  `app/worker.py`, the suites of earlier steps still see their jobs run. A
  real Celery worker runs inside the test process, on an in-memory broker, so
  the mail gate and the test's settings apply to it as they do to background
  tasks. As background tasks do, a job starts only once the TestClient
  request that sent it returned (its dependencies' exit code has run); and as
  the TestClient returns only once a request's background tasks are done, it
  then also waits until every job the request queued has run (not one due
  later than JOB_LIMIT, a retry's long countdown: that is noted in
  `worker_log.held`). On earlier checkpoints it does nothing.
- `Broker`: the no-server default (an SQLite file in a temporary folder) or
  Redis, where every key the test's processes write starts with a prefix of
  its own, and only those keys are deleted afterwards.
- `Process`: the app's web server (uvicorn) or its Celery worker as a real
  process of its own (started through workshop/queueboot.py), with the broker and
  database in its environment, so a test can send it real signals; the mail
  server's deliveries are counted in a file (`Stack.deliveries`).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.util
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.live import free_port, wait_until

APP_DIR = Path(os.environ.get("WORKSHOP_APP_DIR") or Path(__file__).parents[2])
REDIS_DEFAULT = "redis://127.0.0.1:6379/0"
BOOT = ["-m", "workshop.queueboot"]  # the app's processes, observed
START_LIMIT = 30.0  # seconds for a process to come up: reached only when broken
# (a Celery worker took over 8 s on a busy 2-core machine)
JOB_LIMIT = 8.0  # seconds for a job to be done (the SQLite broker polls once a second)


def has_worker() -> bool:
    """True when the app under test has a Celery worker module (step 8 on)."""
    return importlib.util.find_spec("app.worker") is not None


@functools.cache
def start_worker_here() -> None:
    """Start the in-process worker once (conftest calls it when collection
    ends, so its imports and start-up count against no test's time limit)."""
    from celery import _state
    from celery.contrib.testing.worker import TestWorkController, setup_app_for_worker
    from celery.signals import task_failure

    # app/ imported before (workshop check tries it once, then forgets it)
    # left its shared tasks behind: they would shadow this import's own
    _state._on_app_finalizers.clear()
    from workshop.checks.worker_app import NoCeleryApp, broker_problem, worker_app

    celery = worker_app()
    if problem := broker_problem(celery):  # the app's own URL, before ours
        raise NoCeleryApp(problem)

    celery.conf.update(
        broker_url="memory://",
        broker_transport_options={"polling_interval": 0.005},
    )
    setup_app_for_worker(celery, "WARNING", None)
    # a task that raises: its error leads the failure (workshop/checks/app_errors)
    task_failure.connect(_note_failure, weak=False)
    worker = TestWorkController(
        app=celery,
        hostname="steps@localhost",
        pool="solo",
        concurrency=1,
        loglevel="WARNING",
        logfile=None,
        ready_callback=None,
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
    )
    threading.Thread(target=worker.start, daemon=True).start()
    worker.ensure_started()
    # never stopped: a clean stop waits 2 to 4 s for the broker's poll loop;
    # the thread ends with the test process, after every test waited its jobs


def _note_failure(exception: BaseException | None = None, **_: object) -> None:
    from workshop.checks.app_errors import record

    if exception is not None:
        record(exception)


def _note_unknown(name: str | None = None, **_: object) -> None:
    """The worker discarded a job's message: no task of that name is known to
    a worker that imports app.worker (as `celery -A app.worker` does)."""
    from workshop.checks.app_errors import record_line

    module, _, task = (name or "?").rpartition(".")
    record_line(
        f"the worker discarded a job (Received unregistered task of type"
        f" {name!r}): define {task} in app/worker.py (a worker started with"
        f" `celery -A app.worker` never imports {module or 'that module'})"
    )


_WORKER_FAILED: list[str] = []  # why the in-process worker did not start


def start_worker_or_note() -> None:
    """Start the in-process worker; when app/worker.py cannot give one, note
    why in one line (each test then fails with it, never an INTERNALERROR)."""
    from workshop.checks.worker_app import NoCeleryApp
    from workshop.importing import describe_load_error

    try:
        start_worker_here()
    except NoCeleryApp as error:
        _WORKER_FAILED.append(str(error))
    except Exception as error:
        found = describe_load_error(error, APP_DIR)
        _WORKER_FAILED.append(" — ".join(found.splitlines()))


@pytest.fixture(scope="session", autouse=True)
def run_queued_jobs_here() -> Iterator[None]:
    """Steps 0..7 on a queue-based app: jobs run in a worker in this process."""
    if not has_worker():
        yield
        return
    if _WORKER_FAILED:
        pytest.fail(_WORKER_FAILED[0], pytrace=False)
    from fastapi.testclient import TestClient

    start_worker_here()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(TestClient, "request", _waiting_for_jobs(TestClient.request))
        yield


class _Jobs:
    """Jobs sent from this process and not yet run (Celery's own signals)."""

    def __init__(self) -> None:
        from celery.signals import (
            after_task_publish,
            task_postrun,
            task_prerun,
            task_rejected,
            task_retry,
            task_unknown,
        )

        self.count = 0
        # what the fast checks of steps 8 and 9 read: the task names of the
        # messages sent, of the jobs the worker ran, and of those it retried
        self.published: list[str] = []
        self.ran: list[str] = []
        self.retried: list[str] = []
        # messages due later than JOB_LIMIT (a retry's countdown, an eta): the
        # worker holds them; no request waits for them (task name, seconds)
        self.held: list[tuple[str, float]] = []
        # a held message's task id -> runs of that id still to count (a retry
        # keeps its task's id, and is sent while that run is still going)
        self._held_ids: dict[str, int] = {}
        self._running: set[str] = set()
        # each job the worker ran: (task, its arguments, its id); where app/
        # sent each id (a job may start before its publish signal returns)
        self.calls: list[tuple[object, tuple, dict, str]] = []
        self._sent_from: dict[str, str | None] = {}
        self.changed = threading.Condition()
        # set while no TestClient request is being answered: as background
        # tasks do, a job starts only once the request that sent it returned
        self.answered = threading.Event()
        self.answered.set()
        after_task_publish.connect(self._sent, weak=False)
        task_prerun.connect(self._starting, weak=False)
        task_postrun.connect(self._ran, weak=False)
        task_retry.connect(self._retried, weak=False)
        # a message the worker discards ('Received unregistered task', one it
        # cannot read) never runs: the test that waits for it leads with the
        # worker's reason (noted first), and its wait ends now, not at JOB_LIMIT
        task_unknown.connect(_note_unknown, weak=False)
        task_unknown.connect(self._ran, weak=False)
        task_rejected.connect(self._ran, weak=False)

    def _starting(self, sender=None, task_id=None, args=(), kwargs=None, **_) -> None:
        self.ran.append(getattr(sender, "name", str(sender)))
        self._running.add(task_id)
        self.calls.append((sender, tuple(args or ()), dict(kwargs or {}), task_id))
        self.answered.wait(JOB_LIMIT)

    def _sent(self, sender=None, headers=None, **_) -> None:
        from task_trace import app_caller

        self.published.append(str(sender))
        self._sent_from[(headers or {}).get("id")] = app_caller()
        due = _due_in((headers or {}).get("eta"))
        if due > JOB_LIMIT:  # waiting for it would only wait out the limit
            self.held.append((str(sender), round(due, 1)))
            task_id = (headers or {}).get("id")
            self._held_ids[task_id] = 1 if task_id in self._running else 0
            return
        with self.changed:
            self.count += 1

    def _retried(self, sender=None, **_) -> None:
        self.retried.append(getattr(sender, "name", str(sender)))

    def _ran(self, task_id=None, **_) -> None:
        self._running.discard(task_id)
        if self._held_ids.get(task_id) == 0:  # never counted: due after its request
            del self._held_ids[task_id]
            return
        if task_id in self._held_ids:  # the run that sent it: counted
            self._held_ids[task_id] -= 1
        with self.changed:
            self.count -= 1
            self.changed.notify_all()

    def disagreement(self) -> str | None:
        """'app/main.py:65: welcome(subscriber_id: int) ran with 'ada@...' (a
        str)': the first job the worker ran with an argument its task's
        annotation does not take, and the app/ line that sent it."""
        from task_trace import disagrees

        for task, args, kwargs, task_id in self.calls:
            name = getattr(task, "name", str(task)).rpartition(".")[2]
            run = getattr(task, "run", None)
            if run is not None and (wrong := disagrees(name, run, args, kwargs)):
                where = self._sent_from.get(task_id)
                sent = f"{where}: " if where else ""
                return (
                    f"{sent}the worker's job {wrong}: send {name}.delay(...) the"
                    f" arguments {name}() takes, in its order"
                )
        return None

    def wait(self) -> None:
        with self.changed:
            self.changed.wait_for(lambda: self.count <= 0, timeout=JOB_LIMIT)


def _due_in(eta: str | None) -> float:
    """Seconds until a message's eta (Celery's header, ISO 8601), 0 if none."""
    if not eta:
        return 0.0
    when = datetime.fromisoformat(eta)
    now = datetime.now(when.tzinfo or UTC).replace(tzinfo=when.tzinfo)
    return (when - now).total_seconds()


_jobs: _Jobs | None = None  # made by run_queued_jobs_here, on step 8 on


@pytest.fixture
def worker_log() -> _Jobs:
    """What the in-process worker saw during this test (step 8 on): the task
    names of the messages sent, of the jobs run, and of those retried."""
    if _jobs is None:
        pytest.fail("no app/worker.py: the jobs have no worker to run them")
    _jobs.published.clear()
    _jobs.ran.clear()
    _jobs.retried.clear()
    _jobs.held.clear()
    _jobs.calls.clear()
    return _jobs


def worker_conf_on(broker_url: str, settings, monkeypatch):
    """The Celery settings app/worker.py gives when its broker is `broker_url`
    (read by running the module again, apart: the app under test keeps its
    own app and broker). `settings`, `monkeypatch`: the tests' fixtures."""
    import runpy

    from celery import Celery, _state

    import app.worker

    current = _state.get_current_app()
    monkeypatch.setattr(settings, "celery_broker_url", broker_url)
    try:
        found = runpy.run_path(str(app.worker.__file__))
    finally:
        _state._set_current_app(current)
    apps = [found.get("celery"), found.get("app"), *found.values()]
    return next(v for v in apps if isinstance(v, Celery)).conf


def jobs_pending() -> bool:
    """Jobs sent by this process still wait or run in its worker (step 8 on):
    the app is not idle yet (see step_support.AppServer.idle)."""
    return _jobs is not None and _jobs.count > 0


def _waiting_for_jobs(request):
    global _jobs
    jobs = _jobs = _Jobs()

    def request_then_wait(self, *args, **kwargs):
        jobs.answered.clear()
        try:
            response = request(self, *args, **kwargs)
        finally:
            jobs.answered.set()
        jobs.wait()  # as for background tasks: the client returns after them
        return response

    return request_then_wait


# --- brokers ---------------------------------------------------------------


def redis_url() -> str | None:
    """REDIS_URL, or the local default when something answers on its port."""
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.2):
            return REDIS_DEFAULT
    except OSError:
        return None


def _silent_server() -> int:
    """A port where a server takes every connection and never answers a
    byte (a broker that hangs), until the test process ends."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def take() -> None:
        while True:
            held.append(server.accept()[0])

    threading.Thread(target=take, daemon=True).start()
    return server.getsockname()[1]


class Broker:
    """Where the app's jobs wait: `url` goes into CELERY_BROKER_URL.

    Made at import time, so it never skips or fails by itself: `problem` says
    why there is none (`required`: fail rather than skip), for `check()`.
    """

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.url = ""
        self.problem = ""
        self.required = False
        self.prefix = ""
        if kind == "sqlite":
            self.url = f"sqla+sqlite:///{tmp / 'broker.db'}"
            return
        if kind == "dead":  # a port nothing listens on: the broker is down
            self.url = f"redis://127.0.0.1:{free_port()}/0"
            return
        if kind == "silent":  # it takes the connection and never answers
            self.url = f"redis://127.0.0.1:{_silent_server()}/0"
            return
        url = redis_url()
        self.required = bool(os.environ.get("REDIS_URL"))
        if url is None:
            self.problem = "no Redis on 127.0.0.1:6379 (set REDIS_URL to use another)"
            return
        try:
            self._ping(url)
        except Exception as error:  # a refused connection, a timeout
            self.problem = f"Redis at {url}: {error}"
            return
        self.url = url
        self.prefix = f"workshop-test-{uuid.uuid4().hex}:"

    @staticmethod
    def _ping(url: str) -> None:
        import redis

        with contextlib.closing(redis.Redis.from_url(url, socket_timeout=2)) as r:
            r.ping()

    def check(self) -> None:
        """Skip (or, where Redis is required, fail) when there is no broker."""
        if self.problem and self.required:
            pytest.fail(f"{self.problem} (REDIS_URL is set: Redis is required)")
        if self.problem:
            pytest.skip(self.problem)

    def redis(self):
        """A client of the Redis database the app's Celery uses."""
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=2)

    def close(self) -> None:
        """Delete this test's keys, and no other."""
        if not self.prefix:
            return
        with contextlib.suppress(Exception), contextlib.closing(self.redis()) as r:
            keys = list(r.scan_iter(match=f"{self.prefix}*", count=500))
            if keys:
                r.delete(*keys)


# --- processes ---------------------------------------------------------------


def _end_with_parent_linux() -> None:
    """Linux: SIGKILL this child when the test process ends, however it ends
    (`workshop check` leaves with os._exit, which runs no cleanup)."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


PROCESSES: list[Process] = []  # every process started: their logs tell errors


def logged_since(marks: dict[int, int]) -> list[str]:
    """Each process's log since `marks` (id -> lines already seen)."""
    return ["\n".join(p.lines[marks.get(id(p), 0) :]) for p in list(PROCESSES)]


def log_marks() -> dict[int, int]:
    return {id(p): len(p.lines) for p in list(PROCESSES)}


class Process:
    """A process of the app (web server or worker) with its output collected."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.lines: list[str] = []
        PROCESSES.append(self)
        self.process = subprocess.Popen(
            command,
            cwd=APP_DIR,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=sys.platform != "win32",  # a group: kills reach children
            preexec_fn=_end_with_parent_linux if sys.platform == "linux" else None,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip())

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, what: str, limit: float = START_LIMIT) -> None:
        """Wait until the process prints `text` (fails if it ends first)."""

        def seen() -> bool:
            if self.process.poll() is not None and text not in self.output:
                pytest.fail(f"the {self.name} ended:\n{self.output[-2000:]}")
            return text in self.output

        wait_until(seen, what, timeout=limit)

    def kill(self, sig: int | None = None) -> None:
        """Send `sig` (by default the hardest kill there is: SIGKILL, or
        TerminateProcess on Windows) to the process itself, not its children."""
        if self.process.poll() is not None:
            return
        if sig is None:
            self.process.kill()
        else:
            self.process.send_signal(sig)

    def stop(self) -> None:
        """End it and everything it started."""
        if hasattr(os, "killpg"):  # POSIX: its process group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        else:  # Windows: the process and its children, by taskkill's /T
            subprocess.run(
                ["taskkill", "/F", "/T", "/PID", str(self.process.pid)],
                capture_output=True,
                check=False,
            )
        self.process.wait(5)
        self._reader.join(2)


class Stack:
    """One database and one broker, and the app's processes on them.

    `start()` only launches them (a test module calls it at import, so they
    boot while the earlier suites run); `web()` and `worker()` wait until each
    is ready. The web server's MAIL_DELAY is 0; the worker's is `worker_delay`.
    The worker's pool is `threads` (as `make worker` starts it) unless `pool`
    says `prefork` (Linux: a main process and pool children, one can be killed).
    """

    def __init__(
        self,
        broker: Broker,
        tmp: Path,
        worker_delay: float = 0.0,
        pool: str = "threads",
        visibility: float | None = None,
        lost_wait: float | None = None,
    ) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.broker = broker
        self.db = tmp / "newsletter.db"
        self.mail_log = tmp / "deliveries.log"
        self.env = {
            "NEWSLETTER_DB": str(self.db),
            "CELERY_BROKER_URL": broker.url,
            "PYTHONPATH": str(APP_DIR.resolve()),  # queueboot imports this app/
            "WORKSHOP_KEY_PREFIX": broker.prefix,
            "WORKSHOP_MAIL_LOG": str(self.mail_log),
            "MAIL_TIMEOUT": "3",  # a crashed run's claim is taken over after 3 s
        }
        if visibility is not None:
            self.env["WORKSHOP_VISIBILITY"] = f"{visibility:g}"
        if lost_wait is not None:
            self.env["WORKSHOP_WORKER_LOST_WAIT"] = f"{lost_wait:g}"
        self.worker_delay = worker_delay
        self.pool = pool
        self.port = free_port()
        self.name = f"{broker.kind}-{uuid.uuid4().hex[:8]}@workshop"
        self._web: Process | None = None
        self._worker: Process | None = None
        self._retired: list[Process] = []

    def start(self) -> Stack:
        if self.broker.problem:
            return self
        # served as `workshop serve` serves it: hardened (workshop/hardening.py)
        command = [sys.executable, *BOOT, "web", "--factory"]
        command += ["workshop.hardening:served_app"]
        command += ["--port", str(self.port), "--log-level", "info"]
        self._web = Process("web server", command, {**self.env, "MAIL_DELAY": "0"})
        if self.broker.kind not in ("dead", "silent"):
            self.start_worker()
        return self

    def start_worker(self) -> Process:
        """Start a new worker on this stack's broker and database (it becomes
        `worker()`; one started before keeps running until `close()`)."""
        if self._worker is not None:
            self._retired.append(self._worker)
        command = [sys.executable, *BOOT, "worker"]
        command += ["--loglevel", "INFO", "--without-gossip", "--without-mingle"]
        slots = "1" if self.pool == "prefork" else "4"
        name = f"{len(self._retired)}-{self.name}"
        command += ["--pool", self.pool, "--concurrency", slots, "-n", name]
        delay = {"MAIL_DELAY": f"{self.worker_delay:g}"}
        self._worker = Process("worker", command, {**self.env, **delay})
        return self._worker

    def web(self) -> Process:
        """uvicorn serving app.main:app at `self.url`, once it is up."""
        assert self._web is not None, "start() first"
        self._web.wait_for("Application startup complete", "the web server is up")
        return self._web

    def worker(self) -> Process:
        """The Celery worker of app.worker, once it is ready for jobs."""
        assert self._worker is not None, "start() first"
        self._worker.wait_for(" ready.", "the worker is ready")
        return self._worker

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def job(self, job_id: str) -> dict:
        """The job's row, read from the database file (no web server needed)."""
        with contextlib.closing(sqlite3.connect(self.db)) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        assert row is not None, f"no job {job_id} in the database"
        return dict(row)

    def jobs(self) -> list[dict]:
        """Every job's row."""
        with contextlib.closing(sqlite3.connect(self.db)) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute("SELECT * FROM jobs")]

    def quiet(self) -> bool:
        """Redis: no message of this stack's is queued or taken, and every
        job its worker received has ended (none can come back)."""
        prefix = self.broker.prefix
        with contextlib.closing(self.broker.redis()) as r:
            if r.llen(f"{prefix}celery") or r.hlen(f"{prefix}unacked"):
                return False
        lines = self.worker().lines
        received = sum(line.endswith("] received") for line in lines)
        ends = ("] succeeded in ", "] retry: ", "] raised unexpected")
        ended = sum(any(end in line for end in ends) for line in lines)
        return received == ended

    def broker_messages(self) -> list[dict]:
        """The SQLite broker: every message row (kombu's `visible` flag: 0
        once a worker has taken it)."""
        path = self.broker.url.removeprefix("sqla+sqlite:///")
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute("SELECT * FROM kombu_message")]

    def emails(self, recipient: str, status: str = "sent") -> list[dict]:
        """The emails to `recipient` in the outbox table, with this status."""
        with contextlib.closing(sqlite3.connect(self.db)) as db:
            db.row_factory = sqlite3.Row
            query = "SELECT * FROM outbox WHERE recipient = ? AND status = ?"
            return [dict(row) for row in db.execute(query, (recipient, status))]

    def wait_for_emails(self, recipient: str, count: int, what: str) -> list[dict]:
        found = lambda: len(self.emails(recipient)) >= count  # noqa: E731
        wait_until(found, what, timeout=JOB_LIMIT)
        return self.emails(recipient)

    def wait_for_job(
        self, job_id: str, status: str, what: str, limit: float = JOB_LIMIT
    ) -> dict:
        reached = lambda: self.job(job_id)["status"] == status  # noqa: E731
        wait_until(reached, what, timeout=limit)
        return self.job(job_id)

    def deliveries(self) -> list[str]:
        """The recipient of every email the mail server accepted, in order
        (counted by the server, not read from the app's outbox)."""
        if not self.mail_log.exists():
            return []
        return self.mail_log.read_text().splitlines()

    def outbox(self, recipient: str, subject: str) -> list[dict]:
        """Every email to `recipient` with this subject, whatever its status."""
        with contextlib.closing(sqlite3.connect(self.db)) as db:
            db.row_factory = sqlite3.Row
            query = "SELECT * FROM outbox WHERE recipient = ? AND subject = ?"
            return [dict(row) for row in db.execute(query, (recipient, subject))]

    def add_subscriber(self, email: str, name: str) -> None:
        """A subscriber written straight into the database (an import: no
        welcome email), once the web server has created the tables."""
        self.web()
        with contextlib.closing(sqlite3.connect(self.db)) as db, db:
            db.execute(
                "INSERT INTO subscribers (email, name) VALUES (?, ?)", (email, name)
            )

    def close(self) -> None:
        for process in (self._web, self._worker, *self._retired):
            if process is not None:
                process.stop()
        self.broker.close()


def pool_children_linux(pid: int) -> list[int]:
    """Linux: the pids of the processes whose parent is `pid` (a prefork
    worker's pool), read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # the name, in parentheses, may hold spaces: split after it
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def start_stacks(
    *kinds: str,
    worker_delay: float = 0.0,
    pool: str = "threads",
    visibility: float | None = None,
    lost_wait: float | None = None,
) -> dict[str, Stack]:
    """A started Stack per broker kind, in a temporary folder; all are closed
    and removed when the test process ends (or earlier, by `close()`)."""
    tmp = Path(tempfile.mkdtemp(prefix="workshop-queue-"))
    stacks = {}
    if has_worker():
        for kind in kinds:
            broker = Broker(kind, tmp / kind)
            stack = Stack(broker, tmp / kind, worker_delay, pool, visibility, lost_wait)
            stacks[kind] = stack.start()

    def close_all() -> None:
        for stack in stacks.values():
            stack.close()
        shutil.rmtree(tmp, ignore_errors=True)

    atexit.register(close_all)
    return stacks
