# SPDX-License-Identifier: Apache-2.0
"""Timing helpers: monotonic nanosecond clock, medians, fresh log directories."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

now_ns = time.perf_counter_ns


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
