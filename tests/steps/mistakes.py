"""The classic mistakes of each step, as edits of that step's checkpoint.

Each `Mistake` is what a learner does wrong at step N, written as edits of
checkpoints/step-N/app (an exact text replaced once, or a file deleted), and
the words the first line of `workshop check`'s message must contain: the fix.
`tests/workshop/test_mistakes.py` applies each one to a copy of the
checkpoint, runs step N's suite on it (supervised, as `workshop check` does)
and asserts that; it also asserts that docs/MISTAKES.md is current.

    python tests/steps/mistakes.py        # rewrite docs/MISTAKES.md

This module is not a suite (no `test_` prefix): the runner never collects it.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "MISTAKES.md"
# The page below this line is written by hand and kept when the table is
# rewritten.
KEPT = "<!-- the table ends here; what follows is kept as written -->"


@dataclass(frozen=True)
class Edit:
    """In app/`path`, replace `old` (found exactly once) by `new`; new=None
    deletes the file; a file that does not exist (old="") is created."""

    path: str
    old: str = ""
    new: str | None = ""


@dataclass(frozen=True)
class Mistake:
    step: int
    what: str  # the mistake, as an instructor would name it
    edits: tuple[Edit, ...]
    names: tuple[str, ...]  # the first message line contains each of these

    @property
    def key(self) -> str:
        return f"{self.step}: {self.what}"


WELCOME_1 = "background_tasks.add_task(send_welcome_email, subscriber)"
IMPORT_TASK_7 = "background_tasks.add_task(import_subscribers, job_id, file.file)"
ADMIN_TASK = (
    "background_tasks.add_task(notify_admin, subscriber.email, name=subscriber.name)"
)
AUDIT_3 = (
    'background_tasks.add_task(write_audit_entry, db, "subscribed", subscriber.email)'
)
AWAIT_ADMIN = "    await send_email_async(\n        settings.admin_email,"
DEPENDENCY_4 = 'background_tasks.add_task(write_audit_entry, db, "request", detail)'
RETRIES = "    for attempt in range(1, MAX_ATTEMPTS + 1):\n"
FOREVER = "    attempt = 0\n    while True:  # until it is sent\n        attempt += 1\n"
GAVE_UP = '    logger.error("welcome email to %s: gave up", subscriber.email)\n'
LIST_GET = (
    '    summary="List the subscribers",\n    dependencies=[Depends(audit_request)],\n'
)
OWN_CONNECTION = (
    "    with closing(connect()) as db:  # our own connection, not the request's\n"
)
LOAD_BY_ID = (
    OWN_CONNECTION
    + "        row = db.execute(\n"
    + '            "SELECT * FROM subscribers WHERE id = ?", (subscriber_id,)\n'
    + "        ).fetchone()\n"
    + "    if row is None:\n"
    + "        return  # gone by the time the task ran\n"
    + "    subscriber = Subscriber(**row)\n"
)
LOCATION = (
    '    response.headers["Location"] = f"/jobs/{job_id}"  # where to follow it\n'
)
DIGEST_7 = """\
    _set_job(job_id, "running")
    try:
        with closing(connect()) as db:
            emails = [
                row["email"] for row in db.execute("SELECT email FROM subscribers")
            ]
        failed = []
        for email in emails:
            try:
                send_email(email, "Your newsletter digest", "Here is what is new.")
            except MailError as error:
                logger.warning("digest: %s", error)
                failed.append(email)
        summary = f"sent to {len(emails) - len(failed)} of {len(emails)} subscribers"
        _set_job(job_id, "failed" if failed else "done", summary)
    except Exception:  # a job must never stay "running" forever
        logger.exception("digest job %s", job_id)
        _set_job(job_id, "failed", "unexpected error, see the server log")
"""
DIGEST_NO_CATCH_ALL = """\
    _set_job(job_id, "running")
    with closing(connect()) as db:
        emails = [row["email"] for row in db.execute("SELECT email FROM subscribers")]
    failed = []
    for email in emails:
        try:
            send_email(email, "Your newsletter digest", "Here is what is new.")
        except MailError as error:
            logger.warning("digest: %s", error)
            failed.append(email)
    summary = f"sent to {len(emails) - len(failed)} of {len(emails)} subscribers"
    _set_job(job_id, "failed" if failed else "done", summary)
