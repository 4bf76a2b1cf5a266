#!/bin/sh
# Start the Celery worker of step 8 for the dev container (its postAttachCommand,
# beside start-app.sh, in a terminal of its own).
#
# Steps 0 to 7 have no app/worker.py: the script waits quietly until there is
# one (a learner reaching step 8, or `workshop goto 8`), then runs `make worker`,
# which restarts the worker on every save. Only one such script runs: a second
# attach finds the lock taken and leaves the running one alone.
set -eu
mkdir -p .workshop
exec 9> .workshop/start-worker.lock
if ! flock -n 9; then
    echo "The worker is already started (or waits for app/worker.py)."
    exit 0
fi
if [ ! -f app/worker.py ]; then
    echo "Waiting for app/worker.py (step 8) to start the Celery worker."
    while [ ! -f app/worker.py ]; do sleep 2; done
fi
echo "Starting the Celery worker; it restarts on every save. Stop it with Ctrl+C, start it again with 'make worker'."
exec make worker
