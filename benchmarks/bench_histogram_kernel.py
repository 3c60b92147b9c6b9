# SPDX-License-Identifier: Apache-2.0
"""The default-bins histogram kernel against torch.sum and torch's writer, with peak memory:
`python benchmarks/bench_histogram_kernel.py 1e8` (1e9 shows the kernel needs no extra memory);
`python benchmarks/bench_histogram_kernel.py --sweep [N]`: ns per element over the value
distributions and dtypes real models log (one thread and all threads, N elements each)."""

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


def distributions(n: int, seed: int = 0) -> dict[str, Any]:
    """Tensors of n elements whose values look like what models log, by name."""
    import torch

    g = torch.Generator().manual_seed(seed)
    normal = torch.randn(n, generator=g)
    edges32 = torch.from_numpy(np.asarray(_core.default_edges(), dtype=np.float32))
    picks = torch.randint(0, edges32.numel(), (n,), generator=g)
    # ReLU-masked backward values: small magnitudes, about half exact zeros.
    mask = torch.rand(n, generator=g) < 0.5
    student_t = torch.distributions.StudentT(3.0).sample((n,))
    return {
        "N(0,1) float32": normal,
        "uniform +-1/32 (fresh Linear)": (torch.rand(n, generator=g) * 2 - 1) / 32,
        "trained-like (t3 * 0.02)": student_t * 0.02,
        "gradient (1e-6, half zeros)": normal * 1e-6 * mask,
        "denormal (N(0,1) * 1e-40)": normal * 1e-40,
        "constant 0": torch.zeros(n),
        "constant 1": torch.ones(n),
        "on the edges": edges32[picks],
        "N(0,1) bfloat16": normal.bfloat16(),
        "N(0,1) float16": normal.half(),
        "N(0,1) float64": normal.double(),
        "gradient bfloat16": (normal * 1e-6 * mask).bfloat16(),
    }


def distribution_sweep(n: int = 1 << 22, repeats: int = 7) -> list[tuple[str, float, float]]:
    """(distribution, ns per element on one thread, ns per element on all pool threads): the
    fastest of `repeats` kernel calls over each of distributions(n)."""
    from xfast.encoding.convert import histogram_buffer

    rows = []
    for name, t in distributions(n).items():
        a, code = histogram_buffer(t)
        serial = [_timed_s(_core.testing.histogram_default, a, code, True)
                  for _ in range(repeats)]
        pool = [_timed_s(_core.histogram_accumulate, a, code) for _ in range(repeats)]
        # The fastest run: on a shared machine the others measure the neighbours.
        rows.append((name, min(serial) * 1e9 / n, min(pool) * 1e9 / n))
    return rows


def _timed_s(fn: Callable[..., Any], *args: Any) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


if __name__ == "__main__":
    import sys

    if len(sys.argv) > 1 and sys.argv[1] == "--sweep":
        size = int(float(sys.argv[2])) if len(sys.argv) > 2 else 1 << 22
        print(f"| distribution ({size} elements, {_core.histogram_implementation()}) "
              f"| ns/element, 1 thread | ns/element, {_core.get_num_threads()} threads |")
        print("|---|---|---|")
        for name, one, many in distribution_sweep(size):
            print(f"| {name} | {one:.3f} | {many:.3f} |")
    else:
        size = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10**8
        for k, v in histogram_cpu_benchmark(size).items():
            print(f"{k:>14}: {v:.1f}")
