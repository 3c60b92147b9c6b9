# SPDX-License-Identifier: Apache-2.0
"""The default-bins kernel (multi-threaded, serial, portable), its device-side torch-ops twin,
the asynchronous device path's ordering, and add_histograms, against numpy/torch/tensorboard."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
from typing import Any

import numpy as np
import pytest
import torch
from conftest import event_files, load_run
from record_reader import read_events
from torch.utils.tensorboard.summary import make_histogram

from xfast import SummaryWriter, _core
from xfast import histograms as _histograms_module
from xfast import writer as _writer_module
from xfast.device import common, histogram
from xfast.device import log as _device_log
from xfast.device.common import packed_slot_table
from xfast.device.histogram import histogram_device
from xfast.encoding.convert import histogram_buffer
from xfast.encoding.histogram_rows import COL, NBINS, WIDTH

EDGES = np.asarray(_core.default_edges())
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Sizes around the kernel's block (2048) and its parallel threshold and chunk (both 2^18).
SIZES = [1, 7, 2047, 2049, (1 << 18) + 3, (1 << 20) + 5]
DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int8, torch.uint8,
          torch.int16, torch.int32, torch.int64, torch.bool]


def tricky_float32(n: int, seed: int = 0) -> np.ndarray:
    """Values over ~50 orders of magnitude, every edge and its float32 neighbours, zeros of both
    signs, values beyond the outer edges, and NaN/+-inf."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * np.exp(rng.uniform(-70, 50, n))).astype(np.float32)
    e32 = EDGES.astype(np.float32)
    special = np.concatenate([
        e32, np.nextafter(e32, np.float32(np.inf)), np.nextafter(e32, np.float32(-np.inf)),
        np.array([0.0, -0.0, 1e-45, -1e-45, 3e38, -3e38, np.nan, np.inf, -np.inf], np.float32),
    ])
    x[: min(n, special.size)] = special[: min(n, special.size)]
    return x


