"""A YAML member too large to parse is refused by its declared size, before it is inflated.

The 100 MiB VNFD of the hostile corpus used to be read whole (and copied) before the YAML
loader's size check refused it: 200 MiB of server memory per upload, half the 400 MiB the
whole server may use. Reads of a member enforce its declared size, so the size is trusted.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from tests.fixtures.hostile import hostile_corpus

from nfvo.catalog.csar import CsarLimits
from nfvo.catalog.errors import PackageError
from nfvo.catalog.onboarding import analyse_package
from nfvo.catalog.states import PackageKind


def test_huge_yaml_member_is_refused_without_reading_it(tmp_path: Path) -> None:
    case = next(c for c in hostile_corpus() if c.name == "yaml_100mb")
    path = tmp_path / "huge.zip"
    path.write_bytes(case.data)
    tracemalloc.start()
    try:
        with pytest.raises(PackageError) as err:
            analyse_package(path, PackageKind.vnf, CsarLimits())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert case.accepts(err.value.cause), err.value
    assert err.value.file == "Definitions/vnf_web_top.vnfd.yaml"
    assert peak < 32 << 20, f"{peak >> 20} MiB allocated to refuse it"
