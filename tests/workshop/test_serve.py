"""`workshop serve`: a real server on a free port that restarts on save, survives
a broken save, stops gracefully on the first Ctrl-C and at once on the second.

Every test runs `workshop serve` as a user would (its own process group, like a
terminal's foreground job) and waits for what it prints or serves; a signal
goes to the whole group, as the terminal sends Ctrl-C.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support.live import free_port

TIMEOUT = 60  # seconds; reached only when something is wrong
PROMPT = 10  # seconds for `workshop serve` to react to a signal
FIX_IT = "fix it and save: the app restarts"
STOPPING = "stopping: waiting for running background tasks; Ctrl-C again to force"

APP = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def where() -> dict[str, str]:
    return {{"where": "{where}"}}
"""


def get(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def wait_for(
    url: str,
    expected: dict,
    process: subprocess.Popen,
    log: Path,
    timeout: float = TIMEOUT,
) -> None:
    """Poll `url` until it answers `expected`; fail if the server dies or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if get(url) == expected:
            return
        if process.poll() is not None:
            pytest.fail(
                f"the server exited with {process.returncode}:\n{log.read_text()}"
            )
        time.sleep(0.1)  # polling interval, not a wait for an event
    pytest.fail(f"{url} never answered {expected}:\n{log.read_text()}")


# A background task that waits for a file gate (paths are relative: the app's
# working directory is the repository root).
TASK_APP = """\
import time
from pathlib import Path

from fastapi import BackgroundTasks, FastAPI

app = FastAPI()


def deliver() -> None:
    Path("started").touch()
    deadline = time.monotonic() + 60
    while not Path("gate").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    Path("delivered").touch()


@app.get("/")
def where() -> dict[str, str]:
    return {"where": "app"}


@app.post("/send")
def send(background_tasks: BackgroundTasks) -> dict[str, str]:
    background_tasks.add_task(deliver)
    return {"queued": "deliver"}
"""

STARTUP_FAILS = """\
from contextlib import asynccontextmanager

from fastapi import FastAPI


@asynccontextmanager
async def lifespan(app: FastAPI):
    raise RuntimeError("no database")
    yield


app = FastAPI(lifespan=lifespan)
"""


def fetch(
    url: str, data: bytes | None = None, timeout: float = TIMEOUT
) -> tuple[int, str]:
    """(status, body) of a request that must get an answer."""
    try:
        with urllib.request.urlopen(url, data=data, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for_line(
    log: Path, text: str, process: subprocess.Popen, timeout: float = TIMEOUT
) -> str:
    """Wait until `text` is in the log and return the log; fail if the server exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = log.read_text()
        if text in output:
            return output
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{output}")
        time.sleep(0.05)  # polling interval, not a wait for an event
    pytest.fail(f"{text!r} never appeared:\n{log.read_text()}")


def wait_for_file(path: Path, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{path.name} never appeared:\n{log.read_text()}")
        time.sleep(0.01)  # polling interval, not a wait for an event


def restarts(log: Path) -> list[str]:
    return [line for line in log.read_text().splitlines() if "restarting" in line]


@pytest.fixture
def fastapi_repo(workshop_repo: Path) -> Path:
    """The fake repo, with a FastAPI app in app/ and in checkpoint 1."""
    for folder in ("app", "checkpoints/step-1/app"):
        main = workshop_repo / folder / "main.py"
        main.write_text(APP.format(where=folder), encoding="utf-8")
    return workshop_repo


@pytest.fixture
def serve(tmp_path: Path):
    """`serve(root, *args)` starts `workshop serve` -> (process, url, log file)."""
    started: list[subprocess.Popen] = []

    def start(
        root: Path, *args: str, env: dict[str, str] | None = None
    ) -> tuple[subprocess.Popen, str, Path]:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "workshop", "serve", "--port", str(port), *args],
                cwd=root,
                env={**os.environ, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: the reloader and its worker
            )
        started.append(process)
        return process, f"http://127.0.0.1:{port}/", log

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def task_repo(fastapi_repo: Path, serve):
    """A repo whose app runs a background task that waits for `gate`.

    It uses `serve`, so its teardown opens the gate before `serve` stops the
    servers: a failed test never leaves a task (and a teardown) waiting.
    """
    (fastapi_repo / "app" / "main.py").write_text(TASK_APP, encoding="utf-8")
    yield fastapi_repo
    (fastapi_repo / "gate").touch()


def test_serve_runs_app_and_reloads_on_save(fastapi_repo: Path, serve) -> None:
    """It serves app/ and restarts it on a save there, and only there."""
    process, url, log = serve(fastapi_repo)
    wait_for(url, {"where": "app"}, process, log)
    assert log.read_text().startswith(
        f"Serving app/ at {url[:-1]} (docs at {url}docs); it restarts when you "
        "save a file in app/. Ctrl-C stops it.\n"
    )
    for outside in ("README.py", "checkpoints/step-1/app/main.py"):
        (fastapi_repo / outside).write_text("# not served\n", encoding="utf-8")
    main = fastapi_repo / "app" / "main.py"
    main.write_text(APP.format(where="app, edited"), encoding="utf-8")
    wait_for(url, {"where": "app, edited"}, process, log)
    assert restarts(log) == ["app/main.py changed: restarting the app"]


def test_serve_a_checkpoint(fastapi_repo: Path, serve) -> None:
    """--checkpoint 1 serves and watches that checkpoint's app, not app/."""
    process, url, log = serve(fastapi_repo, "--checkpoint", "1")
    wait_for(url, {"where": "checkpoints/step-1/app"}, process, log)
    assert log.read_text().startswith("Serving checkpoints/step-1/app/ at ")
    (fastapi_repo / "app" / "main.py").write_text("# not served\n", encoding="utf-8")
    main = fastapi_repo / "checkpoints" / "step-1" / "app" / "main.py"
    main.write_text(APP.format(where="step 1, edited"), encoding="utf-8")
    wait_for(url, {"where": "step 1, edited"}, process, log)
    assert restarts(log) == [
        "checkpoints/step-1/app/main.py changed: restarting the app"
    ]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--checkpoint", "4"], "unknown step '4': valid steps are 0, 1, 2"),
        (["--port", "70000"], "invalid port 70000: use 1 to 65535"),
    ],
)
def test_serve_errors(workshop_repo, run_workshop, args, error: str) -> None:
    code, out, err = run_workshop("serve", *args, cwd=workshop_repo)
    assert (code, out, err) == (2, "", f"workshop: {error}\n")