def as_dtype(x: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    t = torch.from_numpy(x)
    if dtype.is_floating_point:
        return t.to(dtype)
    if dtype == torch.bool:
        return t > 0
    info = torch.iinfo(dtype)
    return t.nan_to_num(0, 0, 0).clamp(info.min, info.max).to(torch.float64).to(dtype)


def reference(t: torch.Tensor) -> dict[str, Any]:
    """np.histogram over the finite float64 values: what torch's make_histogram counts."""
    v = (t.float() if t.dtype == torch.bfloat16 else t).numpy().astype(np.float64)
    fin = v[np.isfinite(v)]
    counts, _ = np.histogram(fin, EDGES)
    return {"counts": counts, "finite": fin.size, "sum": fin.sum(), "sum_squares": fin.dot(fin),
            "min": fin.min() if fin.size else None, "max": fin.max() if fin.size else None,
            "nan": int(np.isnan(v).sum()), "sum_abs": np.abs(fin).sum()}


def check(r: dict[str, Any], ref: dict[str, Any]) -> None:
    np.testing.assert_array_equal(np.asarray(r["counts"]), ref["counts"])
    assert r["finite"] == ref["finite"]
    assert r["nan"] == ref["nan"]
    if ref["finite"]:
        assert r["min"] == ref["min"] and r["max"] == ref["max"]
        # Rounding differs with summation order: bound it by the sum of magnitudes.
        assert r["sum"] == pytest.approx(ref["sum"], rel=1e-9, abs=1e-13 * ref["sum_abs"])
        assert r["sum_squares"] == pytest.approx(ref["sum_squares"], rel=1e-9)


@pytest.mark.parametrize("n", SIZES)
def test_float32_threaded_equals_serial_and_numpy(n: int) -> None:
    x = tricky_float32(n, seed=n)
    ref = reference(torch.from_numpy(x))
    threaded = _core.testing.histogram_default(x, 0, False)
    serial = _core.testing.histogram_default(x, 0, True)
    check(threaded, ref)
    check(serial, ref)
    np.testing.assert_array_equal(threaded["counts"], serial["counts"])


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("n", [2049, (1 << 20) + 5])
def test_every_dtype_threaded_serial_numpy(dtype: torch.dtype, n: int) -> None:
    t = as_dtype(tricky_float32(n, seed=7), dtype)
    data, code = histogram_buffer(t)
    ref = reference(t)
    check(_core.testing.histogram_default(data, code, False), ref)
    check(_core.testing.histogram_default(data, code, True), ref)


def test_batch_call_equals_one_call_per_tensor() -> None:
    # One pool dispatch over tensors of mixed dtypes and sizes (small ones share no chunk).
    tensors = [as_dtype(tricky_float32(n, seed=n), dt) for n, dt in (
        (5, torch.float32), ((1 << 20) + 5, torch.float32), (3000, torch.bfloat16),
        (2049, torch.float64), ((1 << 18) + 1, torch.float16), (700, torch.int32),
    )]
    buffers = [histogram_buffer(t) for t in tensors]
    rows = np.full((len(buffers), WIDTH + 1), -7.0)  # the last column must stay untouched
    _core.histogram_rows(buffers, rows)
    assert (rows[:, -1] == -7.0).all()
    for row, (data, code), t in zip(rows, buffers, tensors):
        one = _core.testing.histogram_default(data, code, True)
        np.testing.assert_array_equal(row[:NBINS], one["counts"])
        got = {name: row[COL[name]] for name in ("min", "max", "sum", "sum_squares", "finite",
                                                 "nan", "pos_inf", "neg_inf")}
        got["counts"] = row[:NBINS]
        check(got, reference(t))


def test_every_float32_range_boundary_is_exact() -> None:
    # The lowest and highest float of each of the 2^17 table ranges (sign, exponent, 8 mantissa
    # bits), excluding inf/NaN: the O(1) index must agree with a binary search everywhere.
    r = np.arange(1 << 17, dtype=np.uint32) << 15
    bits = np.concatenate([r, r | 0x7FFF])
    x = bits.view(np.float32)
    x = x[np.isfinite(x)]
    check(_core.testing.histogram_default(x, 0, True), reference(torch.from_numpy(x)))


def test_matches_torch_make_histogram() -> None:
    x = np.random.default_rng(3).standard_normal(100_000).astype(np.float32) * 3
    ours = _core.testing.histogram_default(x, 0, False)
    limits, counts = _core.testing.finish_histogram(ours["counts"].astype(np.float64), EDGES)
    theirs = make_histogram(x.astype(np.float64), EDGES)
    assert list(limits) == list(theirs.bucket_limit)
    assert list(counts) == list(theirs.bucket)
    assert ours["sum"] == pytest.approx(theirs.sum, rel=1e-12)
    assert ours["sum_squares"] == pytest.approx(theirs.sum_squares, rel=1e-12)


def test_portable_sse2_avx2_avx512_paths_give_the_same_result(tmp_path: Any) -> None:
    # The path is chosen once per process: each one runs in a child process.
    x = tricky_float32(300_000, seed=5)
    src, out = str(tmp_path / "x.npy"), str(tmp_path / "r.npy")
    np.save(src, x)
    code = (
        "import sys, numpy as np\n"
        "from xfast import _core\n"
        "r = _core.testing.histogram_default(np.load(sys.argv[1]), 0, False)\n"
        "np.save(sys.argv[2], np.concatenate([r['counts'].astype(np.float64),"
        " [r['min'], r['max'], r['sum'], r['sum_squares'], r['finite'], r['nan']]]))\n"
        "print(_core.histogram_implementation())\n"
    )
    ref = reference(torch.from_numpy(x))
    # Portable loops; SSE2 moments and table counting; AVX2 one-pass; the best the CPU has
    # (AVX-512 one-pass where available).
    switches = ("XFAST_FORCE_PORTABLE", "XFAST_NO_AVX2", "XFAST_NO_AVX512")
    seen = []
    for extra in ({"XFAST_FORCE_PORTABLE": "1"}, {"XFAST_NO_AVX2": "1"},
                  {"XFAST_NO_AVX512": "1"}, {}):
        env = {k: v for k, v in os.environ.items() if k not in switches}
        env.update(extra)
        run = subprocess.run([sys.executable, "-c", code, src, out], check=True, env=env,
                             capture_output=True, text=True)
        seen.append(run.stdout.strip())
        got = np.load(out)
        r = dict(zip(["min", "max", "sum", "sum_squares", "finite", "nan"], got[NBINS:]))
        r["counts"] = got[:NBINS]
        check(r, ref)
    assert seen[0] == "portable"
    if platform.machine().lower() in ("x86_64", "amd64"):
        assert seen[1] == "sse2"
        assert seen[2] in ("sse2", "avx2")
        assert seen[3] in ("sse2", "avx2", "avx512")


@pytest.mark.parametrize("isa", ["avx512", "avx2"])
def test_vector_slots_equal_the_table_for_every_float32(isa: str) -> None:
    # The C++ test checks every 16th block in its Debug build; the optimized module checks all
    # 4.26e9 finite float32 values here (~4 s). A sanitized module gets the C++ test's share.
    stride = 16 if os.environ.get("XFAST_SANITIZED") == "1" else 1
    r = _core.testing.vector_slot_mismatches(isa, stride)
    if not r["ran"]:
        pytest.skip(f"this CPU has no {isa}")
    assert r["mismatches"] == 0
    if stride == 1:
        assert r["checked"] == 0xFF000000  # both signs, every finite pattern


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_device_path_on_cpu_matches_native_kernel(dtype: torch.dtype) -> None:
    t = as_dtype(tricky_float32(40_000, seed=11), dtype)
    prev = torch.zeros_like(t)
    row = histogram_device([t, t[:100]], [prev, None]).numpy()
    for got, part in zip(row, (t, t[:100])):
        data, code = histogram_buffer(part)
        r = _core.testing.histogram_default(data, code, True)
        np.testing.assert_array_equal(got[:NBINS], r["counts"])
        for name in ("finite", "nan", "pos_inf", "neg_inf"):
            assert got[COL[name]] == r[name], name
        if r["finite"]:
            assert got[COL["min"]] == r["min"] and got[COL["max"]] == r["max"]
            sum_abs = reference(part)["sum_abs"]
            assert got[COL["sum"]] == pytest.approx(r["sum"], rel=1e-9, abs=1e-13 * sum_abs)
            assert got[COL["sum_squares"]] == pytest.approx(r["sum_squares"], rel=1e-9)
        v = part.double()
        assert got[COL["zeros"]] == int((v == 0).sum())
    assert row[0, COL["update_sum_squares"]] == pytest.approx(row[0, COL["sum_squares"]])


def test_device_path_chunks_equal_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    t = torch.from_numpy(tricky_float32(10_000, seed=2))
    whole = histogram_device([t])
    monkeypatch.setattr("xfast.device.torch_ops.chunk_elements", lambda: 999)
    chunked = histogram_device([t])
    np.testing.assert_array_equal(whole[0, : NBINS].numpy(), chunked[0, : NBINS].numpy())
    w, c = whole[0].numpy(), chunked[0].numpy()
    other = [i for i in range(w.size) if i != COL["sum"]]
    np.testing.assert_allclose(w[other], c[other], rtol=1e-12)
    assert w[COL["sum"]] == pytest.approx(c[COL["sum"]], abs=1e-13 * reference(t)["sum_abs"])


class _GateEvent:
    """Stands in for a CUDA event: synchronize() blocks until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()

    def synchronize(self) -> None:
        assert self.gate.wait(30)


def _pretend_cpu_tensors_live_on_a_device(monkeypatch: pytest.MonkeyPatch) -> None:
    """CPU tensors take the device path: is_device_tensor says so, and add_histogram's
    in-place read (plain CPU tensors only) stands aside."""
    monkeypatch.setattr(_device_log, "is_device_tensor", lambda v: isinstance(v, torch.Tensor))
    monkeypatch.setattr(_writer_module, "host_tensor_span", lambda v: None)


def _route_cpu_tensors_as_device(monkeypatch: pytest.MonkeyPatch, events: list[Any]) -> None:
    """Sends CPU tensors through the device path, each result behind a gated fake event."""

    def fake_pinned(torch_mod: Any, result: Any) -> tuple[Any, Any]:
        ev = _GateEvent()
        events.append(ev)
        return result, ev

    _pretend_cpu_tensors_live_on_a_device(monkeypatch)
    monkeypatch.setattr(_device_log, "to_pinned_host", fake_pinned)


def test_tag_order_kept_when_device_result_completes_late(
    logdir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[Any] = []
    _route_cpu_tensors_as_device(monkeypatch, events)
    w = SummaryWriter(logdir)
    x = torch.arange(1.0, 5.0)
    w.add_histogram("h", x, 1)  # device path: held back by its gate
    w.add_scalar("s", torch.tensor(2.5), 1)  # device scalar, also held back
    monkeypatch.setattr(_device_log, "is_device_tensor", lambda v: False)
    w.add_histogram("h", x.numpy() * 2, 2)  # host values, same tag: must wait behind step 1
    w.add_scalar("s", 3.5, 2)
    w.add_scalar("other", 1.0, 0)  # no pending result: written at once
    for ev in events:
        ev.gate.set()
    w.flush()
    acc = load_run(logdir)
    assert [e.step for e in acc.Histograms("h")] == [1, 2]
    assert [e.histogram_value.max for e in acc.Histograms("h")] == [4.0, 8.0]
    assert [(e.step, e.value) for e in acc.Scalars("s")] == [(1, 2.5), (2, 3.5)]
    w.close()


def test_device_histogram_policy_nonfinite(logdir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[Any] = []
    _route_cpu_tensors_as_device(monkeypatch, events)
    w = SummaryWriter(logdir, nonfinite_scalars=True)
    w.add_histogram("h", torch.tensor([1.0, float("nan"), float("inf"), -2.0]), 0)
    w.add_histogram("empty", torch.tensor([float("nan")]), 0)
    for ev in events:
        ev.gate.set()
    with pytest.warns(RuntimeWarning, match="left out"):
        w.flush()
    acc = load_run(logdir)
    h = acc.Histograms("h")[0].histogram_value
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (-2.0, 1.0, 2, -1.0, 5.0)
    assert "empty" not in acc.Tags()["histograms"]
    assert acc.Scalars("h/nonfinite")[0].value == 2
    assert acc.Scalars("empty/nonfinite")[0].value == 1
    st = w.stats()
    assert st["nonfinite_values"] == 3 and st["histograms_skipped"] == 1
    w.close()


@pytest.mark.parametrize("on_device", [False, True], ids=["host", "device-path"])
def test_add_histograms_tags_values_and_stats(
    logdir: str, monkeypatch: pytest.MonkeyPatch, on_device: bool
) -> None:
    if on_device:
        _pretend_cpu_tensors_live_on_a_device(monkeypatch)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.Linear(4, 2))
    prev = {n: p.detach().clone() for n, p in model.named_parameters()}
    model(torch.randn(3, 8)).sum().backward()
    with torch.no_grad():
        model[0].weight.add_(0.01)
    stats = ("norm", "mean", "std", "min", "max", "zero_fraction", "nonfinite", "update_ratio")
    w = SummaryWriter(logdir)
    w.add_histograms(model.named_parameters(), 5, grads=True, stats=stats, prev=prev)
    w.close()
    acc = load_run(logdir)
    for name, p in model.named_parameters():
        for tag, t in ((f"parameters/{name}", p), (f"gradients/{name}", p.grad)):
            (ev,) = acc.Histograms(tag)
            want = make_histogram(t.detach().double().numpy(), EDGES)
            hv = ev.histogram_value
            assert ev.step == 5
            assert list(hv.bucket_limit) == list(want.bucket_limit)
            assert list(hv.bucket) == list(want.bucket)
            assert hv.sum == pytest.approx(want.sum, rel=1e-9, abs=1e-12)
            v = t.detach().double()
            expect = {"norm": v.norm(), "mean": v.mean(), "std": v.std(), "min": v.min(),
                      "max": v.max(), "zero_fraction": (v == 0).double().mean(), "nonfinite": 0}
            if tag.startswith("parameters/"):
                expect["update_ratio"] = (v - prev[name].double()).norm() / v.norm()
            else:
                assert f"{tag}/update_ratio" not in acc.Tags()["scalars"]
            for s, val in expect.items():
                (sv,) = acc.Scalars(f"{tag}/{s}")
                assert sv.value == pytest.approx(float(val), rel=1e-5, abs=1e-7), (tag, s)


def test_add_histograms_rejects_unknown_stat(logdir: str) -> None:
    with SummaryWriter(logdir) as w:
        with pytest.raises(ValueError, match="unknown stat"):
            w.add_histograms([("a", torch.ones(2))], 0, stats=("median",))
        with pytest.raises(ValueError, match="needs prev"):
            w.add_histograms([("a", torch.ones(2))], 0, stats=("update_ratio",))


def test_add_histograms_skips_empty_tensors_and_missing_grads(logdir: str) -> None:
    # ZeRO-3 leaves each rank's parameters as empty placeholders: add_histograms logs the
    # others (add_histogram raises for an empty tensor, as torch's does), and a parameter
    # without a gradient gets no gradients/ histogram.
    full = torch.nn.Parameter(torch.arange(4.0))
    full.grad = torch.ones(4)
    empty = torch.nn.Parameter(torch.zeros(0))
    empty.grad = torch.zeros(0)
    no_grad = torch.nn.Parameter(torch.ones(2))
    with SummaryWriter(logdir) as w:
        w.add_histograms([("full", full), ("empty", empty), ("no_grad", no_grad)], 1, grads=True)
    acc = load_run(logdir)
    assert sorted(acc.Tags()["histograms"]) == [
        "gradients/full", "parameters/full", "parameters/no_grad"
    ]
    assert acc.Histograms("parameters/full")[0].histogram_value.num == 4


def test_gpu_check_script_skips_cleanly_without_cuda() -> None:
    if torch.cuda.is_available():
        pytest.skip("a GPU is present: the script does the full run there")
    r = subprocess.run(
        [sys.executable, os.path.join(ROOT, "benchmarks", "gpu_check.py"), "--max-elements", "1e5"],
        capture_output=True, text=True, check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no CUDA device" in r.stdout
    assert "PASS" in r.stdout


def _two_table_slots(bits: np.ndarray) -> np.ndarray:
    """The native two-table slot of float32 bit patterns (checked against np.histogram above)."""
    slots16, thr = _core.default_slot_table()
    s = slots16.astype(np.int64)[(bits >> 15).astype(np.int64)]
    with np.errstate(invalid="ignore"):
        return s + (bits.view(np.float32) >= thr[s])


def _packed_slots(bits: np.ndarray) -> np.ndarray:
    """The device kernels' one-gather slot (xfast.device.triton_kernel._slot), in numpy."""
    b = bits.view(np.int32).astype(np.int64)
    e = packed_slot_table().astype(np.int64)[(b >> 19) & 0x1FFF]
    key = (b & 0x7FFFF) ^ ((b >> 31) & 0x7FFFF)
    return (e & 0x7FF) + (key >= (e >> 11))


def test_packed_slot_table_matches_the_two_table_method() -> None:
    table = packed_slot_table().astype(np.int64)
    r = np.arange(8192, dtype=np.int64)
    flip = np.where(r >> 12 == 1, 0x7FFFF, 0)
    cut = table >> 11
    keys = [np.zeros_like(r), np.clip(cut - 1, 0, 0x7FFFF), np.clip(cut, 0, 0x7FFFF),
            np.full_like(r, 0x7FFFF)]
    rng = np.random.default_rng(5)
    patterns = [((r << 19) | (k ^ flip)).astype(np.uint32) for k in keys]
    patterns.append(rng.integers(0, 2**32, 2_000_000, dtype=np.uint64).astype(np.uint32))
    patterns.append(np.arange(65536, dtype=np.uint32) << 16)  # every bfloat16
    patterns.append(np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32)
                    .view(np.uint32))  # every float16
    for bits in patterns:
        finite = np.isfinite(bits.view(np.float32))
        assert np.array_equal(_packed_slots(bits)[finite], _two_table_slots(bits)[finite])
    special = np.array([0x7F800000, 0x7FC00000, 0xFFC00000, 0x7F800001, 0xFF800000], np.uint32)
    assert _packed_slots(special).tolist() == [1552, 1553, 1553, 1553, 1554]
    assert not ((_packed_slots(special) >= 1) & (_packed_slots(special) <= NBINS)).any()


