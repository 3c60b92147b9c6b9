# SPDX-License-Identifier: Apache-2.0
"""Times the Triton histogram kernel's launch shapes on a CUDA machine (GPU ms by CUDA events).

    python benchmarks/triton_sweep.py [--elements 1e9] [--model-params 1e9] [--breakdown]

For choosing xfast.device.triton_kernel's defaults (rows per block, warps, programs per SM,
histogram bins): each shape is timed on a ~1B-parameter bf16 model and on one float32 tensor,
and checked against the torch-ops path on a 1e7-element tensor with non-finite values.
``--breakdown`` also prints the caller-side cost of the pieces of add_histograms.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import tempfile
import time
from typing import Optional

import torch
from gpu_check import read_pass_gb_s, time_call  # this script's folder is on sys.path

from xfast.device.common import device_table
from xfast.device.histogram import histogram_device
from xfast.device.triton_kernel import histogram_triton
from xfast.encoding.histogram_rows import NBINS

# (rows, warps, programs per SM, bins); the first is the default
CONFIGS = [(2, 4, 8, 256), (2, 4, 8, 128), (4, 8, 4, 256), (4, 4, 4, 256)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--elements", type=float, default=1e9)
    ap.add_argument("--model-params", type=float, default=1e9)
    ap.add_argument("--breakdown", action="store_true")
    args = ap.parse_args()
    n = int(args.elements)
    dev = torch.device("cuda")
    table = device_table(torch, dev)
    sms = torch.cuda.get_device_properties(dev).multi_processor_count
    bw = read_pass_gb_s()
    print(f"one read pass (torch.sum): {bw:.0f} GB/s", flush=True)
    d = 2048
    shapes = [(d, d)] * 4 + [(4 * d, d), (d, 4 * d), (d,), (d,)]
    model = [torch.randn(s, device=dev, dtype=torch.bfloat16) * 0.02
             for _ in range(int(args.model_params // (12 * d * d + 2 * d))) for s in shapes]
    cases = [(f"model {len(model)} bf16", model), ("1e9 float32", [torch.randn(n, device=dev)])]
    check = torch.randn(10**7, device=dev)
    check[:5] = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, 1e30])
    check[7::1000] = 0.0
    if args.breakdown:
        caller_breakdown(model)
    for label, ts in cases:
        check = check.to(ts[0].dtype)
        nbytes = sum(t.numel() * t.element_size() for t in ts)
        one = nbytes / bw / 1e6
        os.environ["XFAST_DEVICE_HISTOGRAM"] = "torch"
        want = histogram_device([check], None)
        os.environ.pop("XFAST_DEVICE_HISTOGRAM")
        for rows, warps, pps, bins in CONFIGS:
            def run(batch: list, shape: tuple = (rows, warps, pps, bins)) -> torch.Tensor:
                r, w, p, b = shape
                return histogram_triton(torch, batch, None, table, NBINS, p * sms, r, w, b)

            got = run([check])
            same = bool((got[:, :NBINS] == want[:, :NBINS]).all()) and bool(
                torch.allclose(got[:, NBINS:], want[:, NBINS:], rtol=1e-9, atol=1e-6,
                               equal_nan=True))
            caller, ms, _ = time_call(lambda run=run, ts=ts: run(ts), 5)
            print(f"  {label:>16} rows={rows} warps={warps} progs/SM={pps} bins={bins}: "
                  f"GPU {ms:7.2f} ms (= {ms / one:5.2f} read passes)  caller {caller:6.3f} ms  "
                  f"check {'ok' if same else 'MISMATCH'}", flush=True)


def caller_breakdown(model: list) -> None:
    """Caller-side ms of the pieces of add_histograms on `model` (best of 5)."""
    from xfast import SummaryWriter
    from xfast.device.histogram import to_pinned_host

    def best(fn, keep: Optional[list] = None) -> float:
        t = float("inf")
        for _ in range(5):
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            r = fn()
            t = min(t, time.perf_counter() - t0)
            if keep is not None:
                keep.append(r)
            del r
        torch.cuda.synchronize()
        return t * 1e3

    kept: list = []
    print(f"  histogram_device({len(model)}): {best(lambda: histogram_device(model)):.3f} ms")
    r = histogram_device(model)
    print(f"  to_pinned_host, results kept: {best(lambda: to_pinned_host(torch, r), kept):.3f} ms")
    kept.clear()
    print(f"  to_pinned_host, results freed: {best(lambda: to_pinned_host(torch, r)):.3f} ms")
    one = model[0]
    print(f"  histogram_device(1 tensor): {best(lambda: histogram_device([one])):.3f} ms")
    named = [(f"l{i}", p) for i, p in enumerate(model)]
    with tempfile.TemporaryDirectory() as d, SummaryWriter(d) as w:
        w.add_histograms(named, 0)
        print(f"  add_histograms: {best(lambda: w.add_histograms(named, 1)):.3f} ms")
        w.flush()
        print(f"  add_histogram(1 tensor): {best(lambda: w.add_histogram('h', one, 1)):.3f} ms")
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(5):
            w.add_histograms(named, 1)
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
