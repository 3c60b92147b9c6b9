# SPDX-License-Identifier: Apache-2.0
"""Times variants of the CUDA C++ histogram kernel (src/xfast/device/cuda_kernel.cu).

    python benchmarks/cuda_sweep.py [--elements 1e9] [--model-params 1e9]     # CUDA machine
    python benchmarks/cuda_sweep.py --compile-only [--arch 90]                 # anywhere

For choosing the kernel's tunables, none of which a host can measure: shared-memory count copies
per block (XF_COPIES: fewer same-address collisions against more shared memory), the resident
blocks per SM promised to ptxas (XF_MIN_BLOCKS: more loads in flight against fewer registers),
and blocks per SM in the grid (the chunk size: a smaller last round against more fixed cost
per block). Each variant is timed (GPU ms by CUDA events, best of 5) on a ~1B-parameter bf16
model and on one float32 tensor, and checked bucket for bucket against the torch-ops path on a
1e7-element tensor with non-finite values; the first line of each case is the default.
``--compile-only`` compiles every variant with the nvidia-cuda-nvrtc wheel's NVRTC and prints
ptxas's registers and spills per kernel instead.
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import os
import re
import sys
from typing import Any, Optional

import torch

from xfast.device import cuda_kernel as cu
from xfast.device.common import device_table
from xfast.device.histogram import histogram_device
from xfast.encoding.histogram_rows import NBINS

# (XF_COPIES, XF_MIN_BLOCKS); None: the .cu file's own choice. The first is the default.
VARIANTS: list[tuple[Optional[int], Optional[int]]] = [
    (None, None), (1, None), (2, None), (6, None), (None, 4), (None, 6), (2, 6),
]
BLOCKS_PER_SM = (None, 8, 48)  # None: chunk_elements()'s


def options(copies: Optional[int], min_blocks: Optional[int]) -> list[str]:
    """The NVRTC options of a variant."""
    opts = [] if copies is None else [f"-DXF_COPIES={copies}"]
    return opts + ([] if min_blocks is None else [f"-DXF_MIN_BLOCKS={min_blocks}"])


def label(copies: Optional[int], min_blocks: Optional[int]) -> str:
    """A variant as printed."""
    return f"copies={copies or 'default'} min_blocks={min_blocks or 'default'}"


def nvrtc_version(lib: Any) -> str:
    """NVRTC's version: ptxas's register choices, and so the spills, differ between them."""
    major, minor = ctypes.c_int(), ctypes.c_int()
    lib.nvrtcVersion(ctypes.byref(major), ctypes.byref(minor))
    return f"{major.value}.{minor.value}"


def compile_only(arch: str) -> int:
    """Prints each variant's registers and spilled bytes per counting kernel; 1 without NVRTC."""
    lib = cu.wheel_nvrtc()
    if lib is None:
        print("--compile-only needs the nvidia-cuda-nvrtc wheel (pip install nvidia-cuda-nvrtc)")
        return 1
    print(f"NVRTC {nvrtc_version(lib)}, sm_{arch}", flush=True)
    for copies, min_blocks in VARIANTS:
        _, log = cu.nvrtc_compile(lib, cu.source(), arch,
                                  [*options(copies, min_blocks), "--ptxas-options=-v"])
        per_kernel = re.findall(r"Function properties for (\w+)\n.*?(\d+) bytes spill stores.*?"
                                r"Used (\d+) registers", log, re.S)
        cells = [f"{name.removeprefix('xfast_histogram_')} {regs} regs/{spill} B spilled"
                 for name, spill, regs in per_kernel if name in cu.KERNELS]
        print(f"  {label(copies, min_blocks):>34}: {', '.join(cells)}", flush=True)
    return 0


def timed_cases(n: int, model_params: float) -> list[tuple[str, list[Any]]]:
    """A decoder-shaped bf16 model (8 tensors per layer) and one float32 tensor."""
    d = 2048
    shapes = [(d, d)] * 4 + [(4 * d, d), (d, 4 * d), (d,), (d,)]
    model = [torch.randn(s, device="cuda", dtype=torch.bfloat16) * 0.02
             for _ in range(max(1, int(model_params // (12 * d * d + 2 * d)))) for s in shapes]
    return [(f"model {len(model)} bf16", model), (f"{n:.0e} float32", [torch.randn(n,
                                                                               device="cuda")])]


def sweep(n: int, model_params: float) -> int:
    """Times and checks every variant on the GPU; 1 if any result differs from torch ops."""
    from gpu_check import read_pass_gb_s, time_call  # this script's folder is on sys.path
    from torch.cuda import _utils

    dev = torch.device("cuda")
    table = device_table(torch, dev)
    bw = read_pass_gb_s()
    print(f"device: {torch.cuda.get_device_name()} | torch {torch.__version__} | CUDA "
          f"{torch.version.cuda} | NVRTC {nvrtc_version(_utils._get_gpu_rtc_library())} | "
          f"one read pass (torch.sum): {bw:.0f} GB/s", flush=True)
    check = torch.randn(10**7, device=dev)
    check[:5] = torch.tensor([float("nan"), float("inf"), -float("inf"), 0.0, 1e30])
    check[7::1000] = 0.0
    index = torch.cuda.current_device()
    variants = [(v, cu.compile_kernels(torch, index, options(*v))) for v in VARIANTS]
    mismatches = 0
    for case, ts in timed_cases(n, model_params):
        probe = check.to(ts[0].dtype)
        os.environ["XFAST_DEVICE_HISTOGRAM"] = "torch"
        want = histogram_device([probe])
        os.environ.pop("XFAST_DEVICE_HISTOGRAM")
        one_pass = sum(t.numel() * t.element_size() for t in ts) / bw / 1e6
        total = sum(t.numel() for t in ts)
        for (copies, min_blocks), kernels in variants:
            for per_sm in BLOCKS_PER_SM:
                chunk = None
                if per_sm is not None:
                    chunk = cu.chunk_elements(total, int(kernels["sms"]), per_sm)
                got = cu.histogram_cuda(torch, [probe], None, table, kernels, chunk)
                same = bool((got[:, :NBINS] == want[:, :NBINS]).all()) and bool(
                    torch.allclose(got[:, NBINS:], want[:, NBINS:], rtol=1e-9, atol=1e-6,
                                   equal_nan=True))
                mismatches += not same
                _, ms, _ = time_call(
                    functools.partial(cu.histogram_cuda, torch, ts, None, table, kernels, chunk),
                    5)
                print(f"  {case:>16} {label(copies, min_blocks):>34} "
                      f"blocks/SM={per_sm or 'default':>7}: GPU {ms:7.2f} ms "
                      f"(= {ms / one_pass:5.2f} read passes)  "
                      f"check {'ok' if same else 'MISMATCH'}", flush=True)
    return 1 if mismatches else 0


def main() -> int:
    """Parses the arguments and runs the sweep or the compile-only report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--elements", type=float, default=1e9)
    ap.add_argument("--model-params", type=float, default=1e9)
    ap.add_argument("--compile-only", action="store_true")
    ap.add_argument("--arch", default="90", help="with --compile-only: sm_<ARCH>")
    args = ap.parse_args()
    if args.elements < 1 or args.model_params < 1:
        ap.error("--elements and --model-params must be at least 1")
    if args.compile_only:
        return compile_only(args.arch)
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to time (--compile-only works anywhere)")
        return 0
    return sweep(int(args.elements), args.model_params)


if __name__ == "__main__":
    sys.exit(main())
