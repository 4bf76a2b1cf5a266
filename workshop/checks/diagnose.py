"""Known mistakes, recognised in an error message, and the fix for each.

Each entry is a pattern found in a failure's message and one line that names
the fix. The step suites' own messages already name the fix for what they
check; these cover the errors Python raises before a check can say anything.
"""

from __future__ import annotations

import difflib
import re
import sys

from workshop.checks.queue_advice import QUEUE_ADVICE

ADVICE: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"coroutine '(\w+)' was never awaited"),
        "fix: write `await {0}(...)`: Python warned that coroutine '{0}' was "
        "never awaited, so it never ran",
    ),
    (
        # add_task(f(x)): f(x) runs at once, and its result (None) is the task
        re.compile(
            r"'(NoneType|coroutine)' object is not callable"
            r"|the first argument must be callable"
        ),
        "fix: pass the function and its arguments to add_task, not a call: "
        "add_task(send_welcome_email, subscriber), not "
        "add_task(send_welcome_email(subscriber))",
    ),
    (
        re.compile(r"name '(\w+)' is not defined"),
        "fix: import or define {0} (check its spelling and the imports at the top)",
    ),
    (
        re.compile(r"cannot import name '(\w+)' from '([\w.]+)'"),
        "fix: {1} has no {0}: check the name, or whether it moved",
    ),
    (
        re.compile(
            r"(\w+)\(\) (?:got an unexpected keyword argument|missing \d+ "
            r"required positional argument|takes \d+ positional argument)"
        ),
        "fix: {0}() is called with other arguments than it takes: "
        "make its signature and its add_task(...) call agree",
    ),
    (
        re.compile(r"MailError: "),
        "fix: a MailError escaped a background task, so the later tasks of the "
        "request were skipped: catch it inside the task (try: ... except "
        "MailError) and record the failure",
    ),
    (
        re.compile(r"Cannot operate on a closed database"),
        "fix: a task used the request's connection, closed when the request "
        "ended: open one in the task, `with closing(connect()) as db:`",
    ),
    (
        re.compile(r"type '(\w+)' is not supported"),
        "fix: a task got a {0} object where it wants a plain value: pass "
        "subscriber.id to add_task, not the {0}, and load it in the task",
    ),
    (
        re.compile(r"Object of type (UploadFile|SpooledTemporaryFile) is not JSON"),
        "fix: an UploadFile cannot go to .delay(): the worker is another "
        "process; store the upload beside the database and pass the worker its "
        "path (a string)",
    ),
    (
        re.compile(r"Object of type (\w+) is not JSON serializable"),
        "fix: a Celery message is JSON: pass plain values to .delay(...) "
        "(subscriber.id, strings), not a {0}",
    ),
    (
        # input() in app code under the checks: pytest refuses stdin
        re.compile(r"reading from stdin while output is captured"),
        "fix: input() waits for a keyboard that a server does not have: take the "
        "value from the request (a parameter or the body) instead",
    ),
    (
        # asyncio.run(...) inside an async def: the loop already runs
        re.compile(r"asyncio\.run\(\) cannot be called from a running event loop"),
        "fix: this code already runs on the event loop (in an async def): write "
        "`await f(...)` there, not asyncio.run(f(...))",
    ),
    (
        # background_tasks: BackgroundTask (starlette's one task, no s)
        re.compile(r"<class '[\w.]*\.BackgroundTask'> is a valid Pydantic field"),
        "fix: a parameter is typed BackgroundTask (starlette's single task): "
        "type it BackgroundTasks, from fastapi, and FastAPI gives you one",
    ),
    (
        re.compile(r"calls sys\.exit\("),
        "fix: do not exit at import; run the app with `make run`",
    ),
]


LONG = 200  # characters: an error longer than this is cut after a sentence


def brief(text: str) -> str:
    """An exception's text cut after its last whole sentence within LONG
    characters (FastAPI's "Invalid args for response field!" runs on for 500),
    so the fix that follows it stays on the learner's screen."""
    if len(text) <= LONG:
        return text
    ends = [m.end() for m in re.finditer(r"[.!?](?=\s)", text[:LONG])]
    return text[: ends[-1]] + " …" if ends else text[: LONG - 1] + "…"


def advice(message: str) -> str | None:
    """The fix for the first known mistake found in `message`, if any."""
    for pattern, fix in [*QUEUE_ADVICE, *ADVICE]:  # the worker's evidence first
        match = pattern.search(message)
        if match:
            return fix.format(*match.groups()) + _meant(pattern, match)
    return None


def _meant(pattern: re.Pattern[str], match: re.Match[str]) -> str:
    """For a name a module does not have: the name closest to it, read from the
    module as this process already imported it (never imported here)."""
    if "cannot import name" not in pattern.pattern:
        return ""
    name, module = match.groups()
    found = sys.modules.get(module)
    names = [n for n in dir(found) if not n.startswith("_")] if found else []
    close = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


CALLED_WRONGLY = re.compile(
    r"(\w+)\(\) (?:got an unexpected keyword argument|missing \d+ "
    r"required positional argument|takes \d+ positional argument)"
)
_UNBINDABLE = re.compile(r"type '(\w+)' is not supported")


def in_context(message: str, source: str | None, in_task: bool | None) -> str | None:
    """The fix, from what was seen where the app raised: the code of its app/
    line (`source`) and whether it ran in a background task (None: unknown).
    None when the evidence says nothing more than `advice`."""
    code = (source or "").replace(" ", "")
    if (match := CALLED_WRONGLY.search(message)) and f"Depends({match[1]}(" in code:
        name = match[1]
        return (
            f"fix: pass the dependency itself, Depends({name}), not "
            f"Depends({name}()): FastAPI calls it for each request"
        )
    if (match := CALLED_WRONGLY.search(message)) and f"{match[1]}.delay(" in code:
        name = match[1]
        return (
            f"fix: {name}.delay(...) must pass what {name}() takes, as plain "
            "values (ids, strings): make the call and the task's def agree"
        )
    if (match := _UNBINDABLE.search(message)) and in_task is False:
        return (
            f"fix: SQLite cannot store a {match[1]} object: bind a plain value "
            f"at this line (str(...) of it, or an int id)"
        )
    return None
