"""`python -m workshop setup`: .venv from the lock, the same on every OS.

    python -m workshop setup [--authors] [--wheelhouse FOLDER-OR-ADDRESS]

Run with any Python 3.11+ from the repository's root (`py -m workshop setup`
on Windows). It creates .venv when it is missing, installs the learner lock
(requirements.txt) with every hash checked, adds the authors' lock
(requirements-authors.txt) with --authors, installs the `workshop` command
(editable), and prints what to run next. `make venv` and `make test` call it.
Nothing else goes in: no setuptools, and bytecode only for the modules
learners' programs import (workshop/bytecode.py), not for all of them.

Standard library only: this module runs before .venv exists, so neither it nor
workshop/__main__.py on its way here may import anything else.

The offline room kit (`make wheelhouse`): when `wheelhouse/kit.txt` is there,
or --wheelhouse names an address, both installs read the kit's own pip options
(its wheels alone, no package index), hashes still checked.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEARNER_LOCK = "requirements.txt"
AUTHORS_LOCK = "requirements-authors.txt"
KIT_FILE = "kit.txt"
OLDEST = (3, 11)
# One lock entry: `name==version` (an optional marker), then its hashes.
_ENTRY = re.compile(r"^[A-Za-z0-9_.-]+==[^\s;\\]+")


class SetupError(Exception):
    """Bad input: one line for the learner, then a non-zero exit."""


def scripts(venv_dir: Path) -> Path:
    """Where a virtual environment keeps its programs on this OS."""
    return venv_dir / ("Scripts" if os.name == "nt" else "bin")


def python_of(venv_dir: Path) -> Path:
    return scripts(venv_dir) / ("python.exe" if os.name == "nt" else "python")


def spelled(venv_dir: Path, program: str) -> str:
    """How a learner types `program` from the root: the OS's own separator."""
    return os.path.join(venv_dir.name, scripts(venv_dir).name, program)


def check_lock(path: Path) -> None:
    """Each entry pins one version with its hashes; else the lock is broken."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SetupError(f"cannot read {path.name}: {error.strerror}") from None
    entries = [e for e in re.split(r"\n(?=\S)", text) if e.strip() and e[0] != "#"]
    if not entries:
        raise SetupError(f"{path.name} is broken: it pins no package")
    for entry in entries:
        first = entry.splitlines()[0]
        if not _ENTRY.match(entry) or "--hash=sha256:" not in entry:
            raise SetupError(f"{path.name} is broken at {first!r}: run make lock")


def kit_options(wheelhouse: str, root: Path) -> list[str]:
    """`-r KIT/kit.txt` when a kit is at hand (an address, or a folder with its
    kit.txt), else nothing: pip then uses this machine's own configuration."""
    if "://" in wheelhouse:
        return ["-r", f"{wheelhouse.rstrip('/')}/{KIT_FILE}"]
    folder = root / wheelhouse
    if (folder / KIT_FILE).is_file():
        return ["-r", str(folder / KIT_FILE)]
    return []


def pip_commands(
    python: Path, root: Path, kit: list[str], authors: bool
) -> list[list[str]]:
    """The two installs: the locks (hashes required), then the project, with
    no bytecode: compile_imported() compiles what learners' programs import."""
    pip = [str(python), "-m", "pip", "install", "--quiet", "--no-compile"]
    pip += ["--disable-pip-version-check", *kit]
    locks = [LEARNER_LOCK, AUTHORS_LOCK] if authors else [LEARNER_LOCK]
    requirements = [arg for lock in locks for arg in ("-r", str(root / lock))]
    return [
        [*pip, "--require-hashes", "--no-deps", *requirements],
        [*pip, "--no-deps", "--no-build-isolation", "--editable", str(root)],
    ]


def site_packages(venv_dir: Path) -> Path:
    """Where packages go in a virtual environment on this OS."""
    where = {"base": str(venv_dir), "platbase": str(venv_dir)}
    return Path(sysconfig.get_path("purelib", "venv", vars=where))


