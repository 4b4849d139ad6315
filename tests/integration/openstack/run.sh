#!/usr/bin/env bash
# Bring up the loopback OpenStack (up.py), run the OpenStack contract against it, tear it down.
# Needs PostgreSQL and RabbitMQ on 127.0.0.1. Extra arguments go to pytest.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
dir="$(mktemp -d -t nfvo-openstack-XXXXXX)"
trap 'python3 "$here/down.py" "$dir" >/dev/null 2>&1 || true' EXIT
python3 "$here/up.py" --dir "$dir" >/dev/null
# shellcheck disable=SC1091
. "$dir/env"
cd "$repo"
.venv/bin/python -m pytest -q -p no:warnings tests/integration/openstack "$@"
