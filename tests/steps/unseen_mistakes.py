"""Mistakes nobody tuned the messages to: the learner loop's honest test set.

tests/steps/mistakes.py lists the classic mistakes, and every message is tuned
to them. These were written afterwards, as a new user would make them, before
any message was changed for them (issues 20 and 22; FRESH, steps 3-9): what `workshop check`
says first for each is a measure of the loop, not a promise. Each row is an
edit of checkpoint N's app (the same `Mistake`/`Edit` shape; an Edit whose
file does not exist creates it) and a `verdict` words the first line must
contain to name the fix, or () when green is the right answer.

    python tests/steps/unseen_mistakes.py         # every first line, 2 at a time
    python tests/steps/unseen_mistakes.py 1 4     # only the mistakes of steps 1, 4
    python tests/steps/unseen_mistakes.py later   # the ten of LATER (issue 22)
    python tests/steps/unseen_mistakes.py fresh   # the twelve of FRESH (steps 3-9)

It costs one suite run per mistake: it is a script an author runs, not part of
the default test run (tests/workshop/test_unseen_mistakes.py runs a handful).
This module is not a suite (no `test_` prefix): the runner never collects it.
"""

# ruff: noqa: E501  (a table of code edits: the lines are the code)
from __future__ import annotations

import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mistakes import ROOT, Edit, Mistake, apply, first_line

WELCOME_1 = "background_tasks.add_task(send_welcome_email, subscriber)"
RETURN_1 = '    return subscriber\n\n\n@app.get("/subscribers"'
ADMIN_2 = (
    "background_tasks.add_task(notify_admin, subscriber.email, name=subscriber.name)"
)
AUDIT_3 = (
    'background_tasks.add_task(write_audit_entry, db, "subscribed", subscriber.email)'
)
AUDIT_DEP_4 = """\
    detail = f"{request.method} {request.url.path}"
    background_tasks.add_task(write_audit_entry, db, "request", detail)
"""
AWAIT_ADMIN = "    await send_email_async(\n        settings.admin_email,"
# the digest endpoint's head at step 7 (the import endpoint has the same body)
DIGEST_7 = (
    "def start_digest(\n    db: DbDep, background_tasks: BackgroundTasks, "
    "response: Response\n) -> Job:\n    job_id = str(uuid4())\n"
)

