"""Container health check: exit 0 when this nfvo process answers.

An API node (role ``all`` or ``api``) must answer ``GET /nslcm/api_versions``; a worker node
serves no API, so for it ``/healthz`` reporting ``"role": "worker"`` is the check.
``NFVO_HEALTH_URL`` is the server's base URL (default ``http://127.0.0.1:8080``).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

BASE = os.environ.get("NFVO_HEALTH_URL", "http://127.0.0.1:8080").rstrip("/")
TIMEOUT = 4.0


def get(path: str) -> dict:
    """The JSON body of ``GET BASE+path``; raises on any error status."""
    with urllib.request.urlopen(BASE + path, timeout=TIMEOUT) as r:
        return json.load(r)


def check() -> str:
    """What answered; raises when nothing healthy did."""
    try:
        body = get("/nslcm/api_versions")
        return f"nslcm API {body['apiVersions'][0]['version']}"
    except urllib.error.HTTPError as exc:
        if exc.code != 404:
            raise
    health = get("/healthz")  # no API here: only a worker may answer this way
    if health.get("role") != "worker" or health.get("status") != "ok":
        raise RuntimeError(f"/nslcm/api_versions is 404 and /healthz says {health}")
    return "worker"


def main() -> int:
    try:
        print(check())
    except Exception as exc:  # any failure means unhealthy
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
