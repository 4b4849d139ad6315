"""What the quota check adds to starting an operation: one tenant with 200 NS instances of
50 VNFCs each (10,000 VNFCs, 1,000 VNF instances) and 20 of them with an operation in flight;
the check of one more NS's request (``quotas.reserve``: the tenant's and the NS's usage, the
reservation, the conditional version UPDATE) inside a transaction that claimed the NS, rolled
back after each run. SQLite (a file) and, when NFVO_TEST_DATABASE_URL is set, PostgreSQL.

Prints one JSON object per database: VNFCs, p50 and p95 milliseconds of 50 checks.
Usage: python benchmarks/quotas.py
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
import uuid

from nfvo.inventory.db import Database
from nfvo.inventory.lcm_repo import NsRepository
from nfvo.inventory.models import NsInstance, NsVnf, NsVnfc
from nfvo.inventory.quotas_repo import TENANT, QuotaReservationRow, QuotaRow
from nfvo.policy import quotas

NS, VNFS, VDUS, PER_VDU, IN_FLIGHT, RUNS = 200, 5, 2, 5, 20, 50


def _seed(db: Database, tenant: str) -> list[str]:
    ns_ids = []
    with db.session() as s:
        s.add(
            QuotaRow(
                id=str(uuid.uuid4()),
                scope=TENANT,
                subject_id=tenant,
                tenant_id=tenant,
                max_vcpus=10**6,
                max_ram_mib=2 * 10**9,
                max_instances=10**6,
                version=0,
            )
        )
        for n in range(NS + 1):
            ns_id = str(uuid.uuid4())
            ns_ids.append(ns_id)
            op = str(uuid.uuid4()) if n < IN_FLIGHT else None
            s.add(
                NsInstance(
                    id=ns_id,
                    tenant_id=tenant,
                    nsd_info_id="x",
                    nsd_id="x",
                    name=f"ns-{n}",
                    ns_state="INSTANTIATED",
                    current_op_id=op,
                )
            )
            s.flush()
            if op is not None:
                s.add(
                    QuotaReservationRow(
                        ns_instance_id=ns_id,
                        op_occ_id=op,
                        tenant_id=tenant,
                        vcpus=200,
                        ram_mib=300_000,
                        instances=60,
                    )
                )
            if n == NS:
                continue  # the NS the benchmark claims: empty
            for v in range(VNFS):
                vnf_id = f"{ns_id}-vnf{v}"
                vdus = [
                    {"vdu_id": f"vdu{d}", "vcpus": 2, "ram_mib": 4096, "count": PER_VDU}
                    for d in range(VDUS)
                ]
                s.add(
                    NsVnf(
                        id=vnf_id,
                        ns_instance_id=ns_id,
                        seq=v,
                        vnf_profile_id="p",
                        vnfd_id="d",
                        flavour_id="f",
                        vim_account_id="vim",
                        spec={"vdus": vdus},
                        instantiated=True,
                        scale_levels={},
                    )
                )
                s.flush()
                for d in range(VDUS):
                    for i in range(PER_VDU):
                        s.add(
                            NsVnfc(
                                vnf_instance_id=vnf_id,
                                vdu_id=f"vdu{d}",
                                idx=i,
                                ns_instance_id=ns_id,
                                vim_account_id="vim",
                                key=f"{vnf_id}-{d}-{i}",
                                server_id=f"srv-{uuid.uuid4()}",
                                status="ACTIVE",
                                port_ids={},
                                addresses={},
                            )
                        )
    return ns_ids


def run(url: str, label: str) -> dict[str, object]:
    db = Database(url)
    db.migrate()
    tenant = str(uuid.uuid4())
    target = _seed(db, tenant)[-1]
    asked = quotas.Usage(4, 8192, 2)
    times = []
    for _ in range(RUNS):
        s = db._sessions()
        try:
            op_id = str(uuid.uuid4())
            assert NsRepository(s).claim(target, op_id, "INSTANTIATED")
            t0 = time.perf_counter()
            quotas.reserve(s, ns_instance_id=target, tenant_id=tenant, op_occ_id=op_id, asked=asked)
            times.append((time.perf_counter() - t0) * 1000)
        finally:
            s.rollback()
            s.close()
    with db.session() as s:
        used = quotas.tenant_usage(s, tenant)
    db.dispose()
    times.sort()
    return {
        "database": label,
        "vnfcs": NS * VNFS * VDUS * PER_VDU,
        "in_flight": IN_FLIGHT,
        "tenant_usage": used.view(),
        "check_ms_p50": round(statistics.median(times), 2),
        "check_ms_p95": round(times[int(0.95 * len(times)) - 1], 2),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(run(f"sqlite:///{tmp}/quotas.db", "sqlite")))
    pg = os.environ.get("NFVO_TEST_DATABASE_URL")
    if pg:
        print(json.dumps(run(pg, "postgresql")))


if __name__ == "__main__":
    main()
