"""nfvo's own sample packages: a small web application network service.

Why it exists: ``nfvo demo`` onboards these packages, and the test suite stands on them,
so a fresh installation has realistic SOL004 VNF packages and a SOL007 NSD package without
downloading anything. Each package is kept as a folder under ``packages/`` and archived on
demand with :func:`nfvo.catalog.builder.build_csar`, which recomputes the manifest hashes.

- ``vnf-web``  web-frontend VNF (flavours ``small``/``large``; VDUs ``web`` and ``cache``)
- ``vnf-db``   db-backend VNF (flavours ``standard``/``ha``; VDU ``db`` with a block volume)
- ``ns-webapp`` NSD combining both (flavour ``default``; ``mgmt_vl``, ``data_vl``, one SAP)
"""

from __future__ import annotations

from pathlib import Path

from nfvo.catalog.builder import build_csar, manifest_path, read_package_dir

SAMPLES_DIR: Path = Path(__file__).resolve().parent / "packages"

VNF_WEB_ID = "8d58a5b3-7159-4ac3-b995-604b07b3238b"
VNF_DB_ID = "c30df662-bfed-4072-920d-1e1ea2940890"
NSD_WEBAPP_ID = "620e7828-ec0d-4e06-b975-76305f4da18a"
NSD_WEBAPP_INVARIANT_ID = "a691297a-4ef7-4c17-ac08-13d494634cdf"


def sample_kind(name: str) -> str:
    """``"vnf"`` or ``"ns"``, from the sample's manifest metadata."""
    files = read_package_dir(sample_dir(name))
    manifest = manifest_path(files)
    text = files[manifest].decode("utf-8") if manifest else ""
    return "ns" if "nsd_designer:" in text else "vnf"


def sample_names() -> list[str]:
    """Names of the sample packages: VNF packages first (onboarding order), then NSDs."""
    names = sorted(
        p.name for p in SAMPLES_DIR.iterdir() if (p / "TOSCA-Metadata" / "TOSCA.meta").is_file()
    )
    vnfs = [n for n in names if sample_kind(n) == "vnf"]
    return vnfs + [n for n in names if n not in vnfs]


def sample_dir(name: str) -> Path:
    """Folder of one sample package; ``KeyError`` for an unknown name."""
    path = SAMPLES_DIR / name
    if not name or "/" in name or "\\" in name or name.startswith(".") or not path.is_dir():
        raise KeyError(f"no sample package named {name!r}")
    return path


def build_sample(name: str, fmt: str = "zip") -> bytes:
    """The CSAR bytes of one sample package (``zip``, ``tar`` or ``tar.gz``)."""
    return build_csar(sample_dir(name), fmt=fmt)
