"""The one error type of the `workshop` command."""

from __future__ import annotations


class WorkshopError(Exception):
    """A problem the user can fix: printed as one line on stderr, exit status 2."""

    exit_code = 2
