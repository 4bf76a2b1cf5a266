"""The bytecode of what a learner's programs import, compiled once by setup.

    .venv/bin/python -m workshop.bytecode

`workshop setup` installs the locks with `pip install --no-compile`: pip would
compile every module of every package (62 MB, two thirds of it never
imported). Python writes the rest on first import, but not for the checks: they
run with bytecode off (workshop/checks/suites.py), so without this each check
would compile FastAPI, pydantic, pytest, Celery... again, 1.5 to 2.5 times its
CPU time (docs/BENCHMARKS.md). So setup imports what the app of every step,
the checks, `make run` and `make worker` import, and compiles those modules of
.venv alone (never app/ or workshop/: run with PYTHONDONTWRITEBYTECODE=1).
"""

from __future__ import annotations

import compileall
import importlib
import os
import sys
import sysconfig
import warnings

# The app (steps 0-9), its checks (pytest, the TestClient, the plugins pytest
# loads at start), the dev server (uvicorn's modules it picks at run time), the
# worker and its brokers (kombu's SQLite and Redis transports): each module
# here is imported with everything it imports. Modules found by a run of
# `workshop check 9 --checkpoint 9` with bytecode on.
IMPORTED = (
    "fastapi", "fastapi.testclient", "fastapi_offline", "pydantic", "pydantic.v1",
    "pydantic_settings", "email_validator", "multipart", "python_multipart",
    "httpx", "httpcore", "certifi", "anyio._backends._asyncio",
    "anyio.pytest_plugin", "pytest", "_pytest.config",
    "uvicorn", "uvicorn.loops.auto", "uvicorn.loops.asyncio",
    "uvicorn.protocols.http.auto", "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.websockets.auto", "uvicorn.lifespan.on",
    "uvicorn.supervisors", "watchfiles",
    "celery", "celery.bin.celery", "celery.apps.worker", "celery.worker",
    "celery.worker.consumer", "celery.concurrency.thread",
    "celery.concurrency.prefork", "celery.events", "celery.backends.base",
    "celery.contrib.testing.worker", "billiard.pool", "kombu.pidbox",
    "kombu.mixins", "kombu.transport.memory", "kombu.transport.sqlalchemy",
    "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.mysql", "redis",
    "kombu.transport.redis",
)  # fmt: skip


def import_all(names: tuple[str, ...]) -> list[str]:
    """Import each module (and pytest's own plugins); the names that failed."""
    failed = []
    for name in names:
        try:
            module = importlib.import_module(name)
            for plugin in getattr(module, "default_plugins", ()):  # _pytest.config
                importlib.import_module(f"_pytest.{plugin}")
        except Exception:  # a module this OS lacks: the rest is still compiled
            failed.append(name)
    return failed


def compile_site_packages() -> int:
    """Compile each imported module that lives in site-packages."""
    site = os.path.normcase(sysconfig.get_path("purelib"))
    sources = {
        os.path.normcase(path)
        for module in list(sys.modules.values())
        if (path := getattr(module, "__file__", None) or "").endswith(".py")
    }
    inside = sorted(s for s in sources if s.startswith(site + os.sep))
    return sum(bool(compileall.compile_file(s, quiet=2)) for s in inside)


def main() -> int:
    warnings.simplefilter("ignore")  # deprecations of modules imported here
    failed = import_all(IMPORTED)
    compiled = compile_site_packages()
    if failed:
        print(f"bytecode: not compiled (did not import): {', '.join(failed)}")
    return 0 if compiled else 1


if __name__ == "__main__":
    sys.exit(main())