def test_serve_without_an_app(workshop_repo, run_workshop) -> None:
    (workshop_repo / "app" / "main.py").unlink()
    code, _, err = run_workshop("serve", cwd=workshop_repo)
    assert code == 2
    assert err.startswith("workshop: no app to serve:") and err.count("\n") == 1


# --- a broken save ------------------------------------------------------------


def test_an_app_that_does_not_import_at_start_comes_back_on_save(
    fastapi_repo: Path, serve
) -> None:
    """The error is one line, printed once, and the next good save serves the app."""
    main = fastapi_repo / "app" / "main.py"
    broken = APP.format(where="app") + "\nprint(undefined_name)\n"
    main.write_text(broken, encoding="utf-8")
    line = broken.count("\n")
    process, url, log = serve(fastapi_repo)
    output = wait_for_line(log, "NameError", process)
    expected = (
        f"app/main.py:{line}: NameError: name 'undefined_name' is not defined"
        f" — {FIX_IT}"
    )
    assert expected in output.splitlines()
    assert output.count("NameError") == 1
    assert "Traceback" not in output
    # meanwhile a browser gets the same line instead of waiting
    status, page = fetch(url)
    assert status == 503
    assert page.startswith(f"The app does not import:\n\n{expected}\n")
    main.write_text(APP.format(where="app, fixed"), encoding="utf-8")
    wait_for(url, {"where": "app, fixed"}, process, log)
    assert log.read_text().count("NameError") == 1


def test_an_import_that_never_finishes_is_one_line_with_its_place(
    fastapi_repo: Path, serve
) -> None:
    """A save whose import hangs: within the import limit, one line naming the
    line of app/ it is stuck on (as `workshop check` does); the fix serves."""
    process, url, log = serve(fastapi_repo, env={"WORKSHOP_IMPORT_LIMIT": "1"})
    wait_for(url, {"where": "app"}, process, log)
    main = fastapi_repo / "app" / "main.py"
    hangs = APP.format(where="app") + "\nwhile True:\n    pass\n"
    main.write_text(hangs, encoding="utf-8")
    loop = hangs.count("\n") - 1  # `while True:` (its `pass` is the next line)
    output = wait_for_line(log, "did not finish", process)
    expected = [
        f"importing app/ did not finish in 1 s (stuck at app/main.py:{n} in "
        "<module>): code at the top of a module runs on import"
        for n in (loop, loop + 1)
    ]
    [said] = [x for x in output.splitlines() if "did not finish" in x]
    assert said.startswith(tuple(expected)), output
    assert said.endswith(f" — {FIX_IT}")
    assert "Traceback" not in output
    main.write_text(APP.format(where="app, fixed"), encoding="utf-8")
    wait_for(url, {"where": "app, fixed"}, process, log)