"""

SET_JOB_RAISE = (
    "                    raise  # Celery runs the job again later (autoretry_for)\n"
)
JOBS_MODULE = '''\
"""The digest job, beside the worker (a module the worker never imports)."""

from app import tasks
from app.worker import celery


@celery.task
def send_digest(job_id: str) -> None:
    tasks.send_digest(job_id)
'''
DIGEST_TASK_8 = '''

@celery.task
def send_digest(job_id: str) -> None:
    """The step 7 task, unchanged."""
    tasks.send_digest(job_id)
'''
CLAIM_LOOP = """\
    while (email_id := _claim(job_id, to, subject, body)) is None:
        if _sent(job_id, to):
            return  # an earlier run of this job, or one beside it, sent it
        time.sleep(0.1)  # another run is sending it right now: wait for it
"""
READ_THEN_SEND = """\
    if _claim(job_id, to, subject, body) is None and _sent(job_id, to):
        return  # read, then act: a run beside this one may be sending it too
    with closing(connect()) as db:
        query = "SELECT id FROM outbox WHERE job_id = ? AND recipient = ?"
        email_id = db.execute(query, (job_id, to)).fetchone()["id"]
"""
CATCH_503 = """\
    try:
        send_digest.delay(job_id)  # a message to the broker; a worker runs it
    except OperationalError as error:  # the broker did not answer
        with db:  # no job may stay "pending" for ever
            db.execute(
                "UPDATE jobs SET status = 'failed', detail = ? WHERE id = ?",
                (f"never queued: {error}", job_id),
            )
        raise HTTPException(503, "The job queue is not answering, try again") from None
