"""What a learner's code gets when `workshop room` runs it on this machine.

The room runs other people's app/ through the suites, so the child gets:

- an environment built from an allowlist (PATH, locale, time zone, the few
  variables Windows needs), so no token, key, secret, SSH agent or cloud
  credential of the instructor's is in it; an allowlist, because a list of
  names to remove always misses one;
- a fresh, empty HOME (also TMPDIR) that is deleted afterwards, and that
  folder as its working directory;
- on POSIX, resource limits, set by this module as a wrapper before the
  checks' child starts (`python -m workshop.room.sandbox LIMITS -- command...`
  sets them, then execs the command): CPU seconds, address space, open files, file
  size, no core files. A wrapper, not `preexec_fn`: the room starts children
  from several threads, where `preexec_fn` can deadlock. Hard limits too, so
  the code cannot raise them again. Windows has no setrlimit: there the
  time limits of workshop/checks/suites.py are the only bound.

It is not a jail: the code can still read what the instructor's user can
read. Run the room as a user without secrets on disk (or in a container)
when that matters.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

import workshop

KEEP = frozenset({
    "PATH", "LANG", "LANGUAGE", "TZ", "TERM", "VIRTUAL_ENV",
    "SYSTEMROOT", "SYSTEMDRIVE", "COMSPEC", "PATHEXT", "WINDIR",
    "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE",
})  # fmt: skip
KEEP_PREFIXES = ("LC_",)


@dataclass(frozen=True)
class Caps:
    """Resource limits of one run of the suites."""

    cpu: int = 120  # seconds of CPU time (a run of all suites takes about 5)
    memory: int = 2 * 1024**3  # bytes of address space (threads reserve a lot)
    files: int = 512  # open file descriptors
    file_size: int = 64 * 1024**2  # bytes, the largest file it may write


def clean_env(home: Path, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The allowlisted variables, with HOME and the temporary folders in `home`."""
    source = os.environ if environ is None else environ
    env = {k: v for k, v in source.items()
           if k.upper() in KEEP or k.upper().startswith(KEEP_PREFIXES)}  # fmt: skip
    temporary = str(home / "tmp")
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    package_parent = str(Path(workshop.__file__).resolve().parent.parent)
    env.update(
        HOME=str(home), USERPROFILE=str(home),
        TMPDIR=temporary, TEMP=temporary, TMP=temporary,
        PYTHONPATH=package_parent,  # the checks' child is importable from any folder
        PYTHONNOUSERSITE="1",  # no packages from the instructor's ~/.local
    )  # fmt: skip
    return env


def prefix(caps: Caps) -> tuple[str, ...]:
    """The wrapper command that sets `caps` (none where there is no setrlimit)."""
    if resource is None:
        return ()
    return (
        sys.executable,
        "-m",
        "workshop.room.sandbox",
        json.dumps(asdict(caps)),
        "--",
    )


def limit(caps: Caps) -> None:
    """Lower the soft and hard limits of this process (and its children)."""
    assert resource is not None
    wanted = [
        ("RLIMIT_CPU", caps.cpu),
        ("RLIMIT_AS", caps.memory),
        ("RLIMIT_NOFILE", caps.files),
        ("RLIMIT_FSIZE", caps.file_size),
        ("RLIMIT_CORE", 0),
    ]
    for name, value in wanted:
        which = getattr(resource, name, None)
        if which is None:
            continue  # not on this system (RLIMIT_AS on some BSDs)
        _soft, hard = resource.getrlimit(which)
        new = value if hard == resource.RLIM_INFINITY else min(value, hard)
        with contextlib.suppress(ValueError, OSError):  # macOS refuses some
            resource.setrlimit(which, (new, new))


def main(argv: list[str]) -> None:
    """`python -m workshop.room.sandbox LIMITS -- command...`: limit, then exec."""
    if len(argv) < 3 or argv[1] != "--":
        raise SystemExit("usage: python -m workshop.room.sandbox LIMITS -- command...")
    limit(Caps(**json.loads(argv[0])))
    os.execv(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