_TRITON_CHILD = """
import sys, numpy as np, torch
import triton.runtime.interpreter as ti
_orig = ti._patch_lang_tensor


def _patched(tensor, scope):
    # Triton 3.6's interpreter calls int() on 1-element arrays, which NumPy >= 2.4 rejects.
    _orig(tensor, scope)
    scope.set_attr(tensor, "__index__", lambda self: int(self.handle.data.reshape(-1)[0]))


ti._patch_lang_tensor = _patched
from xfast.device.common import device_table
from xfast.device.histogram import histogram_device
from xfast.device.triton_kernel import histogram_triton
from xfast.encoding.histogram_rows import NBINS
x = torch.from_numpy(np.load(sys.argv[1]))
table = device_table(torch, x.device)


def same(ts, prev):
    a = histogram_triton(torch, ts, prev, table, NBINS, 3, rows=1).numpy()
    b = histogram_device(ts, prev).numpy()
    assert (a[:, :NBINS] == b[:, :NBINS]).all(), [t.dtype for t in ts]
    np.testing.assert_allclose(a[:, NBINS:], b[:, NBINS:], rtol=1e-9, atol=1e-6)


for dt in (torch.float32, torch.bfloat16, torch.float16):
    y = x.to(dt)
    same([y, y[:1000]], [torch.zeros_like(y), None])
# One batch: separate allocations, two dtypes (two launches), views at odd offsets.
other = (x[:3001] * 2).clone()
same([x, x[7:5007].bfloat16(), other, x[3:2000]], [None, None, other * 0.5, None])
# Values over ~45 orders of magnitude overflow the per-block windows: the atomic path.
rng = np.random.default_rng(1)
wide = rng.standard_normal(6000) * np.exp(rng.uniform(-60, 45, 6000))
same([torch.from_numpy(wide.astype(np.float32))], None)
# Nothing to place the windows on: all zeros, all NaN, zeros then values, one sign only.
y = x.clone()
y[:9000] = 0.0
same([torch.zeros(3000), torch.full((2000,), float("nan")), y, x.abs(), -x.abs()], None)
print("ok")
"""


