"""The one error type of the `workshop` command."""

from __future__ import annotations

from pathlib import Path


class WorkshopError(Exception):
    """A problem the user can fix: printed as one line on stderr, exit status 2."""

    exit_code = 2


def internal_error(error: BaseException) -> str:
    """One line for a bug of the workshop itself (never the learner's code):
    what broke, and what to do; WORKSHOP_DEBUG=1 shows the traceback."""
    where = ""
    tb = error.__traceback__
    while tb is not None:
        name = Path(tb.tb_frame.f_code.co_filename).name
        where = f" in {name}:{tb.tb_lineno}"
        tb = tb.tb_next
    what = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return (
        f"the workshop tool failed ({what}{where}), not your code: run the "
        "command again; if it repeats, report it with WORKSHOP_DEBUG=1 and its output"
    )
