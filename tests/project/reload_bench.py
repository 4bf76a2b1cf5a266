"""Save -> new answer: `workshop serve` against uvicorn's and FastAPI's reloaders,
side by side in one run.

    .venv/bin/python tests/project/reload_bench.py [--rounds 5] [--think 1]

Each server runs on a fresh clone of this repository's HEAD (its `.venv` is
this one's), in turns, twice. A round waits `--think` seconds (a person's
pause), saves app/main.py with one more route, and times until that route
answers; a broken round saves a syntax error first, then the fixed file. The
medians, their ratios to `workshop serve`'s, and the load average are printed.
docs/BENCHMARKS.md ("Reload") quotes a run.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVERS = {
    "workshop serve": [str(BIN / "workshop"), "serve", "--port", "{port}"],
    "uvicorn --reload": [
        str(BIN / "uvicorn"), "app.main:app", "--reload", "--reload-dir", "app",
        "--port", "{port}",
    ],
    "fastapi dev": [str(BIN / "fastapi"), "dev", "app/main.py", "--port", "{port}"],
}  # fmt: skip


def answer(url: str, want: bytes, limit: float = 30.0) -> float:
    """Seconds until `url` answers 200 with `want` in its body."""
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200 and want in response.read():
                    return time.perf_counter() - start
        except OSError:
            pass
        time.sleep(0.01)
    raise SystemExit(f"{url} did not answer {want!r} in {limit:.0f} s")


def route(number: int) -> str:
    """One more route for app/main.py: GET /rN answers 'round-N'."""
    return (
        f"\n\n@app.get('/r{number}')\n"
        f"def r{number}() -> str:\n    return 'round-{number}'\n"
    )


def measure(clone: Path, command: list[str], port: int, rounds: int, think: float):
    """(save -> answer, broken save -> fixed answer) seconds, per round."""
    main = clone / "app" / "main.py"
    original = main.read_text()
    argv = [part.format(port=port) for part in command]
    process = subprocess.Popen(
        argv, cwd=clone, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"}, start_new_session=os.name == "posix",
    )  # fmt: skip
    saves, fixes = [], []
    try:
        answer(f"http://127.0.0.1:{port}/openapi.json", b"openapi", 60)
        for n in range(rounds):
            time.sleep(think)
            main.write_text(original + route(n))
            saves.append(answer(f"http://127.0.0.1:{port}/r{n}", b"round-%d" % n))
            time.sleep(think)
            main.write_text(original + "\ndef broken(:\n")
            time.sleep(think)
            main.write_text(original + route(100 + n))
            fixes.append(answer(f"http://127.0.0.1:{port}/r{100 + n}", b"round-"))
    finally:
        main.write_text(original)
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return saves, fixes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--think", type=float, default=1.0)
    args = parser.parse_args()
    saves: dict[str, list[float]] = {name: [] for name in SERVERS}
    fixes: dict[str, list[float]] = {name: [] for name in SERVERS}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        (clone / ".venv").symlink_to(BIN.parent)
        for _ in range(2):  # in turns, so that each sees the same load
            for port, (name, command) in enumerate(SERVERS.items(), 8131):
                s, f = measure(clone, command, port, args.rounds, args.think)
                saves[name] += s
                fixes[name] += f
                loads.append(os.getloadavg()[0] if hasattr(os, "getloadavg") else 0)
    base = statistics.median(saves["workshop serve"])
    base_fix = statistics.median(fixes["workshop serve"])
    print(f"load average {min(loads):.2f} to {max(loads):.2f}, think {args.think} s")
    print(f"{'':18} {'save -> answer':>22} {'broken -> fixed':>24}")
    for name in SERVERS:
        save, fix = statistics.median(saves[name]), statistics.median(fixes[name])
        print(
            f"{name:18} {save:6.2f} s ({save / base:4.2f}x) n={len(saves[name]):<4}"
            f" {fix:6.2f} s ({fix / base_fix:4.2f}x) n={len(fixes[name])}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
