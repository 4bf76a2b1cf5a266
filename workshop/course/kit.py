"""The offline room kit: every locked wheel for the machines a room brings.

    python -m workshop.course.kit [--dest DIR] [--authors] [--only linux-x86_64/3.11]

(`make wheelhouse` runs it.) For each target (Linux x86_64 and aarch64, macOS
arm64 and x86_64, Windows x86_64; Python 3.11, 3.12, 3.13) it downloads the
wheels of requirements.txt (the learner lock; --authors adds the authors' lock,
requirements-authors.txt) that the target installs, with --require-hashes,
into one folder, with `kit.txt`: the pip options that say "these wheels
only, no package index". `make venv` finds it and installs with `-r
wheelhouse/kit.txt`, still checking every hash; no committed file names an
index option, the kit carries its own. `python -m workshop.course.kit --serve PORT`
serves the folder to a room, with a kit.txt that points at the address the
learner asked for (pip reads a relative folder in a requirements file only
when the file is local).

Resolving per target: `pip download --platform` evaluates environment
markers against the Python that runs it, not the target, so a Linux machine
would fetch uvloop for Windows and skip colorama. requirements.txt is a
universal lock (`make lock`: uv's --universal), so it already holds every
package any platform needs, each with the marker that says where; resolving
for a target is evaluating those markers in the target's environment, which
is what uv's --python-platform does, here without a network round trip or a
second tool. Each target's list is then downloaded with --no-deps.

Wheels only: a package without a wheel for a target stops the kit with its
name. Linux wheels are manylinux for glibc 2.17 to 2.28 (the oldest first:
most portable), macOS wheels for macOS 11 or later.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker

ROOT = Path(__file__).resolve().parents[2]
PYTHONS = ("3.11", "3.12", "3.13")
_ENTRY = re.compile(
    r"^(?P<name>[A-Za-z0-9_.-]+)==(?P<version>[^\s;\\]+)\s*(?:;(?P<marker>[^\\]+))?"
)


def _manylinux(arch: str) -> tuple[str, ...]:
    """glibc 2.17 .. 2.28, oldest first, with the legacy alias of 2.17."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(17, 29)]
    return (tags[0], f"manylinux2014_{arch}", *tags[1:])


@dataclass(frozen=True)
class Target:
    """One kind of machine: its marker environment and its wheel platforms."""

    name: str
    sys_platform: str
    platform_system: str
    platform_machine: str
    platforms: tuple[str, ...]

    def environment(self, python: str) -> dict[str, str]:
        return {
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "os_name": "nt" if self.sys_platform == "win32" else "posix",
            "sys_platform": self.sys_platform,
            "platform_system": self.platform_system,
            "platform_machine": self.platform_machine,
            "python_version": python,
            "python_full_version": f"{python}.0",
            "implementation_version": f"{python}.0",
            "platform_release": "",
            "platform_version": "",
            "extra": "",
        }


TARGETS = (
    Target("linux-x86_64", "linux", "Linux", "x86_64", _manylinux("x86_64")),
    Target("linux-aarch64", "linux", "Linux", "aarch64", _manylinux("aarch64")),
    Target("macos-arm64", "darwin", "Darwin", "arm64", ("macosx_11_0_arm64",)),
    Target("macos-x86_64", "darwin", "Darwin", "x86_64", ("macosx_11_0_x86_64",)),
    Target("windows-x86_64", "win32", "Windows", "AMD64", ("win_amd64",)),
)


def entries(lock: str) -> list[tuple[str, str]]:
    """(requirement line with its hashes, marker) for each locked package."""
    found = []
    for block in re.split(r"\n(?=\S)", lock):
        if block.startswith("#") or not block.strip():
            continue
        match = _ENTRY.match(block)
        if match is None:
            raise SystemExit(
                f"kit: cannot read this lock entry: {block.splitlines()[0]}"
            )
        kept = [ln for ln in block.splitlines() if not ln.strip().startswith("#")]
        found.append(("\n".join(kept).rstrip(" \\"), (match["marker"] or "").strip()))
    return found


