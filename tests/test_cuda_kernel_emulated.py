# SPDX-License-Identifier: Apache-2.0
"""The CUDA C++ histogram kernels (src/xfast/device/cuda_kernel.cu) run on the host under
tests/cpp/cuda_emulation.h, with the launch layout of xfast.device.cuda_kernel.plan, against the
torch-ops device path (itself checked against the native kernel), bucket for bucket; compiled
by NVRTC for each GPU generation (no spills); histogram_cuda's host logic with stand-in
kernels; and the GPU sweep scripts as far as a machine without CUDA runs them."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pytest
import torch

from xfast.device import common
from xfast.device import cuda_kernel as cu
from xfast.device.common import device_table
from xfast.device.histogram import histogram_device
from xfast.encoding.histogram_rows import COL, NBINS, WIDTH

ROOT = Path(__file__).resolve().parents[1]
_BASE = 1 << 20  # fake address of the data buffer's first byte (a pointer is never 0)


def _build(out: Path, sanitizer: str) -> list[str]:
    """The emulated kernels built with `sanitizer`; the command line that runs them."""
    cxx = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if cxx is None:
        pytest.skip("needs a C++20 compiler")
    r = subprocess.run(
        [cxx, "-std=c++20", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pthread",
         f"-fsanitize={sanitizer}", "-fno-sanitize-recover=all",
         str(ROOT / "tests" / "cpp" / "cuda_histogram_emulated.cc"), "-o", str(out)],
        capture_output=True, text=True, check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    if sanitizer != "thread":
        return [str(out)]
    # As scripts/sanitize.sh: gcc 12's TSan runtime needs ASLR off on high-entropy kernels.
    arch = [shutil.which("setarch") or "setarch", platform.machine(), "-R"]
    ok = subprocess.run([*arch, "true"], capture_output=True, check=False).returncode == 0
    return [*arch, str(out)] if ok else [str(out)]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    # ASan and UBSan: the kernels' indexing is checked too.
    return _build(tmp_path_factory.mktemp("emul") / "asan", "address,undefined")


@pytest.fixture(scope="module")
def emulator_tsan(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    # TSan: a missing __syncthreads() shows up as a data race on the shared-memory counts.
    return _build(tmp_path_factory.mktemp("emul") / "tsan", "thread")


def _run(
    exe: list[str], tmp: Path, tensors: list[Any], prev: Optional[list[Any]], chunk: int,
    threads: int = 64, shifts: Optional[list[tuple[int, int]]] = None,
) -> np.ndarray:
    """Packed rows of `tensors` from the emulated kernels; tensor j and its previous value
    start shifts[j] bytes past a 16-byte boundary (default 0), as views into storage do."""
    data = bytearray()

    def place(t: Any, shift: int = 0) -> int:
        data.extend(b"\0" * (-len(data) % 16 + shift))
        at = len(data)
        data.extend(t.contiguous().view(torch.uint8).numpy().tobytes())
        return _BASE + at

    entries = []
    for j, t in enumerate(tensors):
        p = prev[j] if prev is not None else None
        ts, ps = shifts[j] if shifts is not None else (0, 0)
        entries.append((cu.dtype_code(t), place(t, ts), 0 if p is None else place(p, ps),
                        t.numel()))
    tens, launches = cu.plan(entries, chunk)
    blob = struct.pack("<4q", _BASE, len(tensors), threads, len(launches))
    blob += common.packed_slot_table().astype("<i4").tobytes() + tens.astype("<i8").tobytes()
    for code, blocks in launches:
        blob += struct.pack("<2q", code, len(blocks)) + blocks.astype("<i8").tobytes()
    src, dst = tmp / "in.bin", tmp / "out.bin"
    src.write_bytes(blob + bytes(data))
    # Not under the sanitized-_core job's LD_PRELOAD (scripts/sanitize.sh python): the binary
    # carries its own sanitizer runtime, and ASan's preloaded beside TSan's crashes it.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    r = subprocess.run([*exe, str(src), str(dst)], capture_output=True, text=True, check=False,
                       env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    return np.fromfile(dst, dtype="<f8").reshape(len(tensors), WIDTH)


def _same(exe: list[str], tmp: Path, tensors: list[Any], prev: Optional[list[Any]] = None,
          chunk: int = 2048, threads: int = 64,
          shifts: Optional[list[tuple[int, int]]] = None) -> None:
    got = _run(exe, tmp, tensors, prev, chunk, threads, shifts)
    want = histogram_device(tensors, prev).numpy()
    assert np.array_equal(got[:, : NBINS], want[:, : NBINS]), [t.dtype for t in tensors]
    counts = [COL[c] for c in ("finite", "nan", "pos_inf", "neg_inf", "zeros")]
    assert np.array_equal(got[:, counts], want[:, counts])
    np.testing.assert_array_equal(got[:, [COL["min"], COL["max"]]],
                                  want[:, [COL["min"], COL["max"]]])
    # Sums of squares: relative error; the sum: against the sum of magnitudes (another order
    # of additions, and a sum of +-3e38 cancelling to 0 leaves a residue in both).
    squares = [COL[c] for c in ("sum_squares", "update_sum_squares")]
    np.testing.assert_allclose(got[:, squares], want[:, squares], rtol=1e-11, atol=1e-9)
    magnitude = np.array([t.double().abs().nan_to_num(0, 0, 0).sum().item() for t in tensors])
    s = COL["sum"]
    assert (np.abs(got[:, s] - want[:, s]) <= 1e-12 * magnitude + 1e-9).all()


@pytest.fixture
def values() -> Any:
    rng = np.random.default_rng(7)
    x = (rng.standard_normal(9001) * 3).astype(np.float32)
    x[:6] = [np.nan, np.inf, -np.inf, 0.0, -0.0, 3e38]
    return torch.from_numpy(x)


@pytest.fixture(autouse=True)
def _torch_ops_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XFAST_DEVICE_HISTOGRAM", "torch")


def test_each_dtype_with_prev_and_specials(
    emulator: list[str], tmp_path: Path, values: Any
) -> None:
    for dt in (torch.float32, torch.bfloat16, torch.float16):
        y = values.to(dt)
        _same(emulator, tmp_path, [y, y[:1000]], [torch.zeros_like(y), None])


def test_mixed_batch_and_chunk_boundaries(
    emulator: list[str], tmp_path: Path, values: Any
) -> None:
    # Two launches (two dtypes); sizes just under, at and over the 2048-element chunk; a view
    # at an odd offset; 256 threads, so every shared-memory copy takes counts.
    other = (values[:4097] * 2).clone()
    tensors = [values[:2047], values[:2048].bfloat16(), other, values[3:2049], values[:1]]
    prev = [None, None, other * 0.5, None, None]
    _same(emulator, tmp_path, tensors, prev, threads=256)


def test_every_slot_and_no_finite_values(emulator: list[str], tmp_path: Path) -> None:
    # Magnitudes from 1e-45 to 3e38 of both signs (every bin, below and above the edges),
    # then tensors with nothing finite or only zeros.
    rng = np.random.default_rng(3)
    wide = rng.choice([-1.0, 1.0], 20_000) * np.exp(rng.uniform(-103, 88, 20_000))
    _same(emulator, tmp_path, [torch.from_numpy(wide.astype(np.float32)),
                               torch.full((300,), float("nan")), torch.zeros(500),
                               torch.tensor([float("inf"), float("-inf")])], chunk=4096)


def test_every_bfloat16_and_float16_pattern(emulator: list[str], tmp_path: Path) -> None:
    bits = torch.arange(65536, dtype=torch.int32).to(torch.int16)
    _same(emulator, tmp_path, [bits.view(torch.bfloat16), bits.view(torch.float16)],
          chunk=16384, threads=256)


def test_views_at_every_offset_from_a_16_byte_boundary(
    emulator: list[str], tmp_path: Path, values: Any
) -> None:
    # The kernels load 16 bytes at a time from the first 16-byte boundary on; the elements
    # before it and after the last whole vector are counted one at a time. Every element
    # offset of a tensor from a boundary, with its previous value at another offset, sizes
    # shorter than that head, and blocks (2048 elements) that end in a partial vector.
    for dt in (torch.float32, torch.bfloat16, torch.float16):
        size = torch.tensor([], dtype=dt).element_size()
        tensors, prev, shifts = [], [], []
        for k in range(16 // size):
            for n in (1, 3, 7, 9, 4100 + k):
                y = values[k: k + n].to(dt)
                tensors.append(y)
                prev.append(y * 0.5 if n > 3 else None)
                shifts.append((k * size, (k + 1) * size % 16))
        _same(emulator, tmp_path, tensors, prev, shifts=shifts)


def test_no_shared_memory_race_under_tsan(
    emulator_tsan: list[str], tmp_path: Path, values: Any
) -> None:
    other = (values[:4097] * 2).clone()
    _same(emulator_tsan, tmp_path, [values, other.bfloat16(), values[:5].half()],
          [None, (other * 0.5).bfloat16(), None], threads=256)


def test_plan_covers_every_element_once() -> None:
    entries = [(0, 100, 0, 5000), (1, 200, 300, 1), (0, 400, 0, 4096), (2, 500, 0, 4097)]
    tens, launches = cu.plan(entries, 4096)
    assert tens.tolist() == [[100, 0, 5000], [200, 300, 1], [400, 0, 4096], [500, 0, 4097]]
    assert [c for c, _ in launches] == [0, 1, 2]
    seen: dict[int, list[tuple[int, int]]] = {}
    for _, blocks in launches:
        for j, start, n in blocks.tolist():
            assert 0 < n <= 4096
            seen.setdefault(j, []).append((start, n))
    for j, (_, _, _, n) in enumerate(entries):
        spans = sorted(seen[j])
        assert spans[0][0] == 0 and sum(c for _, c in spans) == n
        assert all(a + c == b for (a, c), (b, _) in zip(spans, spans[1:]))


def test_plan_launches_no_empty_grid() -> None:
    # CUDA rejects a launch of 0 blocks (the failure would switch the kernel off): a dtype
    # whose tensors are all empty gets no launch, an empty tensor no block.
    tens, launches = cu.plan([(1, 100, 0, 0), (0, 200, 0, 10), (0, 300, 0, 0)], 4096)
    assert len(tens) == 3
    assert [(c, b.tolist()) for c, b in launches] == [(0, [[1, 0, 10]])]


def test_empty_tensors_beside_others(emulator: list[str], tmp_path: Path, values: Any) -> None:
    empty = torch.zeros(0)
    _same(emulator, tmp_path, [empty, values[:100], empty.bfloat16(), empty.half()],
          [empty, None, None, None])


def test_chunk_size_spreads_a_batch_over_the_sms() -> None:
    # 1e9 elements on an H100 (132 SMs): ~20 blocks per SM, 4 rounds of the 5 it holds.
    chunk = cu.chunk_elements(10**9, 132)
    assert chunk % 4096 == 0 and 19 * 132 < -(-10**9 // chunk) <= 20 * 132
    assert cu.chunk_elements(10**4, 132) == 1 << 14  # the floor
    assert cu.chunk_elements(10**12, 132) == 1 << 22  # the ceiling


def test_installed_package_ships_the_kernel_source() -> None:
    # NVRTC compiles the text at run time, so the wheel must carry the .cu file.
    src = cu.source()
    for name in cu.KERNELS:
        assert f'extern "C" __global__ void XF_BOUNDS {name}(' in src
    assert 'extern "C" __global__ void xfast_histogram_finish(' in src
    # The counting kernels' launch bounds, for every GPU, are the block size histogram_cuda
    # launches.
    assert f"#define XF_THREADS {cu.THREADS} " in src
    bounds = re.findall(r"#define XF_BOUNDS __launch_bounds__\((\w+)", src)
    assert bounds == ["XF_THREADS"] * 3


def _nvrtc() -> Any:
    lib = cu.wheel_nvrtc()  # the test extra installs the wheel on Linux x86-64
    if lib is None:
        pytest.skip("needs the nvidia-cuda-nvrtc wheel")
    return lib


def test_kernels_compile_with_nvrtc_for_each_gpu_generation() -> None:
    # The compile step a CUDA machine runs first (xfast's own NVRTC calls, on the shipped
    # source), for Turing to Blackwell: a source NVRTC rejects, say one that includes a
    # standard header, would only show on a GPU as a fallback warning. ptxas must spill no
    # register: the launch bounds cap registers on some GPUs, and a spill in the counting loop
    # costs local-memory traffic per element.
    lib = _nvrtc()
    for arch in ("75", "80", "86", "89", "90", "100", "103", "120"):
        cubin, log = cu.nvrtc_compile(lib, cu.source(), arch, ["--ptxas-options=-v"])
        assert cubin[:4] == b"\x7fELF", arch
        for name in (*cu.KERNELS, "xfast_histogram_finish"):
            assert name.encode() + b"\0" in cubin, (arch, name)
        spills = re.findall(r"(\d+) bytes spill (?:stores|loads)", log)
        assert len(spills) == 8 and set(spills) == {"0"}, (arch, log)
        assert "warning" not in log, (arch, log)
    with pytest.raises(RuntimeError, match=r"NVRTC compile failed.*expected a declaration"):
        cu.nvrtc_compile(lib, "this is not C++", "90")


def test_gpu_sweep_scripts_run_where_they_can() -> None:
    # They run only on a CUDA machine, where a broken import would cost lent device time:
    # here they must import and parse their arguments, and the CUDA sweep's variants compile
    # (NVRTC, no GPU) without a spill in the default one.
    def run(*args: str) -> str:
        r = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                           cwd=ROOT / "benchmarks", check=False, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        return r.stdout

    assert "usage" in run("cuda_sweep.py", "--help")
    if importlib.util.find_spec("triton") is not None:
        assert "usage" in run("triton_sweep.py", "--help")
    _nvrtc()
    spec = importlib.util.spec_from_file_location("cuda_sweep", ROOT / "benchmarks" /
                                                  "cuda_sweep.py")
    assert spec is not None and spec.loader is not None
    sweep = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sweep)
    out = run("cuda_sweep.py", "--compile-only", "--arch", "80").splitlines()
    assert out[0].startswith("NVRTC ")
    rows = out[1:]
    assert len(rows) == len(sweep.VARIANTS) and all(r.count("regs/") == 3 for r in rows), out
    assert rows[0].count("regs/0 B spilled") == 3, rows[0]  # the default variant


def test_launches_and_layout_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    # histogram_cuda's own logic with recording stand-ins for the compiled kernels (CPU
    # tensors, so no pinned memory): one launch per dtype with elements (none for the empty
    # float16 tensor), then the finishing launch; the second call of the same batch reuses the
    # uploaded layout.
    calls: list[tuple[str, tuple[int, int, int], list[Any]]] = []

    def kernel(name: str) -> Any:
        def launch(grid: Any, block: Any, args: list[Any], stream: Any) -> None:
            assert block == (cu.THREADS, 1, 1)
            calls.append((name, grid, args))
        return launch

    fake = {n: kernel(n) for n in (*cu.KERNELS, "xfast_histogram_finish")}
    monkeypatch.setattr(cu, "_kernels", lambda torch_mod, device: {**fake, "sms": 2})
    monkeypatch.setattr(torch.cuda, "current_stream", lambda device=None: None)
    monkeypatch.setattr(torch.cuda, "device", lambda device: contextlib.nullcontext())
    cu._layouts.clear()
    a, b = torch.zeros(40_000), torch.zeros(10, dtype=torch.bfloat16)
    e = torch.zeros(0, dtype=torch.float16)
    table = torch.from_numpy(common.packed_slot_table())
    for _ in range(2):
        out = cu.histogram_cuda(torch, [a, b, e], [a, None, None], table)
        assert tuple(out.shape) == (3, WIDTH) and out.dtype == torch.float64
    assert [(n, grid) for n, grid, _ in calls] == [
        ("xfast_histogram_f32", (3, 1, 1)), ("xfast_histogram_bf16", (1, 1, 1)),
        ("xfast_histogram_finish", (3, 1, 1)),
    ] * 2
    tens = calls[0][2][0]
    assert tens.tolist() == [[a.data_ptr(), a.data_ptr(), 40_000], [b.data_ptr(), 0, 10],
                             [e.data_ptr(), 0, 0]]
    assert calls[3][2][0] is tens  # the cached layout
    assert len(cu._layouts) == 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (scripts/gpu_checks.sh)")
def test_cuda_kernel_on_a_cuda_device(values: Any) -> None:
    x = values.cuda()
    tensors = [x, x[:1000].bfloat16(), (x[3:4099] * 2).half(), torch.full((7,), float("nan"),
                                                                          device="cuda")]
    prev = [x * 0.5, None, None, None]
    got = cu.histogram_cuda(torch, tensors, prev, device_table(torch, x.device)).cpu().numpy()
    want = histogram_device(tensors, prev).cpu().numpy()  # torch ops (the autouse fixture)
    assert np.array_equal(got[:, : NBINS], want[:, : NBINS])
    np.testing.assert_allclose(got[:, NBINS:], want[:, NBINS:], rtol=1e-11, atol=1e-9)
    # On a side stream: its own uploads of the table and layout, the same result.
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        again = cu.histogram_cuda(torch, tensors, prev, device_table(torch, x.device))
    torch.cuda.current_stream().wait_stream(side)
    assert np.array_equal(again.cpu().numpy()[:, : NBINS], got[:, : NBINS])


def test_a_failing_fused_kernel_warns_once_and_the_torch_ops_path_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Triton forced onto a CPU tensor outside its interpreter fails at launch (no driver): the
    # failure is reported once and every call, this one included, still gets its histogram.
    pytest.importorskip("triton")
    monkeypatch.setattr(common, "kernel_state", {})
    x = torch.randn(1000)
    want = histogram_device([x]).numpy()  # torch ops (the autouse fixture)
    monkeypatch.setenv("XFAST_DEVICE_HISTOGRAM", "triton")
    with pytest.warns(RuntimeWarning, match="Triton histogram kernel failed.*torch-ops path"):
        got = histogram_device([x]).numpy()
    assert np.array_equal(got, want)
    assert "disabled" in common.kernel_state
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(histogram_device([x]).numpy(), want)