def test_fused_kernels_take_only_same_device_contiguous_float_pairs() -> None:
    t = torch.zeros(8)
    assert common.kernel_supports(t) and common.kernel_supports(t.bfloat16(), t.bfloat16())
    assert not common.kernel_supports(t.double())
    assert not common.kernel_supports(torch.zeros(4, 4).t())  # not contiguous
    assert not common.kernel_supports(t, t.half())  # another dtype
    assert not common.kernel_supports(t, torch.zeros(9))  # another size
    # The kernels read prev through its raw pointer: it must live where t lives.
    assert not common.kernel_supports(t, torch.zeros(8, device="meta"))
    # So must every tensor of the batch (the torch ops then reject it).
    cpu = torch.device("cpu")
    assert histogram._fused_kernels_take(cpu, [t, t], None)
    assert not histogram._fused_kernels_take(cpu, [t, torch.zeros(8, device="meta")], None)
    assert not histogram._fused_kernels_take(cpu, [t, torch.zeros(8, device="meta")], [t, None])
    with pytest.raises(ValueError, match="one device"):
        histogram.histogram_device([t, torch.zeros(8, device="meta")])


def test_previous_values_must_match_the_tensors_one_for_one() -> None:
    t = torch.zeros(8)
    with pytest.raises(ValueError, match="1 previous values for 2 tensors"):
        histogram.histogram_device([t, t], [t])