def test_a_save_that_breaks_the_running_app_is_one_line(
    fastapi_repo: Path, serve
) -> None:
    """A running app broken by a save: one line, no traceback; the fix restarts it."""
    process, url, log = serve(fastapi_repo)
    wait_for(url, {"where": "app"}, process, log)
    main = fastapi_repo / "app" / "main.py"
    broken = APP.format(where="app") + "\nx = (\n"
    main.write_text(broken, encoding="utf-8")
    line = broken.count("\n")
    output = wait_for_line(log, "SyntaxError", process)
    expected = (
        f"app/main.py:{line}: SyntaxError: '(' was never closed (main.py, "
        f"line {line}) — {FIX_IT}"
    )
    assert expected in output.splitlines()
    assert "Traceback" not in output
    assert fetch(url)[0] == 503
    main.write_text(APP.format(where="app, fixed"), encoding="utf-8")
    wait_for(url, {"where": "app, fixed"}, process, log)
    assert log.read_text().count("SyntaxError") == 1


def test_an_app_whose_startup_fails_comes_back_on_save(
    fastapi_repo: Path, serve
) -> None:
    """A lifespan that raises (say, a typo in the schema) is answered, not hung."""
    main = fastapi_repo / "app" / "main.py"
    main.write_text(STARTUP_FAILS, encoding="utf-8")
    process, url, log = serve(fastapi_repo)
    expected = f"the app's startup failed (the error is above) — {FIX_IT}"
    wait_for_line(log, "RuntimeError: no database", process)
    assert fetch(url, timeout=PROMPT) == (503, f"{expected}\n")
    assert expected in log.read_text().splitlines()
    main.write_text(APP.format(where="app, fixed"), encoding="utf-8")
    wait_for(url, {"where": "app, fixed"}, process, log)


# --- stopping -----------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["INT", "TERM"])
def test_the_first_stop_waits_for_running_tasks_and_says_so(
    task_repo: Path, serve, signum: int
) -> None:
    """Ctrl-C (or SIGTERM, a dev container stopping) waits for a running task."""
    process, url, log = serve(task_repo)
    wait_for(url, {"where": "app"}, process, log)
    assert fetch(f"{url}send", data=b"") == (200, '{"queued":"deliver"}')
    wait_for_file(task_repo / "started", process, log)
    os.killpg(process.pid, signum)
    wait_for_line(log, STOPPING, process, timeout=PROMPT)
    assert process.poll() is None  # still waiting for the task
    (task_repo / "gate").touch()
    assert process.wait(timeout=TIMEOUT) == 0
    assert (task_repo / "delivered").exists()
    output = log.read_text()
    assert output.count(STOPPING) == 1
    assert "Traceback" not in output


def test_a_save_restarts_the_app_even_when_a_task_never_ends(
    task_repo: Path, serve
) -> None:
    """A task that never ends (its gate stays shut) keeps a graceful stop waiting
    for ever; a save still brings the new code in, after a short grace, and
    says why the old task was stopped."""
    process, url, log = serve(task_repo)
    wait_for(url, {"where": "app"}, process, log)
    fetch(f"{url}send", data=b"")
    wait_for_file(task_repo / "started", process, log)
    main = task_repo / "app" / "main.py"
    main.write_text(APP.format(where="fixed"), encoding="utf-8")
    wait_for(url, {"where": "fixed"}, process, log, timeout=PROMPT)
    assert "(an endless loop?): stopped them to restart" in log.read_text()
    assert not (task_repo / "delivered").exists()


def test_a_second_ctrl_c_forces(task_repo: Path, serve) -> None:
    """The second Ctrl-C stops at once: the task never finishes, the port is free."""
    process, url, log = serve(task_repo)
    wait_for(url, {"where": "app"}, process, log)
    fetch(f"{url}send", data=b"")
    wait_for_file(task_repo / "started", process, log)
    os.killpg(process.pid, signal.SIGINT)
    wait_for_line(log, STOPPING, process, timeout=PROMPT)
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=PROMPT) == 0
    assert not (task_repo / "delivered").exists()
    port = int(url.rsplit(":", 1)[1].strip("/"))
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))  # no app process was left behind
    assert "Traceback" not in log.read_text()


# --- the port -------------------------------------------------------------------


def test_a_busy_port_is_one_line_with_the_way_out(fastapi_repo, run_workshop) -> None:
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        code, out, err = run_workshop("serve", "--port", str(port), cwd=fastapi_repo)
    assert (code, out) == (2, "")
    match = re.fullmatch(
        rf"workshop: port {port} is in use \(another workshop serve\?\): stop it, "
        r"or run make run PORT=(\d+) / workshop serve --port (\d+)\n",
        err,
    )
    assert match, err
    assert match[1] == match[2] and int(match[1]) > port


# --- the app process and the supervisor -----------------------------------------