"""

MISTAKES: list[Mistake] = [
    Mistake(
        1,
        "passes a call to add_task: add_task(send_welcome_email(subscriber))",
        (
            Edit(
                "main.py",
                WELCOME_1,
                "background_tasks.add_task(send_welcome_email(subscriber))",
            ),
        ),
        ("add_task(send_welcome_email, ", "not add_task(send_welcome_email("),
    ),
    Mistake(
        1,
        "calls the task inline instead of adding it",
        (Edit("main.py", WELCOME_1, "send_welcome_email(subscriber)"),),
        ("background_tasks.add_task",),
    ),
    Mistake(
        1,
        "forgets the import of BackgroundTasks",
        (
            Edit(
                "main.py",
                "from fastapi import BackgroundTasks, FastAPI",
                "from fastapi import FastAPI",
            ),
        ),
        ("app/main.py:", "import or define BackgroundTasks"),
    ),
    Mistake(
        1,
        "deletes app/__init__.py",
        (Edit("__init__.py", new=None),),
        ("app/__init__.py is missing: create it",),
    ),
    Mistake(
        1,
        "calls sys.exit() at import",
        (
            Edit(
                "main.py",
                '"""\n\nimport sqlite3',
                '"""\n\nimport sqlite3\nimport sys\n\nsys.exit(3)',
            ),
        ),
        ("calls sys.exit(3)", "do not exit at import"),
    ),
    Mistake(
        2,
        "forgets `await` before send_email_async",
        (
            Edit(
                "tasks.py",
                AWAIT_ADMIN,
                "    send_email_async(\n        settings.admin_email,",
            ),
        ),
        ("never awaited", "await send_email_async"),
    ),
    Mistake(
        2,
        "blocks inside async def: calls the sync send_email",
        (
            Edit(
                "tasks.py",
                AWAIT_ADMIN,
                "    send_email(\n        settings.admin_email,",
            ),
        ),
        ("blocked the event loop", "await send_email_async"),
    ),
    Mistake(
        2,
        "writes notify_admin as a plain def",
        (
            Edit("tasks.py", "async def notify_admin", "def notify_admin"),
            Edit(
                "tasks.py",
                AWAIT_ADMIN,
                "    send_email(\n        settings.admin_email,",
            ),
        ),
        ("async def notify_admin",),
    ),
    Mistake(
        2,
        "passes the keyword-only name positionally",
        (
            Edit(
                "main.py",
                "subscriber.email, name=subscriber.name",
                "subscriber.email, subscriber.name",
            ),
        ),
        ("notify_admin()", "add_task(...) call agree"),
    ),
    Mistake(
        3,
        "adds the admin notice before the welcome email",
        (
            Edit(
                "main.py",
                f"    {WELCOME_1}\n    {ADMIN_TASK}\n",
                f"    {ADMIN_TASK}\n    {WELCOME_1}\n",
            ),
        ),
        ("admin notice", "before the welcome email", "add_task"),
    ),
    Mistake(
        3,
        "adds the audit entry before the admin notice",
        (
            Edit(
                "main.py",
                f"    {ADMIN_TASK}\n    {AUDIT_3}\n",
                f"    {AUDIT_3}\n    {ADMIN_TASK}\n",
            ),
        ),
        ("audit entry", "before the admin notice", "add_task"),
    ),
    Mistake(
        3,
        "writes the audit entry without `with db:` (never committed)",
        (
            Edit(
                "tasks.py",
                '    with db:\n        db.execute("INSERT INTO audit',
                '    if db:\n        db.execute("INSERT INTO audit',
            ),
        ),
        ("never committed", "inside `with db:`"),
    ),
    Mistake(
        4,
        "writes the audit entry inline in the dependency",
        (Edit("main.py", DEPENDENCY_4, 'write_audit_entry(db, "request", detail)'),),
        ("inside the request", "add_task(write_audit_entry"),
    ),
    Mistake(
        4,
        "writes {request.url} instead of {request.url.path}",
        (Edit("main.py", "{request.url.path}", "{request.url}"),),
        ("'POST http://", "request.url.path"),
    ),
    Mistake(
        4,
        "leaves the dependency off GET /subscribers",
        (Edit("main.py", LIST_GET, '    summary="List the subscribers",\n'),),
        ("GET /subscribers", "dependencies=[Depends(audit_request)]"),
    ),
    Mistake(
        5,
        "retries forever: a retry loop that never stops",
        (Edit("tasks.py", RETRIES, FOREVER),),
        ("retries never stop", "MAX_ATTEMPTS"),
    ),
    Mistake(
        5,
        "lets the MailError escape the task after the last attempt",
        (
            Edit(
                "tasks.py",
                GAVE_UP,
                '    raise MailError(f"gave up on {subscriber.email}")\n',
            ),
        ),
        ("MailError escaped", "later tasks", "catch it inside the task"),
    ),
    Mistake(
        6,
        "uses the request's connection in a task",
        (
            Edit(
                "main.py",
                "add_task(send_welcome_email, subscriber.id)",
                "add_task(send_welcome_email, subscriber.id, db)",
            ),
            Edit(
                "tasks.py",
                "def send_welcome_email(subscriber_id: int)",
                "def send_welcome_email(subscriber_id: int, db)",
            ),
            Edit(
                "tasks.py", OWN_CONNECTION, "    if db:  # the request's connection\n"
            ),
        ),
        ("request's connection", "closing(connect())"),
    ),
    Mistake(
        6,
        "gives the task the Subscriber object instead of its id",
        (
            Edit(
                "main.py",
                "add_task(send_welcome_email, subscriber.id)",
                "add_task(send_welcome_email, subscriber)",
            ),
            Edit(
                "tasks.py",
                "def send_welcome_email(subscriber_id: int)",
                "def send_welcome_email(subscriber: Subscriber)",
            ),
            Edit(
                "tasks.py",
                LOAD_BY_ID,
                "",
            ),
        ),
        ("the id", "add_task(send_welcome_email, subscriber.id)"),
    ),
    Mistake(
        6,
        "passes the Subscriber object where the task wants its id",
        (
            Edit(
                "main.py",
                "add_task(send_welcome_email, subscriber.id)",
                "add_task(send_welcome_email, subscriber)",
            ),
        ),
        ("subscriber.id", "not the Subscriber"),
    ),
    Mistake(
        7,
        "answers 200 instead of 202 Accepted",
        (
            Edit(
                "main.py",
                '    status_code=202,\n    summary="Start emailing',
                '    summary="Start emailing',
            ),
        ),
        ("202", "status_code=202"),
    ),
    Mistake(
        7,
        "sends no Location header",
        (
            Edit(
                "main.py",
                LOCATION,
                "",
            ),
        ),
        ("Location", 'response.headers["Location"]'),
    ),
    Mistake(
        7,
        "drops the catch-all except of the digest job",
        (Edit("tasks.py", DIGEST_7, DIGEST_NO_CATCH_ALL),),
        ("running", "except Exception"),
    ),
    Mistake(
        7,
        "marks a digest with refused emails 'done'",
        (
            Edit(
                "tasks.py",
                '_set_job(job_id, "failed" if failed else "done", summary)',
                '_set_job(job_id, "done", summary)',
            ),
        ),
        ("ends 'done'", "mark the job 'failed'"),
    ),
    Mistake(
        7,
        "raises HTTPException after add_task when nobody is subscribed",
        (
            Edit(
                "main.py",
                "    background_tasks.add_task(send_digest, job_id)\n",
                "    background_tasks.add_task(send_digest, job_id)\n"
                '    if not db.execute("SELECT 1 FROM subscribers").fetchone():\n'
                '        raise HTTPException(409, "nobody to send the digest to")\n',
            ),
        ),
        ("answered 409", "HTTPException raised after add_task"),
    ),
    Mistake(
        7,
        "reads the upload in the path operation before the task",
        (
            Edit(
                "main.py",
                f"    {IMPORT_TASK_7}\n",
                "    if not file.file.read():\n"
                '        raise HTTPException(422, "the file is empty")\n'
                f"    {IMPORT_TASK_7}\n",
            ),
        ),
        ("found the file empty", "read it"),
    ),
    Mistake(
        8,
        "sends the UploadFile itself to .delay()",
        (
            Edit(
                "main.py",
                "import_subscribers.delay(job_id, str(path))",
                "import_subscribers.delay(job_id, file)",
            ),
        ),
        ("UploadFile cannot go to .delay()", "pass the worker its path"),
    ),
    Mistake(
        8,
        "calls send_digest(job_id) instead of send_digest.delay(job_id)",
        (Edit("main.py", "    send_digest.delay(job_id)", "    send_digest(job_id)"),),
        ("send_digest.delay(job_id)",),
    ),
    Mistake(
        8,
        "sends the Subscriber object: welcome.delay(subscriber)",
        (
            Edit(
                "main.py",
                "welcome.delay(subscriber.id, subscriber.email, subscriber.name)",
                "welcome.delay(subscriber)",
            ),
        ),
        ("app/main.py:", "welcome.delay(...)", "plain"),
    ),
    Mistake(
        8,
        "writes the SQLite broker URL with two slashes: sqla+sqlite://",
        (Edit("worker.py", 'f"sqla+sqlite:///{', 'f"sqla+sqlite://{'),),
        ("sqla+sqlite:///",),
    ),
    Mistake(
        8,
        "puts the digest task in a module the worker never imports",
        (
            Edit("worker.py", DIGEST_TASK_8, ""),
            Edit("jobs.py", "", JOBS_MODULE),
            Edit(
                "main.py",
                "from app.worker import import_subscribers, send_digest, welcome",
                "from app.jobs import send_digest\n"
                "from app.worker import import_subscribers, welcome",
            ),
        ),
        ("app.worker", "send_digest"),
    ),
    Mistake(
        8,
        "sends the digest's message before its job row is committed",
        (
            Edit(
                "main.py",
                "        ).fetchone()\n"
                "    # the row is committed first: the worker may pick the job up"
                " at once\n    send_digest.delay(job_id)",
                "        ).fetchone()\n        send_digest.delay(job_id)",
            ),
        ),
        ("before the job's row was committed", "after the `with db:` block"),
    ),
    Mistake(
        9,
        "drops the raise that makes Celery retry",
        (Edit("tasks.py", SET_JOB_RAISE, ""),),
        ("raise", "retry"),
    ),
    Mistake(
        9,
        "leaves task_acks_late off",
        (Edit("worker.py", "celery.conf.task_acks_late = True\n", ""),),
        ("task_acks_late = True",),
    ),
    Mistake(
        9,
        "leaves task_reject_on_worker_lost off",
        (Edit("worker.py", "celery.conf.task_reject_on_worker_lost = True", "#"),),
        ("task_reject_on_worker_lost = True",),
    ),
    Mistake(
        9,
        "keeps Celery's prefetch of four jobs per thread",
        (Edit("worker.py", "celery.conf.worker_prefetch_multiplier = 1\n", ""),),
        ("worker_prefetch_multiplier = 1",),
    ),
    Mistake(
        9,
        "keeps Redis's visibility timeout of an hour",
        (Edit("worker.py", '        "visibility_timeout": 10,\n', ""),),
        ("visibility_timeout",),
    ),
    Mistake(
        9,
        "reads, then sends: no atomic claim per email",
        (Edit("mailer.py", CLAIM_LOOP, READ_THEN_SEND),),
        ("atomic", "send_email_once"),
    ),
    Mistake(
        9,
        "keeps the stored upload of an import the broker never got",
        (Edit("main.py", "        path.unlink()  # delete the stored upload\n", ""),),
        ("delete the stored upload before the 503",),
    ),
    Mistake(
        9,
        "lets the broker's OperationalError out of POST /digests",
        (Edit("main.py", CATCH_503, "    send_digest.delay(job_id)\n"),),
        ("OperationalError", "503"),
    ),
]


