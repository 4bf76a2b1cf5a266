"""`workshop worker`: the Celery worker of app/worker.py, restarted on every save
(workshop/devserver/worker_supervisor.py), as `workshop serve` restarts the
app. Ctrl-C stops it warm (running jobs finish), a second one kills it.
"""

from __future__ import annotations

from pathlib import Path

from workshop.devserver.served_data import served_folder
from workshop.devserver.supervisor import say
from workshop.devserver.worker_process import CONCURRENCY
from workshop.devserver.worker_supervisor import WorkerSupervisor, marked
from workshop.errors import WorkshopError
from workshop.project import APP


def worker(
    root: Path, *, checkpoint: str | None = None, concurrency: int = CONCURRENCY
) -> int:
    """Run app/worker.py's Celery worker (or checkpoint N's) until stopped."""
    folder = served_folder(root, checkpoint)
    app_dir = folder / APP
    shown = app_dir.relative_to(root).as_posix()
    if not (app_dir / "worker.py").is_file():
        raise WorkshopError(
            f"{shown}/worker.py does not exist: the worker comes with step 8 "
            "(checkpoints/step-8/README.md)"
        )
    if concurrency < 1:
        raise WorkshopError(f"--concurrency must be at least 1, not {concurrency}")
    say(
        f"Running the Celery worker of {shown}/worker.py ({concurrency} threads); "
        f"it restarts when you save a file in {shown}/. Ctrl-C stops it."
    )
    with marked(root):
        return WorkerSupervisor(folder=folder, root=root, concurrency=concurrency).run()
