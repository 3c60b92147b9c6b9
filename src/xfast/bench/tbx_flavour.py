# SPDX-License-Identifier: Apache-2.0
"""add_scalar through xfast.tensorboardX against xfast.SummaryWriter: what the tensorboardX
face (tag cleaning, use_metadata, display_name) costs the caller."""

from __future__ import annotations

import time
from typing import Any

from xfast.bench import readback
from xfast.bench.config import Config
from xfast.bench.report import Row
from xfast.bench.timing import median, scratch_dir

TAG = "bench/loss"
VALUE = 0.5
LIMIT = 1.10  # the face may cost at most 10 % more per call


# CPU time of the calling thread only: the comparison is of the two faces' Python paths, which
# wall time on a shared machine (and the writer thread's share of the cores) would blur.
thread_ns = time.thread_time_ns


def _per_call(make: Any, calls: int) -> tuple[float, str]:
    """Caller CPU seconds per add_scalar of one writer made by `make`, and a read-back
    problem."""
    with scratch_dir("tbx-face") as d:
        w = make(d)
        add = w.add_scalar
        add("bench/warmup", 0.0, 0)
        t0 = thread_ns()
        for i in range(calls):
            add(TAG, VALUE, i)
        t1 = thread_ns()
        w.close()
        return (t1 - t0) / calls / 1e9, readback.check_scalar_file(d, calls + 2, TAG, calls - 1,
                                                                   VALUE)


def row(cfg: Config) -> tuple[Row, str]:
    """The row (the face's median caller time in the xfast column, its ratio to
    xfast.SummaryWriter's, measured alternately in this process) and any read-back problem."""
    import xfast
    import xfast.tensorboardX

    calls = cfg.scalar_calls["xfast"]
    base: list[float] = []
    face: list[float] = []
    problems = []
    for _ in range(cfg.scalar_repeats):
        for make, out in ((xfast.SummaryWriter, base), (xfast.tensorboardX.SummaryWriter, face)):
            t, problem = _per_call(make, calls)
            out.append(t)
            problems.append(problem)
    ratio = median(face) / median(base)
    r = Row("xfast.tensorboardX caller CPU time per call", "s", target="<= 1.10x xfast's",
            speedups=False)
    r.samples["xfast"], r.values["xfast"] = face, median(face)
    r.met = ratio <= LIMIT
    r.note = (f"xfast.tensorboardX add_scalar {ratio:.3f}x xfast.SummaryWriter's "
              f"({median(face) * 1e9:.0f} ns vs {median(base) * 1e9:.0f} ns, "
              f"{cfg.scalar_repeats} alternating runs of {calls} calls)")
    return r, next((p for p in problems if p), "")
