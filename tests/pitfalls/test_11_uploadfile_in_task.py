"""Pitfall 11: an `UploadFile` handed to a background task.

FastAPI 0.106.0 closed the request's files before the background tasks ran
(fastapi#10857: the task read a closed file); on FastAPI 0.163.2 / Starlette
1.10.0, measured here with a real uvicorn server, the `UploadFile` is still
open and readable when the task runs, for an `async def` task (`await
file.read()`) and a `def` task (`file.file.read()`), for a file kept in
memory (5 B) and one Starlette has spooled to a temporary file on disk
(2 MiB, above its 1 MiB threshold). The file is closed only after the last
task of the request: the upload is held (memory or a temporary file) for as
long as the tasks run.

The task waits on a gate until the client has its response, so "still
readable" is proven after the response, not before it.
"""

import threading

import anyio
import pytest
from fastapi import BackgroundTasks, FastAPI, UploadFile

SIZES = {"5 B": 5, "2 MiB": 2 * 1024 * 1024}


def make_app(seen: dict[str, object], shut: threading.Event) -> FastAPI:
    app = FastAPI()

    async def read_async(file: UploadFile) -> None:
        while not shut.is_set():  # wait without blocking the event loop
            await anyio.sleep(0.005)
        seen["async"] = await file.read()

    def read_sync(file: UploadFile) -> None:
        file.file.seek(0)
        seen["def"] = file.file.read()
        seen["on disk"] = file.file._rolled  # SpooledTemporaryFile: moved to disk
        seen["file"] = file

    @app.post("/imports", status_code=202)
    async def start_import(
        file: UploadFile, background_tasks: BackgroundTasks
    ) -> dict[str, int]:
        background_tasks.add_task(read_async, file)
        background_tasks.add_task(read_sync, file)
        return {"size": file.size or 0}

    return app


@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_an_uploadfile_is_still_readable_when_the_task_runs(
    serve, gate, wait_until, size
):
    seen: dict[str, object] = {}
    shut = gate()
    server = serve(make_app(seen, shut))
    content = bytes(range(256)) * (size // 256) + b"x" * (size % 256)

    response = server.post("/imports", files={"file": ("a.csv", content)})

    assert response.status_code == 202  # answered while the task waits
    assert response.json() == {"size": size}
    assert seen == {}
    shut.set()
    wait_until(lambda: "file" in seen, "both tasks read the file")
    assert seen["async"] == content
    assert seen["def"] == content
    assert seen["on disk"] == (size > 1024 * 1024)  # Starlette's spool_max_size
    upload = seen["file"]
    wait_until(lambda: upload.file.closed, "the request closed the file")
