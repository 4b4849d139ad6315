"""nova-compute with Nova's fake hypervisor sized for the sample NS.

The stock ``SmallFakeDriver`` reports 2 vCPU per node, and Placement's ``max_unit`` then
refuses any 4-vCPU server (the sample's database VDU). Nova loads drivers only from the
``nova.virt`` package, so this script (``python nfvo_fake_driver.py --config-file ...``)
registers ``nova.virt.nfvo_fake`` and starts nova-compute with
``compute_driver = nfvo_fake.NfvoFakeDriver``.
"""

import sys
import types


def main() -> int:
    from nova.cmd import compute  # first: it sets up Nova's threading before other imports
    from nova.virt import fake

    class NfvoFakeDriver(fake.PredictableNodeUUIDDriver):
        """4 vCPU, 12 GiB RAM, 200 GiB disk per compute node; node uuid from its name."""

        vcpus = 4
        memory_mb = 12288
        local_gb = 200

    module = types.ModuleType("nova.virt.nfvo_fake")
    module.NfvoFakeDriver = NfvoFakeDriver  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    return compute.main()


if __name__ == "__main__":
    sys.exit(main())
