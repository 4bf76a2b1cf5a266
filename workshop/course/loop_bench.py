"""`workshop bench --loop`: how long the learner waits, save to result.

Measures `workshop check N`, a full `workshop verify` and watch mode's time
from saving a file to the result on screen, each the median of several runs,
beside the floor no check can beat: Python's start, importing fastapi, pytest
and httpx (the ratios' floor), and pytest's start. The default run also times
a green `workshop check 7 --checkpoint 7` and prints both against the loop's
goals (GOAL_CHECK, GOAL_WATCH). Everything runs in a temporary copy of the
checkout (a fresh git repository), so the learner's app/ is never touched.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from workshop import git
from workshop.bench.server import stop_process
from workshop.bench.stats import median, ratio
from workshop.errors import WorkshopError
from workshop.ui import style

if TYPE_CHECKING:
    from workshop.bench import Settings

WATCH_READY = "Waiting for changes"  # what `workshop watch` prints after a result
WATCH_TIMEOUT = 180.0  # seconds to wait for one result of watch mode
SETTLE = 0.5  # seconds between a result and the next save (not measured)
IMPORT_FLOOR = "floor: python + import fastapi, pytest, httpx"
# The learner loop's goals on a quiet 2-core machine (issue 22): a green check
# of step GOAL_STEP and watch's result after a save.
GOAL_STEP = 7
GOAL_CHECK = 1.5  # seconds
GOAL_WATCH = 0.5  # seconds
FLOOR_TEST = "import fastapi\n\n\ndef test_floor() -> None:\n    assert fastapi\n"


@dataclass
class Timing:
    label: str
    seconds: list[float] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return median(self.seconds)


def time_command(
    label: str, command: Sequence[str], cwd: Path, runs: int, env: dict[str, str]
) -> Timing:
    timing = Timing(label)
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        timing.seconds.append(time.perf_counter() - start)
        timing.codes.append(done.returncode)
    return timing


def sandbox(root: Path, into: Path) -> Path:
    """A copy of the checkout's files (tracked and untracked, not ignored) as a
    new git repository with one commit."""
    listed = git.run(
        root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"
    )
    copy = into / "checkout"
    for name in filter(None, listed.split("\0")):
        source = root / name
        if source.is_file():
            target = copy / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    git.run(copy, "init", "--quiet", "--initial-branch=main")
    git.run(copy, "add", "--all")
    git.run(
        copy, *identity, "-c", "commit.gpgsign=false", "commit", "--quiet", "-m", "b"
    )
    return copy


def floor(tmp: Path, runs: int, env: dict[str, str]) -> list[Timing]:
    folder = tmp / "floor"
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (folder / "test_floor.py").write_text(FLOOR_TEST, encoding="utf-8")
    py = sys.executable
    return [
        time_command("floor: python start", [py, "-c", "pass"], folder, runs, env),
        time_command(
            IMPORT_FLOOR,
            [py, "-c", "import fastapi, pytest, httpx"],
            folder,
            runs,
            env,
        ),
        time_command(
            "floor: python + fastapi + pytest (one test)",
            [py, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_floor.py"],
            folder,
            runs,
            env,
        ),
    ]


def _read_lines(stream, lines: queue.Queue[tuple[float, str]]) -> None:
    for line in stream:
        lines.put((time.perf_counter(), line))
    lines.put((time.perf_counter(), ""))  # end of output


def _wait_for(lines: queue.Queue[tuple[float, str]], marker: str) -> float:
    """The time the line containing `marker` arrived."""
    deadline = time.monotonic() + WATCH_TIMEOUT
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise WorkshopError(
                f"workshop watch printed no result in {WATCH_TIMEOUT:g} s"
            )
        try:
            arrived, line = lines.get(timeout=left)
        except queue.Empty:
            continue
        if line == "":
            raise WorkshopError("workshop watch stopped before showing a result")
        if marker in line:
            return arrived


def watch_mode(
    label: str, checkout: Path, step: str, runs: int, env: dict[str, str]
) -> Timing:
    """Save app/main.py `runs` times; time each save until watch shows the result."""
    timing = Timing(label)
    target = checkout / "app" / "main.py"
    original = target.read_text(encoding="utf-8")
    process = subprocess.Popen(
        [sys.executable, "-m", "workshop", "watch", step],
        cwd=checkout,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[tuple[float, str]] = queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(process.stdout, lines))
    reader.start()
    try:
        _wait_for(lines, WATCH_READY)  # the first check, run on start
        for i in range(runs):
            time.sleep(SETTLE)  # a learner never saves in the same instant
            saved = time.perf_counter()
            target.write_text(f"{original}\n# saved {i}\n", encoding="utf-8")
            timing.seconds.append(_wait_for(lines, WATCH_READY) - saved)
            timing.codes.append(0)
    finally:
        stop_process(process)
        reader.join(timeout=5)
        target.write_text(original, encoding="utf-8")
    return timing


def every_step(
    checkout: Path,
    numbers: list[int],
    runs: int,
    env: dict[str, str],
    *,
    green: bool = True,
) -> list[Timing]:
    """`check N --checkpoint N` (green) and `--checkpoint N-1` (red) for each N;
    `green=False`: the red runs only."""
    workshop = [sys.executable, "-m", "workshop", "check"]
    found = []
    for n in numbers:
        if green:
            command = [*workshop, str(n), "--checkpoint", str(n)]
            found.append(
                time_command(f"check {n}, green", command, checkout, runs, env)
            )
        if n > numbers[0]:
            red = [*workshop, str(n), "--checkpoint", str(n - 1)]
            found.append(time_command(f"check {n}, red", red, checkout, runs, env))
    return found


HANG = "open({marker!r}, 'w').close()\nwhile True: pass\n"


def ctrl_c(checkout: Path, runs: int, env: dict[str, str]) -> Timing:
    """Ctrl-C while `workshop check` waits for a hung app: signal to exit."""
    timing = Timing("Ctrl-C during check -> prompt")
    main = checkout / "app" / "main.py"
    original = main.read_text(encoding="utf-8")
    marker = checkout / ".workshop-bench-started"
    try:
        for _ in range(runs):
            marker.unlink(missing_ok=True)
            main.write_text(original + HANG.format(marker=str(marker)), "utf-8")
            timing.seconds.append(_interrupt(checkout, marker, env, timing))
    finally:
        main.write_text(original, encoding="utf-8")
        marker.unlink(missing_ok=True)
    return timing


def _interrupt(checkout: Path, marker: Path, env: dict[str, str], t: Timing) -> float:
    # A bench started in the background (`... &` in a script) ignores SIGINT,
    # and so would every child: give this one the terminal's default back.
    default_int = getattr(signal, "SIG_DFL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "workshop", "check", "0"],
        cwd=checkout,
        env={**env, "WORKSHOP_IMPORT_LIMIT": "600"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, default_int))
        if os.name == "posix"
        else None,
    )
    deadline = time.monotonic() + WATCH_TIMEOUT
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    sent = time.perf_counter()
    process.send_signal(signal.SIGINT)
    t.codes.append(process.wait(timeout=WATCH_TIMEOUT))
    return time.perf_counter() - sent


def measure_all(root: Path, runs: int, env: dict[str, str]) -> list[Timing]:
    """Every step's check green and red, watch on step 1, Ctrl-C, verify."""
    from workshop.project import all_steps

    numbers = [s.number for s in all_steps(root)]
    workshop = [sys.executable, "-m", "workshop"]
    with tempfile.TemporaryDirectory(prefix="workshop-loop-") as name:
        checkout = sandbox(root, Path(name))
        loop = every_step(checkout, numbers, runs, env)
        app = checkout / "app"
        shutil.rmtree(app)
        shutil.copytree(checkout / "checkpoints" / "step-1" / "app", app)
        loop.append(watch_mode("watch 1: save -> result", checkout, "1", runs, env))
        loop.append(ctrl_c(checkout, runs, env))
        loop.append(
            time_command("workshop verify", [*workshop, "verify"], checkout, 1, env)
        )
    return loop


