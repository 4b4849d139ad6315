"""Deployment specs as JSON (a VNF instance row keeps its spec) and VNF records from and to
the inventory's rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from nfvo.inventory.models import NsVnf, NsVnfc, NsVnfVl
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


# -- rows of the inventory <-> the VNFM's records ------------------------------------------
def record_of(vnf: NsVnf, vnfcs: Sequence[NsVnfc], vls: Sequence[NsVnfVl]) -> VnfRecord:
    """A VNF's record as the VNFM knows it, from its rows (VNFCs whose server was never
    created are left out: the VNFM finds those by key)."""
    return VnfRecord(
        vnf_instance_id=vnf.id,
        vim_account_id=vnf.vim_account_id,
        vnfcs=[
            VnfcRecord(
                vdu_id=c.vdu_id,
                index=c.idx,
                key=c.key,
                server_id=c.server_id,
                status=c.status,
                host=c.host,
                zone=c.zone,
                port_ids=dict(c.port_ids or {}),
                addresses=dict(c.addresses or {}),
            )
            for c in vnfcs
            if c.server_id
        ],
        vls=[VlRecord(v.vl_id, v.network_id, v.subnet_id) for v in vls],
    )


def vnfc_columns(spec: VnfDeploymentSpec, record: VnfRecord) -> list[dict[str, Any]]:
    """The VNFC rows of a record (column values)."""
    vdus = {v.vdu_id: v for v in spec.vdus}
    out = []
    for c in record.vnfcs:
        vdu = vdus.get(c.vdu_id)
        out.append(
            {
                "vdu_id": c.vdu_id,
                "idx": c.index,
                "key": c.key,
                "server_id": c.server_id,
                "status": c.status,
                "host": c.host,
                "zone": c.zone,
                "flavor": vdu.flavor if vdu else None,
                "image": vdu.image if vdu else None,
                "port_ids": dict(c.port_ids),
                "addresses": {k: list(v) for k, v in c.addresses.items()},
            }
        )
    return out


def vl_columns(record: VnfRecord) -> list[dict[str, Any]]:
    """The internal-VL rows of a record (column values)."""
    return [
        {"vl_id": v.vl_id, "network_id": v.network_id, "subnet_id": v.subnet_id} for v in record.vls
    ]