def apply(mistake: Mistake, into: Path) -> Path:
    """Write checkpoint N's app with the mistake into `into`/app; return `into`."""
    app = into / "app"
    shutil.copytree(ROOT / "checkpoints" / f"step-{mistake.step}" / "app", app)
    for edit in mistake.edits:
        path = app / edit.path
        if edit.new is None:
            path.unlink()
            continue
        if not path.exists() and not edit.old:  # a new module
            path.write_text(edit.new, encoding="utf-8")
            continue
        text = path.read_text(encoding="utf-8")
        if text.count(edit.old) != 1:
            raise ValueError(
                f"{mistake.key}: not exactly once in app/{edit.path}: {edit.old!r}"
            )
        path.write_text(text.replace(edit.old, edit.new), encoding="utf-8")
    return into


def first_message(mistake: Mistake, into: Path) -> tuple[str, str]:
    """(the check, its whole message) that `workshop check` shows first for
    step N with this mistake; ("", "") when the step is green."""
    from workshop.checks.suites import run_suites
    from workshop.checks.summary import first_problem
    from workshop.commands.verify import AUTHOR_LIMITS

    # the authors' limits (30 s a test), as verify has: no mistake here needs
    # a limit to show, and a busy machine must not change the first line
    app = apply(mistake, into)
    [result] = run_suites(ROOT, app, [mistake.step], limits=AUTHOR_LIMITS)
    problem = first_problem(result) if not result.ok else None
    if problem is None:
        return "", ""
    return problem["check"] or "(app/ does not load)", problem["message"] or ""


