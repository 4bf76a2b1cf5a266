"""Importing a learner's app/, and saying in one line why it failed.

`load_error()` imports app/ the way the suites will; `describe_load_error()`
turns the exception into `app/main.py:12: NameError: ...` and the fix when
workshop/checks/diagnose.py knows one. The checks' child uses it before any
test, and the dev server (serve, worker) for its error page and line.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from pathlib import Path

from workshop.checks.diagnose import advice, brief, in_context


def import_hang(limit: float, where: str | None) -> str:
    """The one line for an import of app/ that does not finish: the checks
    (workshop/checks/suites.py) and `workshop serve` (devserver/app_process.py)."""
    at = f"stuck at {where}" if where else "stuck"
    return (
        f"importing app/ did not finish in {limit:g} s ({at}): code at the top "
        "of a module runs on import; start servers and loops in functions "
        "(run the app with `make run`, not uvicorn.run in main.py)"
    )


def stuck_in(thread_id: int, app_dir: Path) -> tuple[Path, int, str] | None:
    """(file, line, function) of the innermost frame under `app_dir`/app that
    thread `thread_id` of this process is running now, if any."""
    frame = sys._current_frames().get(thread_id)
    app = (app_dir / "app").resolve()
    while frame is not None:
        path = Path(frame.f_code.co_filename).resolve()
        if path.is_relative_to(app):
            return path, frame.f_lineno, frame.f_code.co_name
        frame = frame.f_back
    return None


def load_error(app_dir: Path) -> str | None:
    """Import app/ as the suites will; a failure as `app/main.py:12: Error: ...`."""
    if not (app_dir / "app" / "__init__.py").is_file():
        return (
            "app/__init__.py is missing: create it (an empty file makes app/ a package)"
        )
    module = "app.main" if (app_dir / "app" / "main.py").is_file() else "app"
    sys.path.insert(0, str(app_dir))
    try:
        importlib.import_module(module)
    except BaseException as error:  # SystemExit too: sys.exit() at import
        # one line: the place, the error and its fix come first in a report
        return " — ".join(describe_load_error(error, app_dir).splitlines())
    finally:
        for name in [n for n in sys.modules if n == "app" or n.startswith("app.")]:
            del sys.modules[name]
        sys.path.remove(str(app_dir))
    return None


def describe_load_error(error: BaseException, app_dir: Path) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if _inside(Path(f.filename), app_dir)]
    where = "app/"
    if isinstance(error, SyntaxError) and error.filename:
        where = _relative(Path(error.filename), app_dir, error.lineno)
    elif ours:
        where = _relative(Path(ours[-1].filename), app_dir, ours[-1].lineno)
    kind = type(error).__name__
    text = f"{kind}: {error}" if str(error) else kind
    if isinstance(error, SystemExit):
        text = f"calls sys.exit({error.code!r}) while app/ is imported"
    source = ours[-1].line if ours else None
    found = in_context(text, source, None) or advice(text)
    return f"{where}: {brief(text)}" + (f"\n{found}" if found else "")


def _inside(path: Path, app_dir: Path) -> bool:
    return path.resolve().is_relative_to((app_dir / "app").resolve())


def _relative(path: Path, app_dir: Path, line: int | None) -> str:
    try:
        name = path.resolve().relative_to(app_dir.resolve()).as_posix()
    except ValueError:
        name = path.name
    return f"{name}:{line}" if line else name
