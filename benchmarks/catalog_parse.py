"""Parse+validate time of SOL001 descriptors: nfvo versus tosca-parser 2.15.

Prints JSON with median milliseconds over N repetitions for
(a) the Tacker sample package ``vnflcm1`` (full parse into a Vnfd) and
(b) a synthetic SOL001 v2.6.1-style VNFD with 200 VDUs and local type imports.
nfvo is measured warm (per-process caches of type-library files in use, the normal
server case) and cold (caches cleared before every run); tosca-parser has no cache.

usage: python benchmarks/catalog_parse.py [-n 20] [--etsi PATH]
The ETSI corpus (shared/etsi beside the repository) provides the sample package and the
SOL001 type files; tosca-parser is a bench extra (``pip install .[bench]``).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from nfvo.catalog import descriptors
from nfvo.catalog.tosca import imports as tosca_imports

REPO = Path(__file__).resolve().parents[1]


def tree(base: Path) -> dict[str, bytes]:
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}


def vnflcm1(etsi: Path) -> tuple[dict[str, bytes], str]:
    tests = etsi / "sol004" / "tacker" / "tests-etsi-nfv"
    files = tree(tests / "common")
    files.update(tree(tests / "vnflcm1"))
    meta = files["TOSCA-Metadata/TOSCA.meta"].decode()
    entry = re.search(r"Entry-Definitions:\s*(\S+)", meta).group(1)
    return files, entry


VNF_PROPS = {
    "descriptor_id": "6a1f0d2c-0000-4000-8000-000000000200",
    "descriptor_version": "1.0",
    "provider": "Bench",
    "product_name": "Synthetic",
    "software_version": "1.0",
    "flavour_id": "default",
    "flavour_description": "synthetic flavour",
}


def synthetic(etsi: Path, vdus: int = 200) -> tuple[dict[str, bytes], str]:
    """A one-flavour SOL001 v2.6.1 VNFD with ``vdus`` VDUs, each with a CP on one internal VL."""
    types = etsi / "sol004" / "tacker" / "tests-etsi-nfv" / "common" / "Definitions"
    files = {f"Definitions/{p.name}": p.read_bytes() for p in types.glob("etsi_nfv_*.yaml")}
    out = [
        "tosca_definitions_version: tosca_simple_yaml_1_2",
        "description: synthetic VNFD",
        "imports:",
        "  - etsi_nfv_sol001_common_types.yaml",
        "  - etsi_nfv_sol001_vnfd_types.yaml",
        "topology_template:",
        "  inputs:",
        *(f"    {k}: {{ type: string, default: '{v}' }}" for k, v in VNF_PROPS.items()),
        "    vnfm_info: { type: list, entry_schema: { type: string }, default: [ '0:nfvo-1.0' ] }",
        "  substitution_mappings:",
        "    node_type: tosca.nodes.nfv.VNF",
        "    requirements:",
        "      virtual_link: [ CP0, virtual_link ]",
        "  node_templates:",
        "    VNF:",
        "      type: tosca.nodes.nfv.VNF",
        "      properties:",
        "        descriptor_id: 6a1f0d2c-0000-4000-8000-000000000200",
        "        descriptor_version: '1.0'",
        "        provider: Bench",
        "        product_name: Synthetic",
        "        software_version: '1.0'",
        "        product_info_name: Synthetic",
        "        vnfm_info: [ '0:nfvo-1.0' ]",
        "        flavour_id: default",
        "        flavour_description: synthetic flavour",
        "    VL:",
        "      type: tosca.nodes.nfv.VnfVirtualLink",
        "      properties:",
        "        connectivity_type: { layer_protocols: [ ipv4 ] }",
        "        vl_profile:",
        "          max_bitrate_requirements: { root: 1000000 }",
        "          min_bitrate_requirements: { root: 100000 }",
    ]
    for i in range(vdus):
        out += [
            f"    VDU{i}:",
            "      type: tosca.nodes.nfv.Vdu.Compute",
            "      properties:",
            f"        name: vdu{i}",
            f"        description: VDU number {i}",
            "        vdu_profile: { min_number_of_instances: 1, max_number_of_instances: 3 }",
            "      capabilities:",
            "        virtual_compute:",
            "          properties:",
            "            virtual_memory: { virtual_mem_size: 2 GiB }",
            "            virtual_cpu: { num_virtual_cpu: 2 }",
            "            virtual_local_storage: [ { size_of_storage: 10 GiB } ]",
            f"    CP{i}:",
            "      type: tosca.nodes.nfv.VduCp",
            "      properties: { layer_protocols: [ ipv4 ], order: 0 }",
            "      requirements:",
            f"        - virtual_binding: VDU{i}",
            "        - virtual_link: VL",
        ]
    targets = ", ".join(f"VDU{i}" for i in range(vdus))
    out += [
        "  policies:",
        "    - aspects:",
        "        type: tosca.policies.nfv.ScalingAspects",
        "        properties:",
        "          aspects:",
        "            main: { name: main, description: main, max_scale_level: 2,"
        " step_deltas: [ d1 ] }",
        "    - deltas:",
        "        type: tosca.policies.nfv.VduScalingAspectDeltas",
        "        properties: { aspect: main, deltas: { d1: { number_of_instances: 1 } } }",
        f"        targets: [ {targets} ]",
        "    - levels:",
        "        type: tosca.policies.nfv.InstantiationLevels",
        "        properties:",
        "          levels: { l1: { description: one, scale_info: { main: { scale_level: 0 } } } }",
        "          default_level: l1",
    ]
    files["Definitions/synthetic.yaml"] = ("\n".join(out) + "\n").encode()
    return files, "Definitions/synthetic.yaml"


def median_ms(fn: Callable[[], object], n: int, before: Callable[[], None] | None = None) -> float:
    times = []
    for _ in range(n):
        if before:
            before()
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def clear_caches() -> None:
    tosca_imports._DOC_CACHE.clear()
    from nfvo.catalog import tosca

    tosca._REGISTRY_CACHE.clear()


def tosca_parser_runner(files: dict[str, bytes], entry: str, tmp: Path, params: dict):
    from toscaparser.tosca_template import ToscaTemplate

    for name, data in files.items():
        target = tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    path = str(tmp / entry)
    return lambda: ToscaTemplate(path=path, parsed_params=params, a_file=True)


def measure(name: str, files: dict[str, bytes], entry: str, params: dict, n: int) -> dict:
    descriptors.build_descriptor(files, entry)  # warm-up (and a check that it parses)
    result = {
        "case": name,
        "nfvo_warm_ms": median_ms(lambda: descriptors.build_descriptor(files, entry), n),
        "nfvo_cold_ms": median_ms(
            lambda: descriptors.build_descriptor(files, entry), n, clear_caches
        ),
    }
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run = tosca_parser_runner(files, entry, Path(tmp), params)
            run()
            result["tosca_parser_ms"] = median_ms(run, n)
    except ImportError:
        result["tosca_parser_ms"] = None
    tp = result["tosca_parser_ms"]
    if tp:
        result["ratio_warm"] = round(result["nfvo_warm_ms"] / tp, 3)
        result["ratio_cold"] = round(result["nfvo_cold_ms"] / tp, 3)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="repetitions (median is reported)")
    parser.add_argument("--etsi", type=Path, default=REPO / ".." / "shared" / "etsi")
    args = parser.parse_args(argv)
    if not args.etsi.is_dir():
        sys.exit(f"ETSI corpus not found at {args.etsi}")
    import logging

    logging.disable(logging.CRITICAL)  # tosca-parser logs every template at INFO
    files, entry = vnflcm1(args.etsi)
    cases = [measure("tacker_vnflcm1", files, entry, {"selected_flavour": "simple"}, args.n)]
    files, entry = synthetic(args.etsi)
    cases.append(measure("synthetic_200_vdu", files, entry, {}, args.n))
    print(json.dumps({"repetitions": args.n, "results": cases}, indent=2))


if __name__ == "__main__":
    main()