UNSEEN: list[Mistake] = [
    Mistake(
        1,
        "misspells the task's name: add_task(send_welcom_email, ...)",
        (Edit("main.py", WELCOME_1, WELCOME_1.replace("welcome", "welcom")),),
        ("app/main.py:", "send_welcom_email", "define"),
    ),
    Mistake(
        1,
        "asks for input() in the path operation",
        (
            Edit(
                "main.py",
                "    subscriber = Subscriber(**row)\n",
                "    subscriber = Subscriber(**row)\n    input('go on? ')\n",
            ),
        ),
        ("app/main.py:", "input("),
    ),
    Mistake(
        1,
        "drops a comma in the SQL schema",
        (
            Edit(
                "db.py",
                "    email TEXT NOT NULL UNIQUE,\n",
                "    email TEXT NOT NULL UNIQUE\n",
            ),
        ),
        ("app/db.py", "syntax error"),
    ),
    Mistake(
        1,
        "returns before adding the task",
        (
            Edit(
                "main.py",
                f"    {WELCOME_1}  # runs after the response\n    return subscriber\n",
                f"    return subscriber\n    {WELCOME_1}\n",
            ),
        ),
        ("add_task", "before"),
    ),
    Mistake(
        1,
        "forgets status_code=201",
        (
            Edit(
                "main.py",
                '    status_code=201,\n    summary="Subscribe',
                '    summary="Subscribe',
            ),
        ),
        ("201", "status_code=201"),
    ),
    Mistake(
        1,
        "sleeps in the path operation before answering",
        (
            Edit(
                "main.py",
                "    subscriber = Subscriber(**row)\n",
                "    subscriber = Subscriber(**row)\n    __import__('time').sleep(2)\n",
            ),
        ),
        ("app/main.py:", "sleep"),
    ),
    Mistake(
        1,
        "passes the SubscriberIn, not the saved Subscriber",
        (
            Edit(
                "main.py",
                WELCOME_1,
                "background_tasks.add_task(send_welcome_email, new)",
            ),
        ),
        (),  # both have .email and .name: the same email goes out; green is right
    ),
    Mistake(
        2,
        "makes a fresh BackgroundTasks() in the handler",
        (
            Edit(
                "main.py",
                f"    {ADMIN_2}\n",
                f"    BackgroundTasks().{ADMIN_2.removeprefix('background_tasks.')}\n",
            ),
        ),
        ("BackgroundTasks()", "background_tasks"),
    ),
    Mistake(
        2,
        "time.sleep inside the async def task",
        (
            Edit(
                "tasks.py",
                "from app.config import settings\n",
                "import time\n\nfrom app.config import settings\n",
            ),
            Edit("tasks.py", AWAIT_ADMIN, "    time.sleep(0.05)\n" + AWAIT_ADMIN),
        ),
        ("app/tasks.py:", "async def", "sleep"),
    ),
    Mistake(
        2,
        "misspells the keyword: nam=subscriber.name",
        (Edit("main.py", "name=subscriber.name", "nam=subscriber.name"),),
        ("notify_admin()", "agree"),
    ),
    Mistake(
        2,
        "forgets the import of notify_admin",
        (
            Edit(
                "main.py",
                "from app.tasks import notify_admin, send_welcome_email",
                "from app.tasks import send_welcome_email",
            ),
        ),
        ("import or define notify_admin",),
    ),
    Mistake(
        3,
        "swaps the audit entry's event and detail",
        (
            Edit(
                "main.py",
                AUDIT_3,
                'background_tasks.add_task(write_audit_entry, db, subscriber.email, "subscribed")',
            ),
        ),
        ("subscribed", "event"),
    ),
    Mistake(
        3,
        "drops the audit table from the schema",
        (
            Edit(
                "db.py",
                "CREATE TABLE IF NOT EXISTS audit (",
                "CREATE TABLE IF NOT EXISTS audits (",
            ),
        ),
        ("app/", "no such table: audit"),
    ),
    Mistake(
        4,
        "calls the dependency: Depends(audit_request())",
        (
            Edit(
                "main.py",
                "    dependencies=[Depends(audit_request)],\n)\ndef subscribe",
                "    dependencies=[Depends(audit_request())],\n)\ndef subscribe",
            ),
        ),
        ("app/main.py:", "Depends(audit_request)"),
    ),
    Mistake(
        4,
        "adds the task after yield in the dependency",
        (
            Edit(
                "main.py",
                AUDIT_DEP_4,
                '    detail = f"{request.method} {request.url.path}"\n    yield\n'
                '    background_tasks.add_task(write_audit_entry, db, "request", detail)\n',
            ),
        ),
        ("yield", "before"),
    ),
    Mistake(
        4,
        "makes its own BackgroundTasks() in the dependency",
        (
            Edit(
                "main.py",
                '    background_tasks.add_task(write_audit_entry, db, "request", detail)',
                '    BackgroundTasks().add_task(write_audit_entry, db, "request", detail)',
            ),
        ),
        ("BackgroundTasks()", "background_tasks"),
    ),
    Mistake(
        4,
        "logs the full URL with its query: str(request.url)",
        (Edit("main.py", "{request.url.path}", "{request.url!s}"),),
        ("request.url.path",),
    ),
    Mistake(
        5,
        "catches the wrong exception in the retry loop",
        (
            Edit(
                "tasks.py",
                "        except MailError as error:  # caught here",
                "        except ConnectionError as error:  # caught here",
            ),
        ),
        ("MailError",),
    ),
    Mistake(
        5,
        "tries only once: MAX_ATTEMPTS = 1",
        (Edit("tasks.py", "MAX_ATTEMPTS = 3", "MAX_ATTEMPTS = 1"),),
        ("MAX_ATTEMPTS", "attempt"),
    ),
    Mistake(
        5,
        "retries without returning after a success",
        (Edit("tasks.py", "            )\n            return\n", "            )\n"),),
        ("return", "sent"),
    ),
    Mistake(
        6,
        'misspells the scope: scope="functon"',
        (Edit("db.py", 'get_db, scope="function"', 'get_db, scope="functon"'),),
        ("app/db.py", "scope", "function"),
    ),
    Mistake(
        6,
        "opens its own connection but never commits",
        (
            Edit(
                "tasks.py",
                '    with closing(connect()) as db, db:\n        db.execute("INSERT INTO audit',
                '    with closing(connect()) as db:\n        db.execute("INSERT INTO audit',
            ),
        ),
        ("commit", "with"),
    ),
    Mistake(
        7,
        "binds the UUID itself in GET /jobs",
        (Edit("main.py", "(str(job_id),)).fetchone()", "(job_id,)).fetchone()"),),
        ("app/main.py:", "UUID", "plain value"),
    ),
    Mistake(
        7,
        "never commits the job row",
        (
            Edit(
                "main.py",
                DIGEST_7 + "    with db:",
                DIGEST_7 + "    if db:",
            ),
        ),
        ("commit", "with db"),
    ),
    Mistake(
        7,
        "sets the job done before sending",
        (
            Edit(
                "tasks.py",
                'how it went."""\n    _set_job(job_id, "running")\n',
                'how it went."""\n    _set_job(job_id, "done")\n',
            ),
        ),
        ("running",),
    ),
    Mistake(
        8,
        "names the Celery app queue, not celery",
        (
            Edit("worker.py", "celery = Celery(", "queue = Celery("),
            Edit(
                "worker.py",
                "celery.conf.task_ignore_result",
                "queue.conf.task_ignore_result",
            ),
            Edit(
                "worker.py",
                "    celery.conf.broker_transport_options",
                "    queue.conf.broker_transport_options",
            ),
            Edit("worker.py", "@celery.task\ndef welcome", "@queue.task\ndef welcome"),
            Edit(
                "worker.py",
                "@celery.task\ndef send_digest",
                "@queue.task\ndef send_digest",
            ),
            Edit(
                "worker.py",
                "@celery.task\ndef import_subscribers",
                "@queue.task\ndef import_subscribers",
            ),
        ),
        (),  # `celery -A app.worker` finds any Celery app: green is right
    ),
    Mistake(
        8,
        "leaves @celery.task off the digest task",
        (Edit("worker.py", "@celery.task\ndef send_digest", "def send_digest"),),
        ("app/main.py:", "@celery.task"),
    ),
    Mistake(
        8,
        "calls the async task without asyncio.run in the worker",
        (
            Edit(
                "worker.py",
                "    asyncio.run(tasks.notify_admin(email, name=name))",
                "    tasks.notify_admin(email, name=name)",
            ),
        ),
        ("never awaited", "asyncio.run"),
    ),
]


