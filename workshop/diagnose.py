"""Known mistakes, recognised in an error message, and the fix for each.

Each entry is a pattern found in a failure's message and one line that names
the fix. The step suites' own messages already name the fix for what they
check; these cover the errors Python raises before a check can say anything.
"""

from __future__ import annotations

import re

ADVICE: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"'(NoneType|coroutine)' object is not callable"),
        "fix: pass the function and its arguments to add_task, not a call: "
        "add_task(send_welcome_email, email), not add_task(send_welcome_email(email))",
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
        re.compile(r"calls sys\.exit\("),
        "fix: do not exit at import; run the app with `make run`",
    ),
]


def advice(message: str) -> str | None:
    """The fix for the first known mistake found in `message`, if any."""
    for pattern, fix in ADVICE:
        match = pattern.search(message)
        if match:
            return fix.format(*match.groups())
    return None
