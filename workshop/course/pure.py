"""Lock the pure-Python wheel alone for packages whose compiled speedups no
learner needs.

    python -m workshop.course.pure requirements.txt sqlalchemy

(`make lock` runs it after uv.) SQLAlchemy is in the learner lock for one thing,
kombu's SQLite broker of steps 8-9 (a few rows, polled once a second). Its
platform wheels add Cython speedups, 9 MB of a learner's .venv on Linux; its
`py3-none-any` wheel is the same library without them (SQLAlchemy falls back
to Python by itself). uv locks the hashes of every file of a release; with the
pure wheel's hash alone, pip's hash checking leaves it the only file to choose,
on every OS, and the kit carries one wheel instead of one per target.

The wheel is downloaded with pip's own configuration (nothing here names an
index), and its hash must be one uv locked: this narrows the lock, never
widens it.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HASH = "    --hash=sha256:"


def version_of(lock: str, name: str) -> str:
    match = re.search(rf"^{re.escape(name)}==([^\s;\\]+)", lock, re.MULTILINE)
    if match is None:
        raise SystemExit(f"pure: {name} is not in the lock")
    return match[1]


def pure_wheel_hash(name: str, version: str) -> str:
    """sha256 of the release's py3-none-any wheel (pip download, no deps)."""
    with tempfile.TemporaryDirectory() as folder:
        command = [
            sys.executable, "-m", "pip", "download", "--quiet",
            "--disable-pip-version-check", "--no-deps", "--only-binary=:all:",
            "--platform", "any", "--implementation", "py", "--abi", "none",
            "--python-version", "3.11", "--dest", folder, f"{name}=={version}",
        ]  # fmt: skip
        done = subprocess.run(command).returncode == 0
        wheels = sorted(Path(folder).glob("*-none-any.whl"))
        if not done or len(wheels) != 1:
            raise SystemExit(f"pure: no pure-Python wheel of {name} {version}")
        return hashlib.sha256(wheels[0].read_bytes()).hexdigest()


def keep_one_hash(lock: str, name: str, digest: str) -> str:
    """The lock with `name`'s entry checking `digest` alone."""
    blocks = re.split(r"\n(?=\S)", lock)
    found = [i for i, b in enumerate(blocks) if b.startswith(f"{name}==")]
    if len(found) != 1:
        raise SystemExit(f"pure: {name} is not in the lock once")
    block = blocks[found[0]]
    lines = block.splitlines()
    hashes = [line for line in lines if line.startswith(HASH)]
    if f"{HASH}{digest}" not in [h.rstrip(" \\") for h in hashes]:
        raise SystemExit(f"pure: {name}'s pure wheel is not one of its locked files")
    rest = [line for line in lines if not line.startswith(HASH)]
    end = block[len(block.rstrip("\n")) :]  # the last entry ends the file
    blocks[found[0]] = "\n".join([rest[0], f"{HASH}{digest}", *rest[1:]]) + end
    return "\n".join(blocks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.course.pure")
    parser.add_argument("lock", type=Path)
    parser.add_argument("names", nargs="+")
    args = parser.parse_args(argv)
    lock = args.lock.read_text(encoding="utf-8")
    for name in args.names:
        digest = pure_wheel_hash(name, version_of(lock, name))
        lock = keep_one_hash(lock, name, digest)
    args.lock.write_text(lock, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
