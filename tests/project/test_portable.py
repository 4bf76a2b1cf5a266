"""Every laptop: no POSIX-only call in workshop/ or the suites outside a guard.

The scan itself is tests/project/portable_scan.py; here it runs over the tree,
and over small sources that show each finding and each guard it accepts, so
that a scan that found nothing because it looked at nothing would fail.
"""

from __future__ import annotations

import ast
import os
import textwrap
from pathlib import Path

import pytest
from portable_scan import ROOT, scan, sources

# Known exceptions, by file and call (not by line: lines move). Each belongs to
# a rewrite under way elsewhere; the integrator removes an entry when its file
# is fixed (a stale entry fails the test below, so the list only shrinks).
KNOWN_EXCEPTIONS = {
    # The room's jail is Linux's by nature (bubblewrap): sandbox.available()
    # returns None on every other OS, and then no jail is ever built.
    ("workshop/room/sandbox.py", "os.geteuid"),  # in _unshare() and jail()
    ("workshop/room/sandbox.py", "'/proc'"),  # bwrap's --proc, inside the jail
    ("workshop/room/sandbox.py", "os.setuid"),  # drop(), inside the jail
}


def findings_in(tmp_path: Path, code: str, name: str = "mod.py") -> list[str]:
    tree = ast.parse(textwrap.dedent(code))
    return [f.what for f in scan({name: tree})]


def test_no_posix_only_call_outside_a_guard() -> None:
    """workshop/ and tests/steps/ call nothing POSIX-only unguarded, but for the
    known exceptions (which must all still be there: the list only shrinks)."""
    findings = scan(sources())
    found = {(f.path, f.what) for f in findings}
    assert [str(f) for f in findings if (f.path, f.what) not in KNOWN_EXCEPTIONS] == []
    assert KNOWN_EXCEPTIONS - found == set(), "fixed: remove from KNOWN_EXCEPTIONS"


def test_the_scan_reads_the_whole_tree() -> None:
    """Both folders are read, the suites' helpers and the command alike."""
    read = sources()
    assert "workshop/lock.py" in read
    assert "tests/steps/queue_support.py" in read
    assert len(read) > 50


UNGUARDED = {
    "import fcntl\n": "import fcntl",
    "from termios import tcgetattr\n": "from termios import",
    "import signal\nsignal.SIGKILL\n": "signal.SIGKILL",
    "import signal\nsignal.SIGBREAK\n": "signal.SIGBREAK",
    "from signal import SIGHUP\n": "signal.SIGHUP",
    "import signal\nsignal.setitimer(signal.ITIMER_REAL, 1)\n": "signal.setitimer",
    "import os\nos.killpg(1, 15)\n": "os.killpg",
    "import os\nos.setsid()\n": "os.setsid",
    "import os\nos.getloadavg()\n": "os.getloadavg",
    "import os\nos.kill(pid, 0)\n": "os.kill(pid, 0)",
    "Popen(c, start_new_session=True)\n": "start_new_session=",
    "Popen(c, preexec_fn=f)\n": "preexec_fn=",
    "Popen(c, **{'pass_fds': (3,)})\n": "'pass_fds'",
    "libc.prctl(1, 9)\n": "libc.prctl",
    "Path('/proc').iterdir()\n": "'/proc'",
    "def pids_linux():\n    pass\npids_linux()\n": "pids_linux (POSIX-only)",
}


@pytest.mark.parametrize("code", UNGUARDED, ids=list(UNGUARDED.values()))
def test_the_scan_finds_each_kind_of_call(tmp_path: Path, code: str) -> None:
    assert UNGUARDED[code] in findings_in(tmp_path, code)


GUARDED = {
    "if": """
        import os, signal, sys
        if sys.platform == "win32":
            pass
        else:
            os.killpg(1, signal.SIGKILL)
        """,
    "os.name": """
        import os
        if os.name == "posix":
            os.setsid()
        """,
    "a flag": """
        import os, sys
        POSIX = sys.platform != "win32"
        def stop():
            if POSIX:
                os.killpg(1, 9)
        """,
    "hasattr": """
        import os
        if hasattr(os, "killpg"):
            os.killpg(1, 9)
        """,
    "early return": """
        import os, sys
        def load():
            if sys.platform == "win32":
                return []
            return os.getloadavg()
        """,
    "pytest.skip": """
        import os, sys, pytest
        def test():
            if not sys.platform.startswith("linux"):
                pytest.skip("Linux only")
            open("/proc/self/stat")
        """,
    "if-expression": """
        import sys
        Popen(c, start_new_session=sys.platform != "win32")
        Popen(c, preexec_fn=f if sys.platform == "linux" else None)
        """,
    "try ImportError": """
        try:
            import fcntl
        except ImportError:
            fcntl = None
        """,
    "module availability": """
        try:
            import resource
        except ImportError:
            resource = None
        def cpu():
            if resource is None:
                return None
            return resource.getrusage(resource.RUSAGE_CHILDREN)
        """,
    "try AttributeError": """
        import os
        try:
            load = os.getloadavg()
        except (OSError, AttributeError):
            load = []
        """,
    "try OSError for /proc": """
        try:
            text = open("/proc/cpuinfo").read()
        except OSError:
            text = ""
        """,
    "marked function": """
        import signal, sys
        def end_with_parent_linux():
            libc.prctl(1, signal.SIGKILL)
        Popen(c, preexec_fn=end_with_parent_linux if sys.platform == "linux" else None)
        """,
    "skipif": """
        import os, sys, pytest
        @pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
        def test_it():
            os.killpg(1, 9)
            open("/proc/1/stat")
        """,
    "pytestmark": """
        import os, sys, pytest
        pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX")
        def test_it():
            os.killpg(1, 9)
        """,
    "not calls": """
        import signal
        from importlib import resources
        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        Popen(c, preexec_fn=None, start_new_session=False)
        def f():
            '''Sends SIGKILL, reads /proc.'''
        """,
}


@pytest.mark.parametrize("code", GUARDED.values(), ids=list(GUARDED))
def test_the_scan_accepts_each_guard(tmp_path: Path, code: str) -> None:
    assert findings_in(tmp_path, code) == []


def test_bench_report_works_without_getloadavg(monkeypatch) -> None:
    """Windows has no os.getloadavg: the bench's machine line leaves the load
    out instead of failing (AttributeError) before any figure is printed."""
    from workshop.bench import report

    monkeypatch.delattr(os, "getloadavg")
    assert report.machine()["cores"] == os.cpu_count()


def test_the_scan_runs_as_a_script() -> None:
    """`python tests/project/portable_scan.py` prints the findings, file:line."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(ROOT / "tests/project/portable_scan.py")],
        capture_output=True,
        text=True,
    )
    expected = len({line for line in result.stdout.splitlines()})
    assert f"{expected} POSIX-only call(s) outside a guard" in result.stderr
    assert all(":" in line for line in result.stdout.splitlines())
