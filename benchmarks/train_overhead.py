# SPDX-License-Identifier: Apache-2.0
"""Step overhead of histogramming every parameter and gradient every step, issue 16's loop:
a 10.5M-parameter MLP (Linear 512-2048-2048-2048-512), batch 64, SGD on the CPU. Blocks of bare
steps and of logged steps alternate, so a block's background work (the writer thread) stays in
it and machine drift hits both sides; per variant, the overhead of the median logged step over
the median bare step, with the spread (25th-75th percentile) of the per-block ratios.

`python benchmarks/train_overhead.py [blocks] [steps per block]`"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from typing import Any, Callable

import torch

import xfast


def model_and_step() -> tuple[torch.nn.Module, Callable[[], None]]:
    torch.manual_seed(0)
    widths = (512, 2048, 2048, 2048, 512)
    layers: list[torch.nn.Module] = []
    for a, b in zip(widths, widths[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    x, y = torch.randn(64, 512), torch.randn(64, 512)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)

    def step() -> None:
        opt.zero_grad(set_to_none=False)
        torch.nn.functional.mse_loss(model(x), y).backward()
        opt.step()

    return model, step


def loop(w: Any, model: torch.nn.Module, s: int) -> None:
    for name, p in model.named_parameters():
        w.add_histogram("parameters/" + name, p, s)
        w.add_histogram("gradients/" + name, p.grad, s)


def batched(w: Any, model: torch.nn.Module, s: int) -> None:
    w.add_histograms(model, s, grads=True)


def measure(log: Callable[[Any, torch.nn.Module, int], None], blocks: int,
            per_block: int) -> dict[str, float]:
    model, step = model_and_step()
    for _ in range(3):
        step()
    bare: list[float] = []
    logged: list[float] = []
    ratios: list[float] = []
    with tempfile.TemporaryDirectory() as d:
        w = xfast.SummaryWriter(d)
        s = 0
        for _ in range(blocks):
            t0 = time.perf_counter()
            for _ in range(per_block):
                step()
            tb = (time.perf_counter() - t0) / per_block
            t0 = time.perf_counter()
            for _ in range(per_block):
                step()
                log(w, model, s)
                s += 1
            w.flush()  # the block's writer work is charged to it
            tl = (time.perf_counter() - t0) / per_block
            bare.append(tb)
            logged.append(tl)
            ratios.append(tl / tb - 1)
        w.close()
    q = statistics.quantiles(ratios, n=4)
    return {"bare_ms": statistics.median(bare) * 1e3, "logged_ms": statistics.median(logged) * 1e3,
            "overhead_pct": (statistics.median(logged) / statistics.median(bare) - 1) * 100,
            "p25_pct": q[0] * 100, "p75_pct": q[2] * 100}


if __name__ == "__main__":
    blocks = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    per_block = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    print(f"| variant ({blocks} blocks x {per_block} steps) | bare step | logged step "
          "| overhead | per-block spread (p25..p75) |")
    print("|---|---|---|---|---|")
    for name, fn in (("add_histogram loop", loop), ("add_histograms(model)", batched)):
        r = measure(fn, blocks, per_block)
        print(f"| {name} | {r['bare_ms']:.1f} ms | {r['logged_ms']:.1f} ms "
              f"| {r['overhead_pct']:+.1f}% | {r['p25_pct']:+.1f}% .. {r['p75_pct']:+.1f}% |")
