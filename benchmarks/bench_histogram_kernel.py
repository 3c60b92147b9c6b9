# SPDX-License-Identifier: Apache-2.0
"""The default-bins histogram kernel against torch.sum and torch's writer, with peak memory:
`python benchmarks/bench_histogram_kernel.py 1e8` (1e9 shows the kernel needs no extra memory)."""

from __future__ import annotations

import resource
import time
from typing import Any, Callable

import numpy as np

from xfast import _core


def best_ms(fn: Callable[[], Any], repeats: int) -> float:
    """Fastest of `repeats` wall-clock runs of fn(), in milliseconds."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best * 1e3


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def histogram_cpu_benchmark(
    n: int = 10**8, repeats: int = 3, include_torch_writer: bool = True
) -> dict[str, float]:
    """Times one default-bins histogram of n float32 N(0, 1) values on the CPU, in one run.

    Returns milliseconds (best of `repeats`) for: ``xfast`` (the native kernel, all pool
    threads), ``xfast_serial`` (one thread), ``torch_sum`` (one read pass, the bandwidth
    yardstick), ``torch_writer`` (torch.utils.tensorboard's histogram summary: float64 copy,
    numpy binning and moments; once, when asked), plus ``ratio_to_sum`` = xfast / torch_sum,
    ``threads`` and ``extra_rss_mb`` (peak RSS growth during the xfast runs: the kernel's own
    memory).
    """
    import torch

    x = torch.randn(n, generator=torch.Generator().manual_seed(0))
    a = x.numpy()
    out: dict[str, float] = {"n": float(n), "threads": float(_core.get_num_threads())}
    out["torch_sum"] = best_ms(lambda: torch.sum(x), repeats)
    rss0 = peak_rss_mb()
    out["xfast"] = best_ms(lambda: _core.histogram_accumulate(a, 0), repeats)
    out["extra_rss_mb"] = peak_rss_mb() - rss0
    out["xfast_serial"] = best_ms(lambda: _core.testing.histogram_default(a, 0, True), 1)
    out["ratio_to_sum"] = out["xfast"] / out["torch_sum"]
    if include_torch_writer:
        from torch.utils.tensorboard import summary

        histogram: Any = summary.histogram  # untyped in torch
        edges = np.asarray(_core.default_edges())
        out["torch_writer"] = best_ms(lambda: histogram("h", x, edges), 1)
    return out


if __name__ == "__main__":
    import sys

    size = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10**8
    for k, v in histogram_cpu_benchmark(size).items():
        print(f"{k:>14}: {v:.1f}")