def test_an_app_process_that_ends_comes_back_on_save(fastapi_repo: Path, serve) -> None:
    """The app process exits on its own: one line; a save starts it again; Ctrl-C
    while it is down ends serve at once."""
    main = fastapi_repo / "app" / "main.py"
    die = '\n\n@app.get("/die")\ndef die() -> None:\n    import os\n\n    os._exit(4)\n'
    main.write_text(APP.format(where="app") + die, encoding="utf-8")
    process, url, log = serve(fastapi_repo)
    wait_for(url, {"where": "app"}, process, log)
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"{url}die", timeout=PROMPT)
    wait_for_line(log, f"the app stopped (exit status 4) — {FIX_IT}", process)
    main.write_text(APP.format(where="app, back") + die, encoding="utf-8")
    wait_for(url, {"where": "app, back"}, process, log)
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"{url}die", timeout=PROMPT)
    wait_for_line(log, "(exit status 4)", process)
    os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=PROMPT) == 0


def test_killing_serve_leaves_no_app_behind(fastapi_repo: Path, serve) -> None:
    """kill -9 of workshop serve (or a closed terminal): the app stops too."""
    process, url, log = serve(fastapi_repo)
    wait_for(url, {"where": "app"}, process, log)
    os.killpg(process.pid, signal.SIGKILL)  # the app has a process group of its own
    process.wait(timeout=PROMPT)
    port = int(url.rsplit(":", 1)[1].strip("/"))
    deadline = time.monotonic() + PROMPT
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return  # nothing listens any more
        time.sleep(0.05)  # polling interval, not a wait for an event
    pytest.fail(f"an app process still holds port {port}:\n{log.read_text()}")


def test_restarts_go_on_after_app_is_removed_and_restored(
    fastapi_repo: Path, serve, tmp_path: Path
) -> None:
    """rm -rf app, then app/ back (a copy, a git checkout): saves restart it again."""
    process, url, log = serve(fastapi_repo)
    wait_for(url, {"where": "app"}, process, log)
    app = fastapi_repo / "app"
    shutil.copytree(app, tmp_path / "saved")
    shutil.rmtree(app)
    wait_for_line(log, f"app/main.py: no such file — {FIX_IT}", process)
    shutil.copytree(tmp_path / "saved", app)
    wait_for_line(log, "app/ is back: restarting the app", process, timeout=PROMPT)
    (app / "main.py").write_text(APP.format(where="app, again"), encoding="utf-8")
    wait_for(url, {"where": "app, again"}, process, log)


def test_an_app_folder_replaced_at_once_is_served_and_watched(
    fastapi_repo: Path, serve, tmp_path: Path
) -> None:
    """app/ swapped for another folder in one rename: the new one is served."""
    process, url, log = serve(fastapi_repo)
    wait_for(url, {"where": "app"}, process, log)
    app = fastapi_repo / "app"
    new = fastapi_repo / "app-new"
    shutil.copytree(app, new)
    (new / "main.py").write_text(APP.format(where="app, swapped"), encoding="utf-8")
    app.rename(tmp_path / "old-app")
    new.rename(app)
    wait_for(url, {"where": "app, swapped"}, process, log)
    (app / "main.py").write_text(APP.format(where="app, saved"), encoding="utf-8")
    wait_for(url, {"where": "app, saved"}, process, log)


def test_an_app_folder_removed_and_restored_at_once_is_still_watched(
    fastapi_repo: Path, serve, tmp_path: Path
) -> None:
    """rm -rf app; cp -r saved app with no pause between: the new app/ often
    gets the old one's inode number, and must still be watched."""
    process, url, log = serve(fastapi_repo)
    wait_for(url, {"where": "app"}, process, log)
    app = fastapi_repo / "app"
    shutil.copytree(app, tmp_path / "saved")
    for attempt in range(3):  # a new number, or the same one: both must work
        shutil.rmtree(app)
        shutil.copytree(tmp_path / "saved", app)
        where = f"app, restored {attempt}"
        (app / "main.py").write_text(APP.format(where=where), encoding="utf-8")
        wait_for(url, {"where": where}, process, log)


BREAKPOINT_APP = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/")
def where() -> dict[str, str]:
    breakpoint()
    return {"where": "past the breakpoint"}
"""


def test_a_breakpoint_says_where_to_debug_and_the_request_goes_on(
    fastapi_repo: Path, serve
) -> None:
    """The app process has no terminal, so pdb cannot stop there: one line says
    so (once per place) and names what can, and the request still answers."""
    (fastapi_repo / "app" / "main.py").write_text(BREAKPOINT_APP, encoding="utf-8")
    process, url, log = serve(fastapi_repo)
    wait_for(url, {"where": "past the breakpoint"}, process, log)
    assert get(url) == {"where": "past the breakpoint"}
    output = wait_for_line(log, "app/main.py:8: breakpoint() does not stop", process)
    assert output.count("breakpoint() does not stop") == 1
    assert '"Debug the app"' in output
    assert "Traceback" not in output
