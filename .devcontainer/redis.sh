#!/bin/sh
# Redis for step 8, in the dev container: `sh .devcontainer/redis.sh install`
# (onCreateCommand: Codespaces prebuilds run it, so it is in the image) and
# `sh .devcontainer/redis.sh start` (postStartCommand: every container start).
#
# Installed with the image's package manager rather than as a compose service:
# the container stays one image (one-click start, the same lifecycle test), and
# Redis listens on 127.0.0.1:6379 inside it, where the app and the tests look.
# Nothing depends on it: without Redis (no sudo, no network) this says so and
# exits 0, and step 8 runs on its no-server default broker (an SQLite file).
set -u
ping_redis() {
    python3 - <<'PY'
import socket
import sys

with socket.socket() as sock:
    sock.settimeout(1)
    sys.exit(0 if sock.connect_ex(("127.0.0.1", 6379)) == 0 else 1)
PY
}

case "${1:-}" in
install)
    if command -v redis-server > /dev/null; then
        echo "Redis is installed."
    elif sudo -n true 2> /dev/null \
        && sudo -n apt-get update -qq \
        && sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server > /dev/null; then
        echo "Redis installed (step 8: CELERY_BROKER_URL=redis://127.0.0.1:6379/0)."
    else
        echo "Redis could not be installed here: step 8 uses its SQLite broker."
    fi
    ;;
start)
    if ping_redis; then
        echo "Redis is running on 127.0.0.1:6379."
    elif command -v redis-server > /dev/null; then
        redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save "" > /dev/null \
            && echo "Redis started on 127.0.0.1:6379."
    else
        echo "No Redis here: step 8 uses its SQLite broker."
    fi
    ;;
*)
    echo "usage: sh .devcontainer/redis.sh install|start" >&2
    exit 2
    ;;
esac
exit 0
