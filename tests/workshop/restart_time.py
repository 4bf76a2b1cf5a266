"""How long from a save that fixes app/ until the app answers again.

    .venv/bin/python tests/workshop/restart_time.py [--rounds 5] [--think 2]
                                                    [--fastapi-dev]

Serves a copy of this repository's app/ with `workshop serve` (or, with
--fastapi-dev, with `fastapi dev` as `make run` did before) on a free port.
Each round breaks app/main.py (a NameError), waits until the server has
reported it, then saves a fixed main.py with a new title and times until
/openapi.json answers with that title. A second series times an ordinary
save (good to good). Before each timed save it waits --think seconds, as a
person reads the error or the page before saving again (0: back to back).
Prints the median, min and max of each.

Not part of `make test`: it measures, it does not check.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

# a script, run from its own folder: the tool's helper, not tests/support's
from workshop.bench.server import free_port

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60.0


def title(url: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{url}/openapi.json", timeout=5) as response:
            return json.load(response)["info"]["title"]
    except (OSError, ValueError):
        return None


def wait(condition, what: str, log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            sys.exit(f"{what} did not happen in {TIMEOUT} s:\n{log.read_text()}")
        time.sleep(0.01)  # polling interval: the resolution of the measurement


def timed_save(
    main: Path, text: str, url: str, expected: str, log: Path, think: float
) -> float:
    time.sleep(think)  # a person between two saves, not a wait for an event
    start = time.monotonic()
    main.write_text(text, encoding="utf-8")
    wait(lambda: title(url) == expected, f"title {expected!r}", log)
    return time.monotonic() - start


def measure(
    root: Path, url: str, rounds: int, think: float, log: Path
) -> dict[str, list[float]]:
    main = root / "app" / "main.py"
    good = main.read_text(encoding="utf-8")
    assert 'title="Newsletter"' in good
    times: dict[str, list[float]] = {"broken -> fixed": [], "good -> good": []}
    for n in range(rounds):
        name = f"Newsletter {n}"
        main.write_text(good + "\nprint(undefined_name)\n", encoding="utf-8")
        count = log.read_text().count("NameError")
        wait(lambda c=count: log.read_text().count("NameError") > c, "error", log)
        fixed = good.replace('title="Newsletter"', f'title="{name}"')
        times["broken -> fixed"].append(timed_save(main, fixed, url, name, log, think))
    for n in range(rounds):
        name = f"Newsletter again {n}"
        fixed = good.replace('title="Newsletter"', f'title="{name}"')
        times["good -> good"].append(timed_save(main, fixed, url, name, log, think))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--fastapi-dev", action="store_true")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="workshop-restart-"))
    root = work / "repo"
    shutil.copytree(
        ROOT / "app", root / "app", ignore=shutil.ignore_patterns("__pycache__")
    )
    (root / "checkpoints").mkdir()
    port = free_port()
    bin_dir = Path(sys.executable).parent
    command = [sys.executable, "-m", "workshop", "serve", "--port", str(port)]
    if args.fastapi_dev:
        command = [str(bin_dir / "fastapi"), "dev", "app/main.py", "--port", str(port)]
        command += ["--reload-dir", "app"]
    log = work / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            command,
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait(lambda: title(url) == "Newsletter", "the first answer", log)
        times = measure(root, url, args.rounds, args.think, log)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=TIMEOUT)
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"{' '.join(command[:4])} ...: from a save until the app answers again"
        f" ({args.think:g} s between saves)"
    )
    for series, values in times.items():
        print(
            f"  {series:<16} median {statistics.median(values):.2f} s"
            f"  (min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