def first_line(message: str) -> str:
    return message.splitlines()[0] if message else ""


def table(rows: list[tuple[Mistake, str, str]]) -> str:
    lines = [
        "# The classic mistakes, and what `workshop check` says first",
        "",
        "Written by `python tests/steps/mistakes.py` from the table in that file:",
        "each mistake is applied to a copy of its step's checkpoint and step N's",
        "checks are run on it, as `workshop check` runs them. The last column is the",
        "first line of the message the learner sees (after `path:line:`);",
        "`tests/workshop/test_mistakes.py` fails when it does not name the fix or when",
        "this page is out of date. Grep it for a message a learner reads out to you.",
        "",
        "| step | mistake | the check that fails | first message line |",
        "| --- | --- | --- | --- |",
    ]
    for mistake, check, message in rows:
        cells = [
            str(mistake.step),
            mistake.what,
            check,
            f"`` {message} ``" if message else "",  # `` : the line may hold a `
        ]
        cells = [cell.replace("|", "\\|") for cell in cells]
        lines.append("| " + " | ".join(cells) + " |")
    kept = DOC.read_text(encoding="utf-8").partition(KEPT)[2] if DOC.is_file() else ""
    return "\n".join([*lines, "", KEPT]) + (kept or "\n")


def documented() -> dict[str, tuple[str, str]]:
    """The rows of docs/MISTAKES.md as {key: (check, message line)}."""
    rows = {}
    if not DOC.is_file():
        return rows
    for line in DOC.read_text(encoding="utf-8").partition(KEPT)[0].splitlines():
        if not line.startswith("| ") or line.startswith(("| step", "| ---")):
            continue
        cells = [c.replace("\\|", "|").strip() for c in line[2:-2].split(" | ")]
        step, what, check, message = cells
        rows[f"{step}: {what}"] = (
            check,
            message.removeprefix("`` ").removesuffix(" ``"),
        )
    return rows


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="mistakes-") as name:
        folders = [Path(name) / str(i) for i in range(len(MISTAKES))]
        with ThreadPoolExecutor(max_workers=2) as pool:
            found = list(pool.map(first_message, MISTAKES, folders))
    rows = [
        (m, check, first_line(message))
        for m, (check, message) in zip(MISTAKES, found, strict=True)
    ]
    DOC.write_text(table(rows), encoding="utf-8")
    for mistake, _check, line in rows:
        print(f"{mistake.key}\n    {line}")


if __name__ == "__main__":
    main()
