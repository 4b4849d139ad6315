#!/usr/bin/env bash
# Make a Debian bookworm base image for the nfvo Dockerfile without a container registry:
# debootstrap a minimal root file system and import it into the local engine.
#
#   deploy/image/build-base.sh [TAG]          (default nfvo-base:bookworm; needs root)
#   docker build --build-arg BASE_IMAGE=nfvo-base:bookworm -t nfvo .
#
# Does nothing when TAG already exists. Environment: DOCKER (the engine's CLI, default
# docker; podman works too), DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -euo pipefail

tag="${1:-nfvo-base:bookworm}"
docker="${DOCKER:-docker}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if "$docker" image inspect "$tag" >/dev/null 2>&1; then
  echo "$tag exists"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is not installed" >&2; exit 1; }

rootfs="$(mktemp -d -t nfvo-rootfs-XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
  bookworm "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
  tail -n 30 "$rootfs.log" >&2
  rm -f "$rootfs.log"
  exit 1
}
rm -f "$rootfs.log"
# what an image never needs: package caches and lists, documentation, translations
rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/locale/*
tar -C "$rootfs" -c . | "$docker" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/bash"]' - "$tag" >/dev/null
echo "$tag imported"
