"""One way to make a HiGHS solver, so every model in the optimizer runs with the same
process-wide settings.

HiGHS starts one global thread scheduler per process, sized by the first solver that runs; a
later solver asking for another ``threads`` value fails its run. Every solver here is quiet
and single-threaded (placement runs beside the API and the engine on small machines).
"""

from __future__ import annotations

from typing import Any

import highspy


def solver(**options: Any) -> highspy.Highs:
    """A quiet, single-threaded HiGHS instance with ``options`` set (name=value)."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    for name, value in options.items():
        h.setOptionValue(name, value)
    return h