def measure(settings: Settings) -> tuple[list[Timing], list[Timing]]:
    """The floor, then check and watch with app/ red (step 0, as on main) and
    green (step N's checkpoint), and a full verify."""
    from workshop.project import all_steps, find_root, get_step

    root = find_root()
    if settings.step == "red":  # every step's red run: its suite on step N-1
        env = _env()
        with tempfile.TemporaryDirectory(prefix="workshop-loop-") as name:
            tmp = Path(name)
            checkout = sandbox(root, tmp)
            floors = floor(tmp, settings.runs, env)
            numbers = [s.number for s in all_steps(root)]
            return floors, every_step(
                checkout, numbers, settings.runs, env, green=False
            )
    if settings.step == "all":
        env = _env()
        with tempfile.TemporaryDirectory(prefix="workshop-floor-") as name:
            floors = floor(Path(name), settings.runs, env)
        return floors, measure_all(root, settings.runs, env)
    step = get_step(root, settings.step)
    n = str(step.number)
    env = _env()
    runs = settings.runs
    workshop = [sys.executable, "-m", "workshop"]
    with tempfile.TemporaryDirectory(prefix="workshop-loop-") as name:
        tmp = Path(name)
        checkout = sandbox(root, tmp)
        floors = floor(tmp, runs, env)
        goal = str(GOAL_STEP)
        loop = [
            time_command(
                f"workshop check {goal} --checkpoint {goal}, green",
                [*workshop, "check", goal, "--checkpoint", goal],
                checkout,
                runs,
                env,
            ),
            time_command(
                f"workshop check {n}, app/ red (step 0)",
                [*workshop, "check", n],
                checkout,
                runs,
                env,
            ),
            watch_mode("watch: save -> result, red", checkout, n, runs, env),
            time_command("workshop verify", [*workshop, "verify"], checkout, runs, env),
        ]
        app = checkout / "app"
        shutil.rmtree(app)
        shutil.copytree(checkout / step.checkpoint.relative_to(root) / "app", app)
        loop[3:3] = [
            time_command(
                f"workshop check {n}, app/ green (step {n})",
                [*workshop, "check", n],
                checkout,
                runs,
                env,
            ),
            watch_mode("watch: save -> result, green", checkout, n, runs, env),
        ]
    return floors, loop