# Ten more for steps 1-7 (issue 22), written before any message was changed
# for them, as a check that the loop's messages come from mechanisms (what the
# app raised, what ran) and not from strings tuned to the rows above.
RETRY_LOOP_5 = """\
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            send_email(
                subscriber.email,
                "Welcome to the newsletter!",
                f"Hi {subscriber.name}, thanks for subscribing.",
            )
            return
        except MailError as error:  # caught here, so the next tasks still run
            logger.warning("welcome email, attempt %d: %s", attempt, error)
    logger.error("welcome email to %s: gave up", subscriber.email)
"""
SEND_ONCE_5 = """\
    send_email(
        subscriber.email,
        "Welcome to the newsletter!",
        f"Hi {subscriber.name}, thanks for subscribing.",
    )
"""
READ_ROW_6 = """\
    with closing(connect()) as db:  # our own connection, not the request's
        row = db.execute(
            "SELECT * FROM subscribers WHERE id = ?", (subscriber_id,)
        ).fetchone()
"""
READ_AFTER_CLOSE_6 = """\
    with closing(connect()) as db:  # our own connection, not the request's
        cursor = db.execute("SELECT * FROM subscribers WHERE id = ?", (subscriber_id,))
    row = cursor.fetchone()
"""
INSERT_JOB_7 = """\
    with db:
        row = db.execute(
            "INSERT INTO jobs (id, status) VALUES (?, 'pending') RETURNING *",
            (job_id,),
        ).fetchone()
"""
JOB_IN_DICT_7 = """\
    row = JOBS[job_id] = {"id": job_id, "status": "pending", "created_at": datetime.now()}
"""
IMPORT_7 = (
    "def start_import(\n    file: UploadFile, db: DbDep, background_tasks: "
    "BackgroundTasks, response: Response\n) -> Job:\n    job_id = str(uuid4())\n"
)
SET_JOB_7 = """\
def _set_job(job_id: str, status: str, detail: str | None = None) -> None:
    with closing(connect()) as db, db:
        db.execute(
            "UPDATE jobs SET status = ?, detail = ? WHERE id = ?",
            (status, detail, job_id),
        )
"""
SET_JOB_IN_DICT_7 = """\
JOBS: dict[str, dict] = {}  # job id -> the job


def _set_job(job_id: str, status: str, detail: str | None = None) -> None:
    JOBS[job_id].update(status=status, detail=detail)
"""