def for_target(lock: str, target: Target, python: str) -> list[str]:
    """The lock's entries this target installs (markers evaluated for it)."""
    env = target.environment(python)
    return [
        line
        for line, marker in entries(lock)
        if not marker or Marker(marker).evaluate(env)
    ]


def download(lines: list[str], target: Target, python: str, dest: Path) -> None:
    """pip download, wheels only, no dependencies, every hash checked."""
    abi = f"cp{python.replace('.', '')}"
    with tempfile.TemporaryDirectory() as folder:
        requirements = Path(folder) / "requirements.txt"
        requirements.write_text("\n".join(lines) + "\n", encoding="utf-8")
        command = [
            sys.executable, "-m", "pip", "download", "--quiet",
            "--disable-pip-version-check", "--no-deps", "--require-hashes",
            "--only-binary=:all:", "--implementation", "cp",
            "--python-version", python, "--abi", abi, "--abi", "abi3",
            "--abi", "none", *(f"--platform={p}" for p in target.platforms),
            "--dest", str(dest), "-r", str(requirements),
        ]  # fmt: skip
        if subprocess.run(command).returncode != 0:
            raise SystemExit(f"kit: {target.name} Python {python}: pip download failed")


KIT_FILE = "kit.txt"


def kit_options(wheels: str) -> str:
    """The pip options of the kit: no package index, the wheels in `wheels`
    (a folder relative to kit.txt, or an address)."""
    return (
        "# written by python -m workshop.course.kit: install from these wheels alone\n"
        f"--no-index\n--find-links {wheels}\n"
    )


def serve(folder: Path, port: int) -> None:
    """Serve `folder` on `port`; kit.txt names the address it was asked at."""
    handler = functools.partial(KitHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(("", port), handler) as server:
        print(
            f"serving {folder} on port {port}: make venv WHEELHOUSE=http://YOUR-IP:{port}/"
        )
        server.serve_forever()


class KitHandler(http.server.SimpleHTTPRequestHandler):
    """The folder's listing (pip's --find-links reads it) and its real files,
    nothing else: no subfolder, no symlink out of it, 400 for a path that
    cannot name a file (a NUL byte)."""

    def do_GET(self) -> None:
        if self.path.lstrip("/") != KIT_FILE:
            return super().do_GET()
        port = self.server.server_address[1]
        host = self.headers.get("Host") or f"127.0.0.1:{port}"
        body = kit_options(f"http://{host}/").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_head(self):  # what GET and HEAD answer, before the body
        path = self.translate_path(self.path)
        if "\0" in path:
            self.send_error(400, "Bad path")
            return None
        found, folder = Path(path).resolve(), Path(self.directory).resolve()
        if found != folder and not (found.is_relative_to(folder) and found.is_file()):
            self.send_error(404, "File not found")
            return None
        return super().send_head()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workshop.course.kit")
    parser.add_argument("--dest", type=Path, default=ROOT / "wheelhouse")
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.txt")
    parser.add_argument(
        "--authors", action="store_true", help="add requirements-authors.txt"
    )
    parser.add_argument("--only", nargs="*", help="targets as NAME/PYTHON")
    parser.add_argument("--serve", type=int, metavar="PORT", help="serve the kit")
    args = parser.parse_args(argv)
    if args.serve is not None:
        with contextlib.suppress(KeyboardInterrupt):
            serve(args.dest, args.serve)
        return 0
    locks = [args.lock, *([ROOT / "requirements-authors.txt"] if args.authors else [])]
    lock = "\n".join(path.read_text(encoding="utf-8") for path in locks)
    args.dest.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    for target in TARGETS:
        for python in PYTHONS:
            if args.only and f"{target.name}/{python}" not in args.only:
                continue
            # dict.fromkeys: a package both locks pin is downloaded once
            lines = list(dict.fromkeys(for_target(lock, target, python)))
            print(f"{target.name} Python {python}: {len(lines)} packages", flush=True)
            download(lines, target, python, args.dest)
    (args.dest / KIT_FILE).write_text(kit_options("."), encoding="utf-8")
    wheels = sorted(args.dest.glob("*.whl"))
    size = sum(w.stat().st_size for w in wheels) / 1e6
    seconds = time.monotonic() - started
    print(f"{args.dest}: {len(wheels)} wheels, {size:.0f} MB ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
