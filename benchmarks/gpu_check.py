# SPDX-License-Identifier: Apache-2.0
"""GPU check for the device histogram path: correctness, no host sync, timings, memory.

Run on a CUDA machine after `pip install --no-build-isolation .`:

    python benchmarks/gpu_check.py [--max-elements 1e9] [--model-params 1e9]

Prints every figure and exits non-zero on any correctness failure. Without a CUDA device it
checks the device-side code on small CPU tensors, says so and exits 0.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from typing import Any, Callable, Optional

import numpy as np
import torch

from xfast import SummaryWriter, _core
from xfast.device.common import kernel_state
from xfast.device.histogram import histogram_device
from xfast.encoding.convert import histogram_buffer
from xfast.encoding.histogram_rows import COL, NBINS

# auto = the Triton kernel when it imports, else torch ops; cuda = the NVRTC-compiled CUDA C++
# kernel (xfast.device.cuda_kernel, opt-in until these checks have measured it).
PATHS = ("auto", "cuda", "torch")


def set_path(path: str) -> None:
    os.environ["XFAST_DEVICE_HISTOGRAM"] = path


def triton_note() -> str:
    notes = []
    for key, name in (("disabled", "Triton"), ("cuda disabled", "CUDA kernel")):
        err = kernel_state.get(key)
        if err is not None:
            notes.append(f" [{name} disabled after: {err!r}]")
    return "".join(notes)

FAILURES: list[str] = []


def fail(msg: str) -> None:
    FAILURES.append(msg)
    print("FAIL:", msg, flush=True)


def native(t: torch.Tensor) -> dict[str, Any]:
    data, code = histogram_buffer(t.cpu())
    return _core.histogram_accumulate(data, code)


def compare(label: str, row: np.ndarray, ref: dict[str, Any], sum_abs: float) -> None:
    """The device row against the native kernel: exact counts, min/max; sums to rounding."""
    ok = np.array_equal(row[:NBINS], ref["counts"])
    for name in ("finite", "nan", "pos_inf", "neg_inf"):
        ok &= row[COL[name]] == ref[name]
    if ref["finite"]:
        ok &= row[COL["min"]] == ref["min"] and row[COL["max"]] == ref["max"]
        # float64 sums in different orders: bounded by ~1e-10 of the sum of magnitudes
        ok &= abs(row[COL["sum"]] - ref["sum"]) <= 1e-10 * sum_abs + 1e-300
        ok &= abs(row[COL["sum_squares"]] - ref["sum_squares"]) <= 1e-10 * ref["sum_squares"]
    print(f"  {label}: {'ok' if ok else 'MISMATCH'}", flush=True)
    if not ok:
        bad = np.nonzero(row[:NBINS] != ref["counts"])[0][:5]
        fail(f"{label}: counts differ at bins {bad.tolist()}; device {row[NBINS:].tolist()} "
             f"vs native {[ref[k] for k in ('min', 'max', 'sum', 'sum_squares', 'finite')]}")


def sizes_up_to(limit: float) -> list[int]:
    return [n for n in (10**6, 10**7, 10**8, 10**9) if n <= limit] or [int(limit)]


def cpu_only(args: argparse.Namespace) -> int:
    print("no CUDA device: checking the device-side torch-ops code on CPU tensors only")
    n = int(min(args.max_elements, 1e5))
    for dtype in (torch.float32, torch.bfloat16):
        x = (torch.randn(n) * 3).to(dtype)
        x[:3] = torch.tensor([float("nan"), float("inf"), -float("inf")])
        row = histogram_device([x])[0].numpy()
        compare(f"cpu {dtype} n={n}", row, native(x), float(x.double().nan_to_num(0, 0, 0).abs().sum()))
    print("FAIL" if FAILURES else "PASS", "(GPU parts skipped)")
    return 1 if FAILURES else 0


def check_correctness(limit: float) -> None:
    print("== correctness vs the CPU kernel (bucket for bucket)", flush=True)
    for n in sizes_up_to(limit):
        for dtype in (torch.float32, torch.bfloat16):
            x = torch.randn(n, device="cuda", dtype=dtype)
            x[:5] = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, 1e30])
            ref = native(x)
            sum_abs = float(x.float().nan_to_num(0, 0, 0).abs().sum(dtype=torch.float64))
            for path in PATHS:
                set_path(path)
                row = histogram_device([x])[0].cpu().numpy()
                compare(f"n={n:.0e} {dtype} path={path}{triton_note()}", row, ref, sum_abs)
            set_path("auto")
            del x
            torch.cuda.empty_cache()


def check_end_to_end() -> None:
    print("== end to end: CUDA vs CPU tensor through SummaryWriter, read back", flush=True)
    from tensorboard.backend.event_processing import event_accumulator as ea

    x = torch.randn(1_000_000, device="cuda") * 5
    with tempfile.TemporaryDirectory() as d:
        for name, v in (("gpu", x), ("cpu", x.cpu())):
            with SummaryWriter(os.path.join(d, name)) as w:
                w.add_histogram("h", v, 3)
                w.add_scalar("s", v[7], 3)
        got = {}
        for name in ("gpu", "cpu"):
            acc = ea.EventAccumulator(os.path.join(d, name), size_guidance={ea.HISTOGRAMS: 0})
            acc.Reload()
            h = acc.Histograms("h")[0].histogram_value
            got[name] = (list(h.bucket_limit), list(h.bucket), h.min, h.max, h.num,
                         acc.Scalars("s")[0].value)
        same = got["gpu"][:5] == got["cpu"][:5] and got["gpu"][5] == got["cpu"][5]
        print("  histogram and scalar identical:", same)
        if not same:
            fail("end to end: CUDA and CPU tensors gave different events")


def check_no_sync(model_params: list[torch.Tensor]) -> None:
    print("== no host sync on the caller's path (set_sync_debug_mode('error'))", flush=True)
    x = torch.randn(10_000_000, device="cuda")
    loss = x[:1].sum()
    with tempfile.TemporaryDirectory() as d, SummaryWriter(d) as w:
        named = [(f"p{i}", p) for i, p in enumerate(model_params[:4])]
        for path in ("auto", "cuda"):
            set_path(path)
            for label, call in (
                ("add_histogram", lambda: w.add_histogram("h", x, 1)),
                ("add_histogram bf16", lambda: w.add_histogram("hb", x.bfloat16(), 1)),
                ("add_scalar(cuda 0-d)", lambda: w.add_scalar("loss", loss, 1)),
                ("add_histograms",
                 lambda: w.add_histograms(named, 1, grads=True, stats=("norm", "mean"))),
            ):
                call()  # warm-up: tables, compiled kernels, pinned buffers, the queue thread
                torch.cuda.set_sync_debug_mode("error")
                try:
                    call()
                    print(f"  {label} path={path}: no sync{triton_note()}")
                except RuntimeError as e:
                    fail(f"{label} path={path} synchronized: {e}")
                finally:
                    torch.cuda.set_sync_debug_mode(0)
        set_path("auto")


def time_call(
    fn: Callable[[], object], repeats: int = 3, settle: Optional[Callable[[], object]] = None
) -> tuple[float, float, float]:
    """(caller ms, GPU ms, peak extra device MiB) of fn(), best of `repeats`; settle(), untimed,
    before each (a writer's flush: the previous result written and its pinned buffer free, as
    in a training loop, where a step's GPU work outlasts its histograms')."""
    caller = gpu = float("inf")
    peak = 0.0
    for _ in range(repeats):
        torch.cuda.synchronize()
        if settle is not None:
            settle()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        end.record()
        torch.cuda.synchronize()
        caller = min(caller, (t1 - t0) * 1e3)
        gpu = min(gpu, start.elapsed_time(end))
        peak = max(peak, (torch.cuda.max_memory_allocated() - base) / 2**20)
    return caller, gpu, peak


def back_to_back(fn: Callable[[], object], calls: int = 3) -> float:
    """Caller ms per call of fn() called `calls` times in a row: each call's pinned result
    buffer is then still in flight when the next one asks for one."""
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    t1 = time.perf_counter()
    torch.cuda.synchronize()
    return (t1 - t0) * 1e3 / calls


def read_pass_gb_s() -> float:
    x = torch.randn(2**28, device="cuda")
    _, ms, _ = time_call(lambda: torch.sum(x), 5)
    return x.numel() * 4 / ms / 1e6


def timings(limit: float) -> None:
    print("== add_histogram timings (caller-side wall ms, GPU ms by CUDA events, peak extra MiB)")
    bw = read_pass_gb_s()
    print(f"  one read pass (torch.sum): {bw:.0f} GB/s", flush=True)
    with tempfile.TemporaryDirectory() as d, SummaryWriter(d) as w:
        for n in sizes_up_to(limit):
            for dtype in (torch.float32, torch.bfloat16):
                x = torch.randn(n, device="cuda", dtype=dtype)
                for path in PATHS:
                    set_path(path)
                    w.add_histogram("warm", x[:1000], 0)
                    caller, gpu, peak = time_call(lambda x=x: w.add_histogram("h", x, 0),
                                                  settle=w.flush)
                    passes = gpu / (x.numel() * x.element_size() / bw / 1e6)
                    print(f"  n={n:.0e} {dtype!s:>14} {path:>5}: caller {caller:8.2f} ms  "
                          f"GPU {gpu:8.2f} ms (= {passes:5.1f} read passes)  "
                          f"peak extra {peak:7.1f} MiB{triton_note()}", flush=True)
                    if peak > 64 + 16:
                        fail(f"n={n} {dtype} {path}: peak extra device memory {peak:.0f} MiB "
                             "> 64 MiB + O(buckets)")
                set_path("auto")
                del x
            w.flush()


def model_wide(params: list[torch.Tensor], bw: float) -> None:
    nbytes = sum(p.numel() * p.element_size() for p in params)
    nparam = sum(p.numel() for p in params)
    one_pass_ms = nbytes / bw / 1e6
    print(f"== add_histograms on {nparam / 1e9:.2f}B {params[0].dtype} parameters in "
          f"{len(params)} tensors "
          f"({nbytes / 2**30:.1f} GiB; one read pass = {one_pass_ms:.2f} ms)", flush=True)
    named = [(f"layer{i}", p) for i, p in enumerate(params)]
    with tempfile.TemporaryDirectory() as d, SummaryWriter(d) as w:
        for path in PATHS:
            set_path(path)
            for label, kw in (("params", {}), ("params+grads+norm", {"grads": True, "stats": ("norm",)})):
                w.add_histograms(named, 0, **kw)
                caller, gpu, peak = time_call(lambda kw=kw: w.add_histograms(named, 1, **kw), 2,
                                              settle=w.flush)
                b2b = back_to_back(lambda kw=kw: w.add_histograms(named, 1, **kw))
                read = one_pass_ms * (2 if kw else 1)
                print(f"  {path:>5} {label}: caller {caller:8.2f} ms/step "
                      f"(back-to-back {b2b:6.2f})  GPU {gpu:8.2f} ms/step "
                      f"(= {gpu / read:5.1f} read passes of what it reads)  "
                      f"peak extra {peak:7.1f} MiB{triton_note()}", flush=True)
                w.flush()
        set_path("auto")


def transformer_like(target: float, d: int = 2048) -> list[torch.Tensor]:
    """bf16 parameters shaped like a decoder stack (q, k, v, o, up, down, two norms per layer:
    8 tensors of very different sizes per layer), each with a .grad, ~target elements."""
    per_layer = 12 * d * d + 2 * d
    shapes = [(d, d)] * 4 + [(4 * d, d), (d, 4 * d), (d,), (d,)]
    params = []
    for _ in range(max(1, int(target // per_layer))):
        for shape in shapes:
            p = torch.nn.Parameter(torch.randn(shape, device="cuda", dtype=torch.bfloat16) * 0.02)
            p.grad = torch.randn_like(p) * 1e-3
            params.append(p)
    return params


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--max-elements", type=float, default=1e9)
    ap.add_argument("--model-params", type=float, default=1e9)
    args = ap.parse_args()
    if not torch.cuda.is_available():
        return cpu_only(args)
    print("device:", torch.cuda.get_device_name(), "| torch", torch.__version__, flush=True)
    t_start = time.time()
    params = transformer_like(args.model_params)
    check_correctness(args.max_elements)
    check_end_to_end()
    check_no_sync(params)
    timings(args.max_elements)
    model_wide(params, read_pass_gb_s())
    print(f"total {time.time() - t_start:.0f} s")
    print("FAIL" if FAILURES else "PASS", f"({len(FAILURES)} failures)")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
