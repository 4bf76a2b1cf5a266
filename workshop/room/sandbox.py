"""The jail `workshop room` runs a learner's code in: bubblewrap, or nothing.

The room runs other people's app/ through the suites. That code runs with
no rights of the instructor's: on Linux with bubblewrap (`bwrap`, the
`bubblewrap` package of Debian and Ubuntu) `jail()` gives the command

- the system (/usr and its links), this Python and the project read-only,
  the instructor's home and the rest of the disk not at all;
- one private, size-limited tmpfs at /tmp (its HOME and TMPDIR live there:
  the total it can write), plus the one results folder the runner writes;
  the learner's copy is read-only;
- no network (`--unshare-all`), its own PID namespace and /proc (the room's
  /proc/<pid>/environ is out of sight), a new session (no terminal to
  inject keys into), and death with the room (`--die-with-parent`: when
  bwrap goes, its PID namespace and everything in it go too);
- an environment of a few named variables (`--clearenv`), never the room's;
- resource limits set by this module as a wrapper inside the jail
  (`python -m workshop.room.sandbox LIMITS -- command...`): processes, CPU
  seconds, address space, open files, file size, no core files; hard limits,
  so the code cannot raise them. Run as root, the wrapper also drops to a
  uid no account uses, one a jail: the kernel does not count a root's
  processes, and counts everyone else's a uid.

Where there is no bwrap (macOS, Windows, a Linux without it), `available()`
says so and the room runs no learner code at all. A container engine
(Docker, Podman) path is not written yet.

The limits come from the room (the command line of the wrapper), never from
the learner's files.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]


# A root room drops each jail to a uid of its own, from this range, used by
# no account: the kernel counts processes (RLIMIT_NPROC) a uid, so each jail
# gets its whole limit, and jails cannot signal one another.
JAIL_UIDS = range(1_000_000, 2_000_000)
HOME = "/tmp/home"  # inside the jail, on its private tmpfs
HOW = "install bubblewrap (sudo apt-get install bubblewrap) to run learners' code"
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives")


@dataclass(frozen=True)
class Caps:
    """Resource limits of one run of the suites."""

    cpu: int = 120  # seconds of CPU time (a run of all suites takes about 5)
    memory: int = 2 * 1024**3  # bytes of address space (threads reserve a lot)
    files: int = 512  # open file descriptors
    file_size: int = 64 * 1024**2  # bytes, the largest file it may write
    processes: int = 256  # tasks, threads included (anyio's pool has 40)
    disk: int = 128 * 1024**2  # bytes of the private /tmp: all it may write
    user: int | None = None  # drop to this uid and gid first (a root room)


def available() -> str | None:
    """The path of bwrap when learner code can be jailed here, else None
    (also where bwrap is installed but may not make namespaces: some
    containers, kernels without unprivileged user namespaces)."""
    if not sys.platform.startswith("linux"):
        return None
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None
    probe = [bwrap, *_unshare(), "--ro-bind", "/", "/", "--", "true"]
    try:
        works = subprocess.run(probe, capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        works = False
    return bwrap if works else None


def _unshare() -> list[str]:
    """Every namespace; as root, all but the user's (the wrapper drops to a
    uid of the jail's own instead, which a user namespace mapping only root
    would refuse)."""
    if os.geteuid() != 0:
        return ["--unshare-all"]
    return [f"--unshare-{n}" for n in ("ipc", "pid", "net", "uts", "cgroup-try")]


def jail(
    bwrap: str, caps: Caps, root: Path, app: Path, results: Path
) -> tuple[str, ...]:
    """The command prefix that runs a command in the jail, limited by `caps`.

    `root` (the course: suites and the workshop package) and `app` (the
    learner's copy) are seen read-only at their own paths; `results` is the
    one folder the runner may write besides its /tmp.
    """
    if os.geteuid() == 0:  # the wrapper drops to a uid of its own: it writes here
        uid = JAIL_UIDS.start + secrets.randbelow(len(JAIL_UIDS))
        caps = Caps(**{**asdict(caps), "user": uid})
        os.chown(results, uid, uid)
    mounts = [
        # /tmp first: a mount below it (a venv, a clone under /tmp) made before
        # would be hidden by it, and its parents left to bwrap (0700)
        ["--perms", "01777", "--size", str(caps.disk), "--tmpfs", "/tmp"],
        *_system(), *_python(),
        ["--ro-bind", str(root), str(root)], *_hidden(root),
        ["--ro-bind", str(app), str(app)],
        ["--bind", str(results), str(results)],
    ]  # fmt: skip
    return (
        bwrap, *_unshare(), "--die-with-parent", "--new-session",
        *_with_parents(mounts),
        "--proc", "/proc", "--dev", "/dev", "--chdir", "/",
        "--clearenv", *_env(root),
        *(["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"] if caps.user else []),
        "--", sys.executable, "-m", "workshop.room.sandbox",
        json.dumps(asdict(caps)), "--",
    )  # fmt: skip


def _with_parents(mounts: list[list[str]]) -> list[str]:
    """The mounts (each ends with where it goes), each preceded by the folders
    above it that nothing mounts, made 0755: bwrap would make them 0700,
    which the unprivileged user inside cannot pass."""
    done: set[str] = {"/", "/etc"}
    args: list[str] = []
    for mount in mounts:
        for parent in reversed(Path(mount[-1]).parents):
            if str(parent) not in done:
                args += ["--perms", "0755", "--dir", str(parent)]
                done.add(str(parent))
        done.add(mount[-1])
        args += mount
    return args


def _system() -> list[list[str]]:
    """/usr and the top-level links into it, read-only; the few files of /etc
    a dynamic linker and Python read (not the rest: it may hold secrets)."""
    mounts: list[list[str]] = []
    for top in SYSTEM:
        if os.path.islink(top):
            mounts.append(["--symlink", os.readlink(top), top])
        elif os.path.isdir(top):
            mounts.append(["--ro-bind", top, top])
    return mounts + [["--ro-bind-try", path, path] for path in ETC]


def _python() -> list[list[str]]:
    """This Python's installation and its venv, read-only (where not in /usr)."""
    places = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix),
              sys.prefix}  # fmt: skip
    return [["--ro-bind", p, p] for p in sorted(places) if not p.startswith("/usr/")]