def _env() -> dict[str, str]:
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("FORCE_COLOR", None)
    env.pop("WORKSHOP_APP_DIR", None)
    return env


def text(settings: Settings, floors: list[Timing], loop: list[Timing], info) -> str:
    lines = [
        style("workshop bench --loop", "bold")
        + f" — median of {settings.runs} runs, in a temporary copy of this checkout",
        f"machine: {info['cores']} cores, {info['cpu']}, Python {info['python']}, "
        f"load average {', '.join(str(x) for x in info['load_average'])}",
        "",
    ]
    width = max(len(t.label) for t in [*floors, *loop])
    head = f"  {'what':<{width}}  {'median':>8} {'min':>8} {'max':>8}  exit"
    lines.append(style(head, "dim"))
    floor_s = next((t.median for t in floors if t.label == IMPORT_FLOOR), 0.0)
    for t in [*floors, *loop]:
        codes = ",".join(sorted({str(c) for c in t.codes}))
        lines.append(
            f"  {t.label:<{width}}  {t.median:>7.2f}s {min(t.seconds):>7.2f}s "
            f"{max(t.seconds):>7.2f}s  {codes}"
        )
    lines.append("")
    for t in loop:
        lines.append(f"  {t.label} / import floor = {ratio(t.median, floor_s):.1f}x")
    lines += goals(loop)
    lines += [
        "  exit 1: the command reported red, as check does while app/ is at step 0",
        "  (and verify does while the tree has a problem: run `workshop verify`).",
    ]
    return "\n".join(lines)


def goals(loop: list[Timing]) -> list[str]:
    """The measured figures beside the loop's goals (a quiet 2-core machine)."""
    found = []
    for t in loop:
        if t.label.startswith(f"workshop check {GOAL_STEP} --checkpoint"):
            found.append((t, GOAL_CHECK))
        elif t.label.startswith("watch") and "save -> result" in t.label:
            found.append((t, GOAL_WATCH))
    return [
        f"  goal: {t.label} <= {goal:g}s on a quiet 2-core machine: "
        f"{t.median:.2f}s here ({'met' if t.median <= goal else 'not met'})"
        for t, goal in found
    ]


def main(settings: Settings) -> int:
    from workshop.bench.report import machine

    floors, loop = measure(settings)
    info = machine()
    if settings.json:
        data = {
            "runs": settings.runs,
            "machine": info,
            "floor": [{**asdict(t), "median": t.median} for t in floors],
            "loop": [{**asdict(t), "median": t.median} for t in loop],
        }
        print(json.dumps(data, indent=2))
    else:
        print(text(settings, floors, loop, info))
    return 0
