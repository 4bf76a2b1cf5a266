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
