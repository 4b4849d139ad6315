"""Idempotency keys and tags of the resources the generic VNFM creates.

Keys are derived only from the deployment spec (VNF instance id, VL id, VDU id, index, CP id),
so a retried or resumed operation asks the VIM for the same keys and gets back what was
created the first time. A recreated server (heal) gets a new *generation* suffix
(``<key>#g2``, ``#g3``...) so the keyed create cannot hand back the deleted one.
"""

from __future__ import annotations

TAG_VDU = "nfvo.vdu"  # VDU id a server or port belongs to (not part of the VIM contract)

_GEN = "#g"


def vl_key(vnf_instance_id: str, vl_id: str) -> str:
    """Key of an internal VL's network."""
    return f"{vnf_instance_id}/vl/{vl_id}"


def subnet_key(vnf_instance_id: str, vl_id: str) -> str:
    """Key of an internal VL's subnet."""
    return f"{vl_key(vnf_instance_id, vl_id)}/subnet"


def vnfc_key(vnf_instance_id: str, vdu_id: str, index: int) -> str:
    """Key of the first-generation server of VDU instance ``index``."""
    return f"{vnf_instance_id}/vdu/{vdu_id}/{index}"


def port_key(vnf_instance_id: str, vdu_id: str, index: int, cp_id: str) -> str:
    """Key of the port of connection point ``cp_id`` of VDU instance ``index``."""
    return f"{vnfc_key(vnf_instance_id, vdu_id, index)}/cp/{cp_id}"


def split_generation(key: str) -> tuple[str, int]:
    """``(base key, generation)``; a key without suffix is generation 1."""
    base, sep, gen = key.rpartition(_GEN)
    if sep and gen.isdigit() and int(gen) >= 2:
        return base, int(gen)
    return key, 1


def with_generation(base: str, generation: int) -> str:
    """The key of generation ``generation`` of ``base``."""
    return base if generation <= 1 else f"{base}{_GEN}{generation}"


def next_generation(key: str) -> str:
    """The key a recreated server gets: ``a/vdu/x/0`` -> ``a/vdu/x/0#g2`` -> ``...#g3``."""
    base, gen = split_generation(key)
    return with_generation(base, gen + 1)