LATER: list[Mistake] = [
    Mistake(
        1,
        "types the parameter BackgroundTask (no s), imported from starlette",
        (
            Edit(
                "main.py",
                "from fastapi.responses import RedirectResponse\n",
                "from fastapi.responses import RedirectResponse\n"
                "from starlette.background import BackgroundTask\n",
            ),
            Edit(
                "main.py",
                "background_tasks: BackgroundTasks\n",
                "background_tasks: BackgroundTask\n",
            ),
        ),
        ("app/main.py:", "BackgroundTasks"),
    ),
    Mistake(
        1,
        "forgets to return the subscriber",
        (Edit("main.py", RETURN_1, '\n\n@app.get("/subscribers"'),),
        ("app/main.py:", "return"),
    ),
    Mistake(
        2,
        "runs the mail coroutine with asyncio.run inside the async task",
        (
            Edit(
                "tasks.py",
                "from app.config import settings\n",
                "import asyncio\n\nfrom app.config import settings\n",
            ),
            Edit(
                "tasks.py",
                AWAIT_ADMIN,
                "    asyncio.run(send_email_async(\n        settings.admin_email,",
            ),
            Edit(
                "tasks.py",
                'just subscribed."\n    )\n',
                'just subscribed."\n    ))\n',
            ),
        ),
        ("app/tasks.py:", "asyncio.run", "await"),
    ),
    Mistake(
        3,
        "writes one placeholder for two columns in the audit INSERT",
        (
            Edit(
                "tasks.py",
                "(event, detail) VALUES (?, ?)",
                "(event, detail) VALUES (?)",
            ),
        ),
        ("app/tasks.py:", "values for 2 columns"),
    ),
    Mistake(
        4,
        "leaves the Request annotation off the dependency's request",
        (
            Edit(
                "main.py",
                "def audit_request(\n    request: Request, db: DbDep,",
                "def audit_request(\n    request, db: DbDep,",
            ),
        ),
        ("app/main.py:", "request: Request"),
    ),
    Mistake(
        4,
        "returns a JSONResponse with its own background= for the welcome email",
        (
            Edit(
                "main.py",
                "from fastapi.responses import RedirectResponse\n",
                "from fastapi.responses import JSONResponse, RedirectResponse\n"
                "from starlette.background import BackgroundTask\n",
            ),
            Edit(
                "main.py",
                "    background_tasks.add_task(send_welcome_email, subscriber)\n",
                "",
            ),
            Edit(
                "main.py",
                "    return subscriber\n",
                '    return JSONResponse(\n        subscriber.model_dump(mode="json"),\n'
                "        status_code=201,\n"
                "        background=BackgroundTask(send_welcome_email, subscriber),\n"
                "    )\n",
            ),
        ),
        ("background=", "background_tasks"),
    ),
    Mistake(
        5,
        "catches the MailError around add_task in the endpoint, not in the task",
        (
            Edit("tasks.py", RETRY_LOOP_5, SEND_ONCE_5),
            Edit(
                "main.py",
                "from app.db import DbDep, init_db\n",
                "from app.db import DbDep, init_db\nfrom app.mailer import MailError\n",
            ),
            Edit(
                "main.py",
                "    background_tasks.add_task(send_welcome_email, subscriber)\n",
                "    try:\n"
                "        background_tasks.add_task(send_welcome_email, subscriber)\n"
                "    except MailError:\n"
                "        pass  # a refused email must not stop the other tasks\n",
            ),
        ),
        ("app/", "MailError", "inside the task"),
    ),
    Mistake(
        6,
        "gives the task the email where it wants the id",
        (
            Edit(
                "main.py",
                "add_task(send_welcome_email, subscriber.id)",
                "add_task(send_welcome_email, subscriber.email)",
            ),
        ),
        ("send_welcome_email", "subscriber.id"),
    ),
    Mistake(
        6,
        "reads the row after the task's connection is closed",
        (Edit("tasks.py", READ_ROW_6, READ_AFTER_CLOSE_6),),
        ("app/tasks.py:", "closed database", "inside"),
    ),
    Mistake(
        7,
        "keeps the jobs in a Python dict",
        (
            Edit("tasks.py", SET_JOB_7, SET_JOB_IN_DICT_7),
            Edit(
                "main.py",
                "from contextlib import asynccontextmanager\n",
                "from contextlib import asynccontextmanager\nfrom datetime import datetime\n",
            ),
            Edit(
                "main.py",
                "from app.tasks import (\n",
                "from app.tasks import (\n    JOBS,\n",
            ),
            Edit("main.py", DIGEST_7 + INSERT_JOB_7, DIGEST_7 + JOB_IN_DICT_7),
            Edit("main.py", IMPORT_7 + INSERT_JOB_7, IMPORT_7 + JOB_IN_DICT_7),
            Edit(
                "main.py",
                '    row = db.execute("SELECT * FROM jobs WHERE id = ?", (str(job_id),)).fetchone()\n',
                "    row = JOBS.get(str(job_id))\n",
            ),
        ),
        ("jobs", "database"),
    ),
]
# Twelve more for steps 3-9, seven of them with Celery (steps 8-9): written,
# and their first lines recorded, before any message was changed for them.
SUBSCRIBE_8 = "def subscribe(new: SubscriberIn, db: DbDep) -> Subscriber:"
WELCOME_8 = "    welcome.delay(subscriber.id, subscriber.email, subscriber.name)\n"
EXCEPT_TRYLATER_9 = """\
            except TryLater as error:
                if not last_try:
                    _set_job(job_id, "running", f"will try again: {error}")
                    raise  # Celery runs the job again later (autoretry_for)
                failed.append(f"{email} ({error})")
            except MailError as error:
                logger.warning("digest: %s", error)
                failed.append(f"{email} ({error})")
"""
EXCEPT_MAILERROR_FIRST_9 = """\
            except MailError as error:
                logger.warning("digest: %s", error)
                failed.append(f"{email} ({error})")
            except TryLater as error:
                if not last_try:
                    _set_job(job_id, "running", f"will try again: {error}")
                    raise  # Celery runs the job again later (autoretry_for)
                failed.append(f"{email} ({error})")
"""
FAIL_DIGEST_9 = """\
    except OperationalError as error:  # the broker did not answer
        with db:  # no job may stay "pending" for ever
            db.execute(
                "UPDATE jobs SET status = 'failed', detail = ? WHERE id = ?",
                (f"never queued: {error}", job_id),
            )
"""
FAIL_DIGEST_NO_COMMIT_9 = """\
    except OperationalError as error:  # the broker did not answer
        db.execute(  # no job may stay "pending" for ever
            "UPDATE jobs SET status = 'failed', detail = ? WHERE id = ?",
            (f"never queued: {error}", job_id),
        )
"""

