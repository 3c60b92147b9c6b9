# SPDX-License-Identifier: Apache-2.0
"""Timing helpers: wall, process and per-thread CPU clocks, medians and spreads, fresh log
directories."""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import threading
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


def thread_cpu_ns(tid: int) -> int:
    """CPU time of thread `tid` of this process (0 once it has exited). The clock id is the one
    pthread_getcpuclockid builds (Linux's per-thread CPUCLOCK_SCHED), so it reads native
    threads too, which have no Python handle."""
    try:
        return time.clock_gettime_ns(((~tid) << 3) | 6)
    except OSError:
        return 0


def _comm(tid: int) -> str:
    try:
        with open(f"/proc/self/task/{tid}/comm", encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return ""


def writer_threads() -> list[int]:
    """Native ids of the threads that write logs in the background: every Python thread but
    the caller (torch's and tensorboardX's event writer threads, xfast's media threads) and
    xfast's native writer threads. Not torch's intra-op threads or xfast's histogram pool,
    whose work the caller waits for and its wall time already counts."""
    me = threading.get_native_id()
    ids = {t.native_id for t in threading.enumerate() if t.native_id not in (None, me)}
    if os.path.isdir("/proc/self/task"):
        for name in os.listdir("/proc/self/task"):
            tid = int(name)
            if tid != me and _comm(tid).startswith("xfast-writer"):
                ids.add(tid)
    return sorted(i for i in ids if i is not None)


def spread(samples: list[float]) -> tuple[float, float]:
    """The interquartile range (25th, 75th percentile) of `samples`."""
    if len(samples) < 2:
        return (samples[0], samples[0]) if samples else (0.0, 0.0)
    q = statistics.quantiles(samples, n=4, method="inclusive")
    return q[0], q[2]
