"""`workshop bench --loop`'s Ctrl-C measurement, run the way benches often
are: in the background of a script, where the shell makes SIGINT ignored and
every child inherits that."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

MEASURE = textwrap.dedent(
    """\
    import os, signal, sys
    from pathlib import Path

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as `sh -c 'bench &'` leaves it
    from workshop.course.loop_bench import ctrl_c

    print(ctrl_c(Path(sys.argv[1]), 1, dict(os.environ)).codes)
    """
)


def test_ctrl_c_is_measured_even_when_the_bench_ignores_sigint(
    workshop_repo: Path,
) -> None:
    """The check it interrupts gets SIGINT's default back: it ends with 130
    (it ignored the signal and the bench waited 180 s for nothing)."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(workshop_repo)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[130]", result.stdout + result.stderr


def test_the_default_loop_bench_has_check_7_and_watch_against_the_floor(
    monkeypatch,
) -> None:
    """One run: the import floor, a green check 7 and watch's save-to-result,
    each as a ratio to that floor and beside its goal."""
    from workshop.bench import Settings
    from workshop.course import loop_bench

    def fake(label: str, *args, **kwargs) -> loop_bench.Timing:
        return loop_bench.Timing(label, [1.0], [0])

    monkeypatch.setattr(loop_bench, "time_command", fake)
    monkeypatch.setattr(loop_bench, "watch_mode", fake)
    settings = Settings(
        requests=1, concurrency=1, delay=0.0, time_limit=1.0, rate=None,
        scenarios=(), json=False, strict=False, loop=True, runs=1, step="1",
    )  # fmt: skip
    floors, loop = loop_bench.measure(settings)
    labels = [t.label for t in [*floors, *loop]]
    assert "floor: python + import fastapi, pytest, httpx" in labels
    assert "workshop check 7 --checkpoint 7, green" in labels
    info = {"cores": 2, "cpu": "x", "python": "3", "load_average": [0.0]}
    out = loop_bench.text(settings, floors, loop, info)
    assert "workshop check 7 --checkpoint 7, green / import floor = 1.0x" in out
    assert "goal: workshop check 7 --checkpoint 7, green <= 1.5s" in out
    assert "goal: watch: save -> result, green <= 0.5s" in out
