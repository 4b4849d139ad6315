"""A container engine for the image tests: find a usable client, start the daemon when it is
not running, make the base image without a registry, build and run the nfvo image.

As a script (what ``.ci/run`` calls; needs root for the daemon and debootstrap)::

    python3 tests/support/container.py up [--base-image TAG]

prints ``NAME=value`` lines to export (``NFVO_TEST_CONTAINER_ENGINE``, ``NFVO_TEST_DOCKER``,
``NFVO_TEST_BASE_IMAGE``) and exits 0, or prints why no engine is usable and exits 1.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASE_SCRIPT = ROOT / "deploy" / "image" / "build-base.sh"
DEFAULT_BASE = "nfvo-base:bookworm"
# The standard Debian location of the system CA bundle. Handed to pip in the build stage as a
# BuildKit secret, so a build behind a TLS-intercepting proxy whose CA the host trusts works;
# with direct internet it is simply the usual trust store.
DEFAULT_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# Root in some sandboxes may not raise these limits; docker's defaults would ask it to.
DOCKERD_ULIMITS = ("nofile=20000:20000", "nproc=32768:32768")


class EngineUnavailable(Exception):
    """No container engine can be used here; the message says why."""


def _run(cmd: list[str], timeout: float = 60, **kw: object) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


def _client_major(client: str) -> int | None:
    try:
        r = _run([client, "version", "--format", "{{.Client.Version}}"], timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.match(r"(\d+)\.", r.stdout.strip())
    return int(m.group(1)) if m else None


def find_docker_client() -> str:
    """Path of a docker CLI that can run BuildKit builds (``RUN --mount`` needs them).

    ``NFVO_TEST_DOCKER`` wins. Otherwise the first ``docker`` on PATH that has the buildx
    plugin, or is older than 23 (BuildKit built into the client).
    """
    if os.environ.get("NFVO_TEST_DOCKER"):
        return os.environ["NFVO_TEST_DOCKER"]
    seen: list[str] = []
    for d in os.environ.get("PATH", "").split(os.pathsep):
        path = os.path.join(d, "docker")
        real = os.path.realpath(path)
        if not os.access(path, os.X_OK) or real in seen:
            continue
        seen.append(real)
        if _run([path, "buildx", "version"], timeout=20).returncode == 0:
            return path
        major = _client_major(path)
        if major is not None and major < 23:
            return path
    if not seen:
        raise EngineUnavailable("no docker client on PATH")
    raise EngineUnavailable(
        f"no docker client that can run BuildKit builds among {seen} "
        "(install the buildx plugin, or Debian's docker.io)"
    )


def daemon_error(client: str) -> str | None:
    """None when the daemon answers, else its error."""
    try:
        r = _run([client, "version", "--format", "{{.Server.Version}}"], timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return None if r.returncode == 0 and r.stdout.strip() else (r.stderr.strip() or r.stdout)


def start_dockerd(client: str, timeout: float = 60) -> None:
    """Start ``dockerd`` in the background when its daemon is not answering (needs root)."""
    if daemon_error(client) is None:
        return
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise EngineUnavailable("the docker daemon is not running and dockerd is not installed")
    if os.geteuid() != 0:
        raise EngineUnavailable("the docker daemon is not running and starting it needs root")
    log = Path(tempfile.gettempdir()) / "nfvo-dockerd.log"
    cmd = [dockerd]
    for limit in DOCKERD_ULIMITS:
        cmd += ["--default-ulimit", limit]
    subprocess.Popen(
        cmd,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while (err := daemon_error(client)) is not None:
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace").splitlines()[-15:]
            raise EngineUnavailable(
                f"dockerd did not answer in {timeout:.0f} s: {err}\n" + "\n".join(tail)
            )
        time.sleep(0.5)


def image_exists(client: str, tag: str) -> bool:
    return _run([client, "image", "inspect", tag]).returncode == 0


def ensure_base_image(client: str, tag: str = DEFAULT_BASE) -> None:
    """Make ``tag`` with deploy/image/build-base.sh (debootstrap + import) unless it exists."""
    if image_exists(client, tag):
        return
    r = _run(["bash", str(BASE_SCRIPT), tag], timeout=900, env={**os.environ, "DOCKER": client})
    if r.returncode != 0:
        raise EngineUnavailable(f"cannot make the base image {tag}: {r.stderr.strip()[-2000:]}")


@dataclass
class Engine:
    """A reachable docker daemon and the client to drive it."""

    client: str

    def run(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        r = _run([self.client, *args], timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {r.stderr.strip()[-3000:]}")
        return r.stdout.strip()

    def build(
        self, tag: str, base_image: str | None, log: Path, ca_bundle: str | None = None
    ) -> float:
        """Build the repository's Dockerfile as ``tag``; returns the wall time in seconds."""
        cmd = [self.client, "build", "--progress=plain", "-t", tag]
        if base_image:
            cmd += ["--build-arg", f"BASE_IMAGE={base_image}"]
        ca = ca_bundle if ca_bundle is not None else DEFAULT_CA_BUNDLE
        if ca and os.path.isfile(ca):
            cmd += ["--secret", f"id=pip-ca,src={ca}"]
        started = time.monotonic()
        with log.open("wb") as out:
            r = subprocess.run(
                [*cmd, str(ROOT)],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "DOCKER_BUILDKIT": "1"},
                timeout=1800,
            )
        if r.returncode != 0:
            tail = log.read_text(errors="replace").splitlines()[-40:]
            raise AssertionError("docker build failed:\n" + "\n".join(tail))
        return time.monotonic() - started

    def logs(self, container: str, tail: int = 40) -> str:
        """The container's last output lines (stdout and stderr)."""
        r = _run([self.client, "logs", "--tail", str(tail), container])
        return r.stdout + r.stderr

    def health(self, container: str) -> str:
        return self.run("inspect", "--format", "{{.State.Health.Status}}", container)

    def wait_healthy(self, container: str, timeout: float = 120) -> float:
        """Seconds until the container's HEALTHCHECK reports healthy."""
        started = time.monotonic()
        while (status := self.health(container)) != "healthy":
            running = self.run("inspect", "--format", "{{.State.Running}}", container)
            if running != "true" or time.monotonic() - started > timeout:
                logs = self.logs(container)
                raise AssertionError(f"{container} is {status} (running={running}):\n{logs}")
            time.sleep(0.2)
        return time.monotonic() - started


def engine_from_env() -> Engine:
    """The engine the tests use; raises :class:`EngineUnavailable` with the reason."""
    kind = os.environ.get("NFVO_TEST_CONTAINER_ENGINE", "docker")
    if kind != "docker":
        raise EngineUnavailable(f"NFVO_TEST_CONTAINER_ENGINE={kind!r}: only docker is supported")
    client = find_docker_client()
    err = daemon_error(client)
    if err is not None:
        raise EngineUnavailable(f"docker daemon not reachable with {client}: {err}")
    return Engine(client)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up"])
    parser.add_argument("--base-image", default=DEFAULT_BASE)
    args = parser.parse_args(argv)
    try:
        client = find_docker_client()
        start_dockerd(client)
        ensure_base_image(client, args.base_image)
    except (EngineUnavailable, OSError, subprocess.TimeoutExpired) as exc:
        print(f"no container engine: {exc}", file=sys.stderr)
        return 1
    print("NFVO_TEST_CONTAINER_ENGINE=docker")
    print(f"NFVO_TEST_DOCKER={client}")
    print(f"NFVO_TEST_BASE_IMAGE={args.base_image}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