FRESH: list[Mistake] = [
    Mistake(
        3,
        "forgets the db argument of the audit task",
        (
            Edit(
                "main.py",
                AUDIT_3,
                'background_tasks.add_task(write_audit_entry, "subscribed", subscriber.email)',
            ),
        ),
        ("write_audit_entry", "db"),
    ),
    Mistake(
        4,
        "logs only the path, without the method",
        (
            Edit(
                "main.py",
                'detail = f"{request.method} {request.url.path}"',
                'detail = f"{request.url.path}"',
            ),
        ),
        ("request.method",),
    ),
    Mistake(
        5,
        "loops range(1, MAX_ATTEMPTS): one attempt short",
        (
            Edit(
                "tasks.py",
                "range(1, MAX_ATTEMPTS + 1)",
                "range(1, MAX_ATTEMPTS)",
            ),
        ),
        ("MAX_ATTEMPTS", "attempt"),
    ),
    Mistake(
        6,
        "drops the comma of the one-value tuple: (subscriber_id)",
        (
            Edit(
                "tasks.py",
                '"SELECT * FROM subscribers WHERE id = ?", (subscriber_id,)',
                '"SELECT * FROM subscribers WHERE id = ?", (subscriber_id)',
            ),
        ),
        ("app/tasks.py:", "tuple"),
    ),
    Mistake(
        7,
        "leaves out the 404 of GET /jobs/{job_id}",
        (
            Edit(
                "main.py",
                '    if row is None:\n        raise HTTPException(404, f"No job with id {job_id}")\n',
                "",
            ),
        ),
        ("404",),
    ),
    Mistake(
        8,
        "sends welcome.delay its arguments in the wrong order",
        (
            Edit(
                "main.py",
                WELCOME_8,
                "    welcome.delay(subscriber.email, subscriber.id, subscriber.name)\n",
            ),
        ),
        ("app/main.py:", "subscriber_id"),
    ),
    Mistake(
        8,
        "sends the message from a background task: add_task(welcome.delay, ...)",
        (
            Edit(
                "main.py",
                SUBSCRIBE_8,
                "def subscribe(\n    new: SubscriberIn, db: DbDep, background_tasks: BackgroundTasks\n) -> Subscriber:",
            ),
            Edit(
                "main.py",
                WELCOME_8,
                "    background_tasks.add_task(\n"
                "        welcome.delay, subscriber.id, subscriber.email, subscriber.name\n"
                "    )\n",
            ),
        ),
        (),  # the message still leaves, right after the answer: green is right
    ),
    Mistake(
        9,
        "catches MailError before TryLater (a TryLater is a MailError)",
        (Edit("tasks.py", EXCEPT_TRYLATER_9, EXCEPT_MAILERROR_FIRST_9),),
        ("TryLater", "MailError", "before"),
    ),
    Mistake(
        9,
        "retries without retry_backoff (Celery's default: 3 minutes)",
        (
            Edit(
                "worker.py",
                "autoretry_for=(TryLater,), retry_backoff=1, retry_jitter=False,",
                "autoretry_for=(TryLater,), retry_jitter=False,",
            ),
        ),
        ("retry_backoff",),
    ),
    Mistake(
        9,
        "claims without the WHERE: ON CONFLICT DO UPDATE takes every row",
        (
            Edit(
                "mailer.py",
                "            \" WHERE status = 'failed' OR (status = 'sending' AND claimed_at < ?)\"\n",
                "",
            ),
            Edit(
                "mailer.py",
                "(job_id, to, subject, body, now, now - settings.mail_timeout)",
                "(job_id, to, subject, body, now)",
            ),
        ),
        ("claim", "WHERE"),
    ),
    Mistake(
        9,
        "catches sqlite3's OperationalError, not kombu's",
        (
            Edit(
                "main.py",
                "from kombu.exceptions import OperationalError\n",
                "",
            ),
            Edit(
                "main.py",
                "import sqlite3\n",
                "import sqlite3\nfrom sqlite3 import OperationalError\n",
            ),
        ),
        ("kombu", "OperationalError"),
    ),
    Mistake(
        9,
        "marks the job failed without `with db:` before the 503",
        (Edit("main.py", FAIL_DIGEST_9, FAIL_DIGEST_NO_COMMIT_9),),
        ("commit", "with db"),
    ),
]
ALL = UNSEEN + LATER + FRESH