def test_triton_kernel_matches_torch_ops_in_interpreter(tmp_path: Any) -> None:
    pytest.importorskip("triton")
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(20_000) * 3).astype(np.float32)
    x[:5] = [np.nan, np.inf, -np.inf, 0.0, -0.0]
    src = str(tmp_path / "x.npy")
    np.save(src, x)
    env = dict(os.environ, TRITON_INTERPRET="1", XFAST_DEVICE_HISTOGRAM="torch")
    r = subprocess.run([sys.executable, "-c", _TRITON_CHILD, src], capture_output=True,
                       text=True, env=env, check=False)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


def test_queued_error_is_raised_by_flush_and_close_stops_the_thread(
    logdir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    class _FailingEvent:
        def synchronize(self) -> None:
            raise RuntimeError("device failure")

    _pretend_cpu_tensors_live_on_a_device(monkeypatch)
    monkeypatch.setattr(_device_log, "to_pinned_host", lambda torch_mod, r: (r, _FailingEvent()))
    w = SummaryWriter(logdir)
    w.add_histogram("h", torch.ones(3), 0)
    with pytest.raises(RuntimeError, match="device failure"):
        w.flush()
    w.add_scalar("s", torch.tensor(1.0), 0)
    with pytest.raises(RuntimeError, match="device failure"):
        w.close()
    assert w.file_writer is None  # the files were closed despite the error
    assert not [t for t in threading.enumerate() if t.name == "xfast-completion"]


def test_row_buffers_of_the_wrong_shape_or_type_raise(tmp_path: Any) -> None:
    buffers = [(np.ones(10, np.float32), 0), (np.ones(3, np.float32), 0)]
    with pytest.raises(ValueError, match="wrong shape"):
        _core.histogram_rows(buffers, np.zeros((1, WIDTH)))  # one row for two buffers
    with pytest.raises(ValueError, match="wrong shape"):
        _core.histogram_rows(buffers, np.zeros((2, NBINS)))  # no room for the moments
    with pytest.raises(TypeError, match="float64"):
        _core.histogram_rows(buffers, np.zeros((2, WIDTH), np.float32))
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.histogram_rows(buffers, np.zeros((WIDTH, 2)).T)
    w = SummaryWriter(str(tmp_path))
    fw = w._get_file_writer()
    with pytest.raises(ValueError, match="wrong shape"):
        fw._engine.add_histogram_rows([fw._tag_id("a")], np.zeros((2, WIDTH)), EDGES, 0, None)
    w.close()


def _histogram_events(run_dir: str) -> list[tuple[str, int, Any]]:
    """(tag, step, HistogramProto) of every histogram event of a run's file, in file order."""
    (path,) = event_files(run_dir)
    values = [(e.step, v) for e in read_events(path) for v in e.summary.value]
    return [(v.tag, step, v.histo) for step, v in values if v.HasField("histo")]


@pytest.mark.parametrize("max_bins", [None, 30])
def test_add_histograms_plain_batch_equals_one_call_per_tensor(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, max_bins: Any
) -> None:
    # The common call (plain contiguous CPU tensors, no stats) takes one native batch: small
    # tensors counted on the caller's thread, those of 2^14 elements or more in one pool
    # dispatch. Its events are the per-tensor add_histogram's, in the same order, NaN/inf
    # reported the same way, whatever the mix of sizes and dtypes.
    gen = torch.Generator().manual_seed(0)
    tensors = {
        "bias": torch.randn(256, generator=gen) * 0.02,
        "big": torch.randn(300_000, generator=gen),
        # Split into chunks shared by the workers on both paths: sums equal bit for bit all the
        # same (a tensor's chunks, and the order their moments merge in, depend on its size).
        "mid": torch.randn(3 << 16, generator=gen),
        "norm": torch.ones(512),
        "edge": torch.randn(1 << 14, generator=gen),  # just at the batch-rows threshold
        "below": torch.randn((1 << 14) - 1, generator=gen),
        "half": (torch.randn(1000, generator=gen) * 100).to(torch.bfloat16),
        "ints": torch.randint(-5, 5, (77_777,), generator=gen, dtype=torch.int32),
        "f64": torch.randn(100, generator=gen, dtype=torch.float64),
        "nan_small": torch.tensor([1.0, float("nan"), float("inf"), -2.0]),
        "nan_big": torch.cat([torch.randn(70_000, generator=gen), torch.tensor([float("-inf")])]),
        "all_nan": torch.full((10,), float("nan")),
    }
    params = {k: torch.nn.Parameter(v) if v.is_floating_point() else v for k, v in tensors.items()}
    for k in ("bias", "big"):
        params[k].grad = torch.randn(params[k].shape, generator=gen) * 1e-4
    batch_dir, loop_dir = str(tmp_path / "batch"), str(tmp_path / "loop")
    with monkeypatch.context() as m, pytest.warns(RuntimeWarning) as batch_warnings:
        m.setattr(_histograms_module, "host_rows", None)  # the packed-rows path is not taken
        w = SummaryWriter(batch_dir)
        w.add_histograms(params, 3, grads=True, max_bins=max_bins)
        w.close()
    with pytest.warns(RuntimeWarning) as loop_warnings:
        w = SummaryWriter(loop_dir)
        for name, p in params.items():
            w.add_histogram(f"parameters/{name}", p, 3, max_bins=max_bins)
            if getattr(p, "grad", None) is not None:
                w.add_histogram(f"gradients/{name}", p.grad, 3, max_bins=max_bins)
        w.close()
    ours, theirs = _histogram_events(batch_dir), _histogram_events(loop_dir)
    assert [(t, s) for t, s, _ in ours] == [(t, s) for t, s, _ in theirs]
    assert [h for _, _, h in ours] == [h for _, _, h in theirs]
    assert "parameters/all_nan" not in [t for t, _, _ in ours]  # nothing countable: skipped
    assert sorted(str(m.message) for m in batch_warnings) == sorted(
        str(m.message) for m in loop_warnings
    )
