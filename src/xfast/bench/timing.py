# SPDX-License-Identifier: Apache-2.0
"""Timing helpers: wall and CPU nanosecond clocks, medians, fresh log directories."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

now_ns = time.perf_counter_ns
# CPU time of every thread of this process: unlike wall time, barely moved by other processes
# competing for the cores, and it includes the writer/histogram threads' work.
cpu_ns = time.process_time_ns


def median(samples: list[float]) -> float:
    return statistics.median(samples)


@contextmanager
def scratch_dir(prefix: str) -> Iterator[str]:
    """A temporary log directory, removed afterwards (large event files must not pile up)."""
    d = tempfile.mkdtemp(prefix=f"xfast-bench-{prefix}-")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)
