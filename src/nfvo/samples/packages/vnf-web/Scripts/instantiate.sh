#!/bin/sh
# Runs after the web-frontend VNF is instantiated: waits until nginx answers.
set -eu
for attempt in 1 2 3 4 5; do
    if wget -q -O /dev/null "http://${WEB_ADDRESS:-127.0.0.1}/"; then
        echo "web-frontend is serving (attempt ${attempt})"
        exit 0
    fi
    sleep 2
done
echo "web-frontend did not come up" >&2
exit 1
