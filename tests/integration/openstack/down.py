"""Tear down what ``up.py`` started: its processes by PID, its databases, vhost and directory.

python tests/integration/openstack/down.py DIR
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


def stop(pids: dict[str, int]) -> None:
    """SIGTERM each recorded process group (its leader is the recorded PID), then SIGKILL."""
    for pid in pids.values():
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in pids.values()):
        time.sleep(0.2)
    for pid in pids.values():
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    root = Path(sys.argv[1])
    state = json.loads((root / "state.json").read_text())
    stop({k: int(v) for k, v in state.get("pids", {}).items()})
    suffix = state["suffix"]
    for name in ("placement", "nova_api", "nova", "nova_cell0"):
        subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-qc",
                f"DROP DATABASE IF EXISTS {name}_{suffix} WITH (FORCE)",
            ],
            check=False,
        )
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", f"nfvo_os_{suffix}"], check=False)
    shutil.rmtree(root, ignore_errors=True)
    print(f"removed {root}")


if __name__ == "__main__":
    main()
