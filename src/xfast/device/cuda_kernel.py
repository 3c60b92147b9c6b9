# SPDX-License-Identifier: Apache-2.0
"""The default-bins histogram as CUDA C++ kernels (``cuda_kernel.cu``) compiled at run time
by NVRTC, the library torch's CUDA builds ship; nothing CUDA is needed at build time.

Opt-in (``XFAST_DEVICE_HISTOGRAM=cuda``) until benchmarks/gpu_check.py has measured it on a
GPU: the kernels' logic is tested on the host (tests/test_cuda_kernel_emulated.py runs the
same source under tests/cpp/cuda_emulation.h, with the launch layout built here), but they have
not yet run on a device. Same result layout as the other backends
(xfast.encoding.histogram_rows). Per call: one ``torch.zeros`` (the scratch rows), one
``torch.empty`` (the result), one launch per dtype with elements in the batch and one
finishing launch; the launch layout is cached per stream and batch layout. Temporary device
memory: 12.25 KiB per tensor, whatever its size.
"""

from __future__ import annotations

import ctypes
import functools
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional

import numpy as np

from xfast.device.common import fused_dtypes, stream_key, upload
from xfast.encoding.histogram_rows import WIDTH

ROW = 1568  # scratch row per tensor (unsigned long long), as XF_ROW in the .cu file
# Threads per block: 8 warps over the kernel's 4 shared-memory count copies (XF_THREADS in the
# .cu file: its launch bounds promise it to the compiler).
THREADS = 256
KERNELS = ("xfast_histogram_f32", "xfast_histogram_bf16", "xfast_histogram_f16")
_FINISH = "xfast_histogram_finish"
# Elements per block: the batch's total over ~20 blocks per SM, 4 rounds of the 5 an H100
# holds at once (3 on GPUs with 100 KB of shared memory per SM), so that the last round,
# partly filled, idles little of the GPU. A multiple of 4096, so blocks of an aligned tensor
# start aligned, and in this range: a block's fixed cost, zeroing and flushing 6,224 shared
# counters, stays small against it, and the kernel's indices within a block are 32-bit.
_BLOCKS_PER_SM = 20
_CHUNK_ALIGN = 4096
_CHUNK_MIN, _CHUNK_MAX = 1 << 14, 1 << 22
_LAYOUTS_MAX = 64

_lock = threading.Lock()
_modules: dict[int, dict[str, Any]] = {}
_layouts: OrderedDict[tuple[Any, ...], tuple[Any, list[tuple[str, Any, int]]]] = OrderedDict()


def source() -> str:
    """The kernels' CUDA C++ source."""
    return (Path(__file__).with_name("cuda_kernel.cu")).read_text(encoding="utf-8")


@functools.cache
def _dtype_codes() -> dict[Any, int]:
    """torch dtype -> the kernels' dtype index (0 float32, 1 bfloat16, 2 float16: the fused
    kernels' dtypes in their order, which is KERNELS')."""
    return {dt: i for i, dt in enumerate(fused_dtypes())}


def dtype_code(t: Any) -> int:
    """The kernel's dtype index of tensor t, or -1."""
    return _dtype_codes().get(t.dtype, -1)


def chunk_elements(total: int, sms: int, blocks_per_sm: int = _BLOCKS_PER_SM) -> int:
    """Elements per block for a batch of `total` elements on a device with `sms` SMs, for
    about `blocks_per_sm` blocks per SM."""
    want = -(-total // (blocks_per_sm * max(sms, 1)))
    want = -(-want // _CHUNK_ALIGN) * _CHUNK_ALIGN
    return min(max(want, _CHUNK_MIN), _CHUNK_MAX)


def plan(
    entries: Sequence[tuple[int, int, int, int]], chunk: int
) -> tuple[np.ndarray, list[tuple[int, np.ndarray]]]:
    """The launch layout of a batch.

    Args:
        entries: per tensor (dtype code, data pointer, previous-value pointer or 0, numel).
        chunk: elements per block.

    Returns:
        (tens int64[k, 3]: pointer, previous pointer, numel per tensor;
        [(dtype code, blocks int64[nb, 3]: tensor index, first element, element count)], one
        launch per dtype that has a non-empty tensor in the batch).
    """
    tens = np.array([[ptr, prev, n] for _, ptr, prev, n in entries], dtype=np.int64)
    by_code: dict[int, list[list[int]]] = {}
    for j, (code, _, _, n) in enumerate(entries):
        if n:  # an empty tensor has no block (its row stays zero: nothing counted)
            rows = by_code.setdefault(code, [])
            rows += [[j, s, min(chunk, n - s)] for s in range(0, n, chunk)]
    # A dtype whose tensors are all empty gets no launch: CUDA rejects a grid of 0 blocks.
    return tens, [(c, np.array(b, dtype=np.int64)) for c, b in by_code.items()]


def wheel_nvrtc() -> Optional[Any]:
    """NVRTC from the nvidia-cuda-nvrtc wheel (a ctypes.CDLL), or None when it is not installed:
    for compiling the kernels where torch has no CUDA (tests, benchmarks/cuda_sweep.py)."""
    try:
        import nvidia  # type: ignore[import-untyped, import-not-found, unused-ignore]
    except ImportError:
        return None
    for root in nvidia.__path__:
        for lib in sorted(Path(root).glob("*/lib/libnvrtc.so*")):
            # NVRTC dlopens its builtins library by name, found through its own RUNPATH; under
            # an LD_PRELOADed ASan (scripts/sanitize.sh) that lookup fails, so load it first.
            for builtins in lib.parent.glob("libnvrtc-builtins.so*"):
                ctypes.CDLL(str(builtins))
            return ctypes.CDLL(str(lib))
    return None


def nvrtc_compile(
    lib: Any, src: str, arch: str, options: Sequence[str] = ()
) -> tuple[bytes, str]:
    """Compiles src for sm_<arch> with NVRTC library `lib` (a ctypes.CDLL; at run time the one
    torch loads, so no CUDA toolkit is needed). Returns (cubin, NVRTC's log); raises
    RuntimeError with the log if it fails. `options` are added to the compile options."""

    def log_of(prog: ctypes.c_void_p) -> str:
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        buf = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(prog, buf)
        return buf.value.decode(errors="replace")

    def check(rc: int, what: str, prog: Optional[ctypes.c_void_p] = None) -> None:
        if rc != 0:
            raise RuntimeError(f"NVRTC {what} failed (code {rc}) "
                               f"{log_of(prog) if prog is not None else ''}")

    prog = ctypes.c_void_p()
    check(lib.nvrtcCreateProgram(ctypes.byref(prog), src.encode(), b"xfast_histogram.cu", 0,
                                 None, None), "create")
    try:
        opts = [f"--gpu-architecture=sm_{arch}".encode(), b"--std=c++17",
                *(o.encode() for o in options)]
        arr = (ctypes.c_char_p * len(opts))(*opts)
        check(lib.nvrtcCompileProgram(prog, len(opts), arr), "compile", prog)
        size = ctypes.c_size_t()
        check(lib.nvrtcGetCUBINSize(prog, ctypes.byref(size)), "cubin size")
        cubin = ctypes.create_string_buffer(size.value)
        check(lib.nvrtcGetCUBIN(prog, cubin), "cubin")
        return cubin.raw, log_of(prog)
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))