def create(venv_dir: Path) -> None:
    """A new virtual environment with pip (ensurepip: no network), trimmed."""
    if python_of(venv_dir).exists():
        return
    print(f"creating {venv_dir.name} with Python {sys.version.split()[0]}")
    try:
        venv.EnvBuilder(with_pip=True).create(venv_dir)
    except subprocess.CalledProcessError:
        raise SetupError(
            "python -m venv could not install pip (on Debian or Ubuntu: "
            "apt-get install python3-venv)"
        ) from None
    except OSError as error:
        raise SetupError(f"cannot create {venv_dir}: {error.strerror}") from None
    trim(venv_dir)


def trim(venv_dir: Path) -> None:
    """What ensurepip adds that no one here uses: setuptools (Python 3.11's
    ensurepip installs it; the project builds with flit_core) and pip's
    bytecode (pip writes its own back when it runs, unless told not to)."""
    site = site_packages(venv_dir)
    if any(site.glob("setuptools-*.dist-info")):
        uninstall = [str(python_of(venv_dir)), "-m", "pip", "uninstall"]
        install([[*uninstall, "--quiet", "--yes", "setuptools"]], venv_dir)
    for cache in list((site / "pip").rglob("__pycache__")):
        shutil.rmtree(cache)


def install(commands: list[list[str]], root: Path) -> None:
    """Run pip; pip itself writes no bytecode for its own modules either."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for command in commands:
        if subprocess.run(command, cwd=root, env=env).returncode != 0:
            raise SetupError(f"pip {command[3]} failed (its message is above)")


def compile_imported(venv_dir: Path, root: Path) -> None:
    """The bytecode of what learners' programs import (workshop/bytecode.py):
    the installs compile none. Without it only the checks are slower."""
    command = [str(python_of(venv_dir)), "-m", "workshop.bytecode"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if subprocess.run(command, cwd=root, env=env).returncode != 0:
        print("warning: no bytecode compiled ahead: every check is slower")


def stamp(venv_dir: Path, authors: bool) -> None:
    """What make's targets look at: .venv is up to date with the locks."""
    (venv_dir / ".installed").touch()
    if authors:
        (venv_dir / ".installed-authors").touch()


def setup(root: Path, venv_dir: Path, wheelhouse: str, authors: bool) -> None:
    if sys.version_info < OLDEST:
        found = ".".join(map(str, sys.version_info[:3]))
        oldest = ".".join(map(str, OLDEST))
        raise SetupError(f"Python {oldest} or newer is needed (this is {found})")
    for lock in [LEARNER_LOCK, AUTHORS_LOCK] if authors else [LEARNER_LOCK]:
        check_lock(root / lock)
    if not os.access(venv_dir if venv_dir.exists() else venv_dir.parent, os.W_OK):
        raise SetupError(f"no write access to {venv_dir}")
    create(venv_dir)
    kit = kit_options(wheelhouse, root)
    if kit:
        print(f"installing from the kit in {wheelhouse} (no package index)")
    install(pip_commands(python_of(venv_dir), root, kit, authors), root)
    compile_imported(venv_dir, root)
    stamp(venv_dir, authors)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workshop setup",
        description="Create .venv from the lock and install the workshop command.",
    )
    parser.add_argument(
        "--authors", action="store_true", help="add the authors' tools too"
    )
    parser.add_argument("--venv", default=".venv", help="default: .venv")
    parser.add_argument(
        "--wheelhouse",
        default=os.environ.get("WHEELHOUSE") or "wheelhouse",
        help="the offline kit: a folder or an address (default: wheelhouse)",
    )
    args = parser.parse_args(argv)
    venv_dir = ROOT / args.venv
    try:
        setup(ROOT, venv_dir, args.wheelhouse, args.authors)
    except SetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    lock = "both locks" if args.authors else "the learner lock"
    print(f"{args.venv} is ready ({lock}). Next:")
    print(f"  {spelled(venv_dir, 'workshop')} serve    the app, reloaded on save")
    print(f"  {spelled(venv_dir, 'workshop')} check    the checks of your step")
    return 0


if __name__ == "__main__":
    sys.exit(main())