def _hidden(root: Path) -> list[list[str]]:
    """The course's state folder (other learners' copies, results) unseen."""
    state = root / ".workshop"
    small = ["--perms", "0755", "--size", str(1024**2), "--tmpfs", str(state)]
    return [small] if state.is_dir() else []


def _env(root: Path) -> list[str]:
    """The whole environment inside: named here, nothing passed through."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": HOME, "TMPDIR": "/tmp", "USER": "learner", "LOGNAME": "learner",
        "LANG": "C.UTF-8", "PYTHONPATH": str(root), "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }  # fmt: skip
    return [a for k, v in env.items() for a in ("--setenv", k, v)]


def limit(caps: Caps) -> None:
    """Lower the soft and hard limits of this process (and its children)."""
    assert resource is not None
    wanted = [
        ("RLIMIT_CPU", caps.cpu),
        ("RLIMIT_AS", caps.memory),
        ("RLIMIT_NOFILE", caps.files),
        ("RLIMIT_FSIZE", caps.file_size),
        ("RLIMIT_NPROC", caps.processes),
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


def drop(user: int) -> None:
    """Become `user` for good: from root, setuid clears every capability."""
    os.setgroups([])
    os.setgid(user)
    os.setuid(user)


def main(argv: list[str]) -> None:
    """`python -m workshop.room.sandbox LIMITS -- command...`: limit, then exec."""
    if len(argv) < 3 or argv[1] != "--":
        raise SystemExit("usage: python -m workshop.room.sandbox LIMITS -- command...")
    caps = Caps(**json.loads(argv[0]))
    limit(caps)
    if caps.user is not None:
        drop(caps.user)
    os.makedirs(HOME, exist_ok=True)
    os.chdir(HOME)
    os.execv(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