def first_message(mistake: Mistake, into: Path) -> tuple[str, str]:
    """(the check, its whole message) that `workshop check` shows first for step
    N with this mistake: as tests/steps/mistakes.py does."""
    from workshop.checks.suites import run_suites
    from workshop.checks.summary import first_problem
    from workshop.commands.verify import AUTHOR_LIMITS

    app = apply(mistake, into)
    try:
        [result] = run_suites(ROOT, app, [mistake.step], limits=AUTHOR_LIMITS)
    except Exception as error:  # the tool itself failed: that is a finding
        frames = traceback.extract_tb(error.__traceback__)
        where = " at " + ", ".join(
            f"{Path(f.filename).name}:{f.lineno}" for f in frames[-3:]
        )
        return (
            "(the tool failed)",
            f"TOOL TRACEBACK: {type(error).__name__}: {error}{where}",
        )
    problem = first_problem(result) if not result.ok else None
    if problem is None:
        return "", ""
    return problem["check"] or "(app/ does not load)", problem["message"] or ""


def timed_first_message(mistake: Mistake, into: Path) -> tuple[str, str, float]:
    """first_message, and the seconds it took (two run side by side: compare
    rows of one run, not runs)."""
    start = time.perf_counter()
    check, message = first_message(mistake, into)
    return check, message, time.perf_counter() - start


