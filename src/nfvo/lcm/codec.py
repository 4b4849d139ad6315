"""JSON round trips of deployment specs and VNF records (they are stored with the NS)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from nfvo.vim.base import SecurityRule
from nfvo.vnfm.base import (
    CpSpec,
    ImageArtifact,
    VduSpec,
    VirtualLinkSpec,
    VlRecord,
    VnfcRecord,
    VnfDeploymentSpec,
    VnfRecord,
)


def to_json(obj: Any) -> dict[str, Any]:
    """A dataclass as plain JSON data."""
    return asdict(obj)


def vnfc_id(key: str) -> str:
    """The API id of a VNFC (VnfcResourceInfo.id) from its VIM idempotency key."""
    return key.replace("/", "-")


def spec_from_json(d: dict[str, Any]) -> VnfDeploymentSpec:
    """Inverse of ``to_json`` for a VnfDeploymentSpec."""
    vdus = []
    for v in d.get("vdus", []):
        cps = [
            CpSpec(
                **{**c, "security_rules": [SecurityRule(**r) for r in c.get("security_rules", [])]}
            )
            for c in v.get("cps", [])
        ]
        artifact = v.get("image_artifact")  # absent from plans stored before uploads
        vdus.append(
            VduSpec(
                **{
                    **v,
                    "cps": cps,
                    "image_artifact": ImageArtifact(**artifact) if artifact else None,
                }
            )
        )
    return VnfDeploymentSpec(
        **{
            **d,
            "internal_vls": [VirtualLinkSpec(**x) for x in d.get("internal_vls", [])],
            "vdus": vdus,
        }
    )


def record_from_json(d: dict[str, Any]) -> VnfRecord:
    """Inverse of ``to_json`` for a VnfRecord."""
    return VnfRecord(
        vnf_instance_id=d["vnf_instance_id"],
        vim_account_id=d["vim_account_id"],
        vnfcs=[VnfcRecord(**c) for c in d.get("vnfcs", [])],
        vls=[VlRecord(**v) for v in d.get("vls", [])],
    )
