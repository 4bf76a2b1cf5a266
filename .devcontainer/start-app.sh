#!/bin/sh
# Start the workshop app for the dev container (its postAttachCommand).
#
# Runs `make run` in the foreground of its own terminal, so the reload messages
# and any error stay visible there. Every attach runs this script again; when
# something already answers on the port, it says so and exits instead of
# starting a second server that would fail with "address already in use".
set -eu
port="${PORT:-8000}"

if python3 - "$port" <<'PY'
import socket
import sys

with socket.socket() as sock:
    sock.settimeout(1)
    sys.exit(0 if sock.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
then
    echo "The app is already running on port $port (docs at /docs)."
    exit 0
fi

echo "Starting the app with reload on port $port (docs at /docs); stop it with Ctrl+C, start it again with 'make run'."
exec make run PORT="$port"