def verdict(mistake: Mistake, line: str) -> str:
    """'names the fix', 'left green', 'green, rightly', 'tool traceback' or
    'does not name it' (misleading or partial: read the line)."""
    if line.startswith("TOOL TRACEBACK") or "INTERNALERROR" in line:
        return "tool traceback"
    if line.startswith("the checks themselves stopped"):
        return "tool failure (one line)"
    if not line:
        return "green, rightly" if not mistake.names else "left green"
    if not mistake.names:
        return "red, wrongly"
    if all(words in line for words in mistake.names):
        return "names the fix"
    return "does not name it"


def main(steps: set[int], table: str = "") -> None:
    import tempfile

    pool = {"later": LATER, "fresh": FRESH}.get(table, UNSEEN)
    chosen = [m for m in pool if not steps or m.step in steps]
    with tempfile.TemporaryDirectory(prefix="unseen-") as name:
        folders = [Path(name) / str(i) for i in range(len(chosen))]
        with ThreadPoolExecutor(max_workers=2) as pool:
            found = list(pool.map(timed_first_message, chosen, folders))
    counts: dict[str, int] = {}
    for mistake, (_check, message, seconds) in zip(chosen, found, strict=True):
        line = first_line(message)
        kind = verdict(mistake, line)
        counts[kind] = counts.get(kind, 0) + 1
        print(
            f"| {mistake.step} | {mistake.what} | {kind} | `` {line} `` | {seconds:.0f} s |"
        )
    print("\n" + ", ".join(f"{kind}: {n}" for kind, n in sorted(counts.items())))


if __name__ == "__main__":
    args = sys.argv[1:]
    tables = [arg for arg in args if arg in ("later", "fresh")]
    main({int(arg) for arg in args if arg.isdigit()}, tables[0] if tables else "")