def compile_kernels(torch: Any, index: int, options: Sequence[str] = ()) -> dict[str, Any]:
    """The kernels compiled for CUDA device `index` and loaded there, by name, plus "sms" (its
    SM count). `options` go to NVRTC (benchmarks/cuda_sweep.py sets the .cu file's tunables,
    e.g. "-DXF_COPIES=2")."""
    from torch.cuda import _utils

    props = torch.cuda.get_device_properties(index)
    with torch.cuda.device(index):
        cubin, _ = nvrtc_compile(_utils._get_gpu_rtc_library(), source(),
                                 f"{props.major}{props.minor}", options)
        loaded = _utils._cuda_load_module(cubin, [*KERNELS, _FINISH])
    kernels = dict(loaded)  # type: ignore[arg-type]
    kernels["sms"] = props.multi_processor_count
    return kernels


def _kernels(torch: Any, device: Any) -> dict[str, Any]:
    """The compiled kernels for `device` (compiled and loaded on first use, ~1 s)."""
    index = device.index if device.index is not None else torch.cuda.current_device()
    mods = _modules.get(index)
    if mods is None:
        with _lock:
            mods = _modules.get(index)
            if mods is None:
                mods = _modules[index] = compile_kernels(torch, index)
    return mods


def histogram_cuda(
    torch: Any, tensors: Sequence[Any], prev: Optional[Sequence[Optional[Any]]], table: Any,
    kernels: Optional[dict[str, Any]] = None, chunk: Optional[int] = None,
) -> Any:
    """Packed (len(tensors), WIDTH) float64 rows on the tensors' CUDA device, as
    xfast.device.histogram.histogram_device; no host sync. `table` is the packed slot table on
    that device (xfast.device.common.device_table). `kernels` (from compile_kernels) and `chunk`
    (elements per block, a chunk_elements() value) replace the defaults, for
    benchmarks/cuda_sweep.py."""
    if chunk is not None and (chunk % _CHUNK_ALIGN or not _CHUNK_ALIGN <= chunk <= _CHUNK_MAX):
        raise ValueError(f"chunk must be a multiple of {_CHUNK_ALIGN} up to {_CHUNK_MAX}, got "
                         f"{chunk}")
    device = tensors[0].device
    if kernels is None:
        kernels = _kernels(torch, device)
    # Runs per call for every tensor of the batch (a model's parameters each step): one
    # comprehension, no per-tensor function calls.
    codes = _dtype_codes()
    ps = prev if prev is not None else [None] * len(tensors)
    entries = tuple([(codes[t.dtype], t.data_ptr(), 0 if p is None else p.data_ptr(), t.numel())
                     for t, p in zip(tensors, ps)])
    # Per stream: the layout is uploaded without blocking on the current stream, so only that
    # stream's kernels are ordered after the copy (and after its memory is freed on eviction).
    key = (stream_key(torch, device), chunk, entries)
    with _lock:  # writers on several threads share the cache
        hit = _layouts.get(key)
        if hit is None:
            tens, launches = plan(entries, chunk or chunk_elements(sum(e[3] for e in entries),
                                                                   int(kernels["sms"])))
            hit = (upload(torch, device, torch.from_numpy(tens)),
                   [(KERNELS[c], upload(torch, device, torch.from_numpy(b)), len(b))
                    for c, b in launches])
            _layouts[key] = hit
            if len(_layouts) > _LAYOUTS_MAX:
                _layouts.popitem(last=False)
        else:
            _layouts.move_to_end(key)
    tens_dev, launches_dev = hit
    k = len(tensors)
    scratch = torch.zeros((k, ROW), dtype=torch.int64, device=device)
    out = torch.empty((k, WIDTH), dtype=torch.float64, device=device)
    stream = torch.cuda.current_stream(device)
    with torch.cuda.device(device):
        for name, blocks, nb in launches_dev:
            kernels[name](grid=(nb, 1, 1), block=(THREADS, 1, 1),
                          args=[tens_dev, blocks, table, scratch], stream=stream)
        kernels[_FINISH](grid=(k, 1, 1), block=(THREADS, 1, 1), args=[tens_dev, scratch, out],
                         stream=stream)
    return out
