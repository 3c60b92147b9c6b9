# SPDX-License-Identifier: Apache-2.0
"""The native histogram kernel against torch's make_histogram and np.histogram."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
import torch
from conftest import load_run
from torch.utils.tensorboard import summary as tsummary

import xfast
from xfast import _core
from xfast.encoding.convert import histogram_buffer

T = _core.testing
EDGES = _core.default_edges()
EDGE_LIST = EDGES.tolist()
LAST_EDGE = EDGE_LIST[-1]
PARALLEL_THRESHOLD = 1 << 16  # csrc/histogram.cc kParallelThreshold

CODES = {"float32": 0, "float64": 1, "float16": 2, "bfloat16": 3, "int8": 4, "uint8": 5,
         "int16": 6, "uint16": 7, "int32": 8, "uint32": 9, "int64": 10, "uint64": 11, "bool": 12}


def _close(got: float, want: float, scale: float, rel: float = 1e-12) -> bool:
    """got == want within rel * scale (scale: the sum of |terms|, immune to cancellation)."""
    if np.isnan(want):
        return bool(np.isnan(got))
    if np.isinf(want):
        return got == want
    return abs(got - want) <= rel * scale + 1e-300


def _native(arr: np.ndarray, code: int) -> dict[str, Any]:
    """histogram_default's result, after checking the threaded and serial runs agree, sums
    included bit for bit: a tensor's chunks and the order their moments merge in depend on its
    size alone."""
    par = T.histogram_default(arr, code, False)
    ser = T.histogram_default(arr, code, True)
    np.testing.assert_array_equal(par["counts"], ser["counts"])
    for k in ("finite", "nan", "pos_inf", "neg_inf"):
        assert par[k] == ser[k], k
    if par["finite"]:
        assert par["min"] == ser["min"] and par["max"] == ser["max"]
        assert par["sum"] == ser["sum"] and par["sum_squares"] == ser["sum_squares"]
    return par


def _finish(counts: np.ndarray, limits: Any, max_bins: int | None = None) -> Any:
    return T.finish_histogram(np.asarray(counts, dtype=np.float64),
                              np.asarray(limits, dtype=np.float64), max_bins)


@np.errstate(over="ignore")  # 1e300**2 overflows to inf in numpy and torch as in the kernel
def check_against_reference(arr: np.ndarray, code: int, ref: np.ndarray,
                            max_bins: int | None = None) -> dict[str, Any]:
    """The kernel over (arr, code) equals np.histogram + torch's make_histogram over ref (the
    same values in float64); moments cover the finite values only."""
    finite = ref[np.isfinite(ref)]
    res = _native(arr, code)
    assert res["finite"] == finite.size
    assert res["nan"] == int(np.isnan(ref).sum())
    assert res["pos_inf"] == int((ref == np.inf).sum())
    assert res["neg_inf"] == int((ref == -np.inf).sum())
    want_counts = np.histogram(finite, EDGES)[0]
    np.testing.assert_array_equal(res["counts"], want_counts)
    if finite.size:
        assert res["min"] == finite.min() and res["max"] == finite.max()
        assert _close(res["sum"], float(finite.sum()), float(np.abs(finite).sum()))
        sq = float(finite.dot(finite))
        assert _close(res["sum_squares"], sq, sq)
    got = _finish(res["counts"], EDGES, max_bins)
    try:
        h = tsummary.make_histogram(finite, EDGE_LIST, max_bins) if finite.size else None
    except ValueError:  # "The histogram is empty": nothing in range
        h = None
    if h is None:
        assert got is None
    else:
        assert got is not None
        assert got[0] == list(h.bucket_limit)
        assert got[1] == list(h.bucket)
    return res


def check_tensor_against_torch(t: torch.Tensor, max_bins: int | None = None) -> None:
    """A finite tensor through xfast's buffer conversion + kernel equals torch's own
    summary.histogram over the same tensor, field by field."""
    arr, code = histogram_buffer(t)
    h = tsummary.histogram("x", t, EDGE_LIST, max_bins).value[0].histo
    scale = float(t.double().abs().sum())
    res = _native(arr, code)
    limits, bucket = _finish(res["counts"], EDGES, max_bins)
    assert limits == list(h.bucket_limit)
    assert bucket == list(h.bucket)
    assert res["finite"] == h.num
    assert res["min"] == h.min and res["max"] == h.max
    assert _close(res["sum"], h.sum, scale)
    assert _close(res["sum_squares"], h.sum_squares, h.sum_squares)


def test_default_edges_match_torch(tmp_path: Any) -> None:
    tw = torch.utils.tensorboard.SummaryWriter(str(tmp_path / "t"))
    try:
        assert tw.default_bins == EDGE_LIST
    finally:
        tw.close()
    assert len(EDGE_LIST) == 1549
    with xfast.SummaryWriter(str(tmp_path / "x")) as xw:
        assert xw.default_bins == EDGE_LIST


# --- every dtype --------------------------------------------------------------------------------

def _mixed_magnitudes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Signed values from 1e-15 to 1e22: both out-of-range sides, every part of the edge table."""
    return rng.standard_normal(n) * 10.0 ** rng.uniform(-15, 22, n)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.int8,
                                   torch.int16, torch.int32, torch.int64, torch.uint8, torch.bool])
@pytest.mark.parametrize("n", [1, 7, 1000, PARALLEL_THRESHOLD + 3])
def test_dtypes_against_torch(dtype: torch.dtype, n: int) -> None:
    rng = np.random.default_rng(n)
    if dtype.is_floating_point:
        finfo = torch.finfo(dtype)
        vals = np.clip(_mixed_magnitudes(rng, n), finfo.min, finfo.max)
        t = torch.from_numpy(vals).to(dtype)
    elif dtype == torch.bool:
        t = torch.from_numpy(rng.integers(0, 2, n).astype(bool))
    else:
        info = torch.iinfo(dtype)
        t = torch.from_numpy(rng.integers(info.min, info.max, n, endpoint=True)).to(dtype)
    check_tensor_against_torch(t)
    check_tensor_against_torch(t, max_bins=50)


@pytest.mark.parametrize("np_dtype", ["float16", "int8", "uint8", "int16", "uint16", "bool"])
def test_every_bit_pattern_of_small_types(np_dtype: str) -> None:
    # 8- and 16-bit types are counted by bit pattern: check all of them at once, NaN/inf included.
    width = np.dtype(np_dtype).itemsize
    bits = np.arange(2 ** (8 * width), dtype=np.uint64).astype(f"uint{8 * width}")
    arr = np.tile(bits, 3).view(np_dtype) if np_dtype != "bool" else np.array([0, 1, 1], bool)
    check_against_reference(arr, CODES[np_dtype], arr.astype(np.float64))


def _bf16_tensor(values: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(values, dtype=np.float32)).to(torch.bfloat16)


def test_bfloat16_matches_torch_where_float16_holds_it() -> None:
    # torch converts bfloat16 to float16: compare on the values that conversion keeps exactly.
    rng = np.random.default_rng(5)
    t = _bf16_tensor(rng.standard_normal(8000) * 10.0 ** rng.uniform(-9, 6, 8000))
    t = t[t.to(torch.float16).to(torch.bfloat16) == t]
    assert 3000 < t.numel() < 8000
    check_tensor_against_torch(t)


def test_bfloat16_large_values_counted_where_torch_overflows() -> None:
    # Differences from torch: 1e30 in bf16 becomes inf in torch's float16 step and is dropped;
    # xfast counts it in the bin of its float32 value.
    rng = np.random.default_rng(6)
    t = _bf16_tensor(_mixed_magnitudes(rng, 20000))
    arr, code = histogram_buffer(t)
    assert code == CODES["bfloat16"]
    check_against_reference(arr, code, t.float().numpy().astype(np.float64))
    assert np.isinf(t.to(torch.float16).float().numpy()).any()  # torch would lose these


def test_every_bfloat16_bit_pattern() -> None:
    bits = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    arr = bits.view(np.int16)
    as_f32 = (bits.astype(np.uint32) << 16).view(np.float32)
    with np.errstate(invalid="ignore"):  # signalling NaN patterns
        ref = as_f32.astype(np.float64)
    check_against_reference(arr, CODES["bfloat16"], ref)


@pytest.mark.parametrize("np_dtype", ["int32", "uint32", "int64", "uint64"])
def test_wide_ints_against_numpy(np_dtype: str) -> None:
    info = np.iinfo(np_dtype)
    rng = np.random.default_rng(7)
    arr = rng.integers(info.min, info.max, 5000, dtype=np_dtype, endpoint=True)
    arr[:4] = [info.min, info.max, 0, 1]
    check_against_reference(arr, CODES[np_dtype], arr.astype(np.float64))


# --- special values -----------------------------------------------------------------------------

SPECIAL_CASES = {
    "zeros": np.zeros(100),
    "neg_zero": np.array([-0.0, -0.0, 0.0]),
    "constant": np.full(50, 3.75),
    "neg_constant": np.full(10, -2.5e-7),
    "one": np.array([1.0]),
    "minus_one_one": np.array([-1.0, 1.0]),
    "tiny": np.array([1e-13, -1e-13, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-45, -1e-45]),
    "edge_tiny": np.array([1e-12, -1e-12, np.nextafter(1e-12, 0), np.nextafter(-1e-12, 0)]),
    "boundary": np.array([LAST_EDGE, -LAST_EDGE, np.nextafter(LAST_EDGE, np.inf),
                          np.nextafter(-LAST_EDGE, -np.inf), np.nextafter(LAST_EDGE, 0)]),
    "beyond": np.array([9.92e19, -9.92e19, 1e20, -1e20, 1e30, -1e30, 1.7e308, 5.0]),
    "only_beyond": np.array([1e20, -1e30]),
    "float32_extremes": np.array([3.4028234663852886e38, -3.4028234663852886e38,
                                  1.1754943508222875e-38, 1.401298464324817e-45]),
}


@pytest.mark.parametrize("name", sorted(SPECIAL_CASES))
@pytest.mark.parametrize("np_dtype", ["float64", "float32"])
def test_special_values(name: str, np_dtype: str) -> None:
    with np.errstate(over="ignore"):  # float32 turns 1.7e308 into inf
        arr = SPECIAL_CASES[name].astype(np_dtype)
    check_against_reference(arr, CODES[np_dtype], arr.astype(np.float64))


def test_every_edge_and_its_neighbours_float64() -> None:
    up = np.nextafter(EDGES, np.inf)
    down = np.nextafter(EDGES, -np.inf)
    arr = np.concatenate([EDGES, up, down])
    check_against_reference(arr, CODES["float64"], arr)
    for one in (EDGES, up, down):  # again alone, so a miscount cannot hide behind a neighbour
        check_against_reference(one, CODES["float64"], one)


def test_every_edge_and_its_neighbours_float32() -> None:
    nearest = EDGES.astype(np.float32)
    arr = np.concatenate([nearest, np.nextafter(nearest, np.float32(np.inf)),
                          np.nextafter(nearest, np.float32(-np.inf))])
    check_against_reference(arr, CODES["float32"], arr.astype(np.float64))


def test_every_edge_float16() -> None:
    with np.errstate(over="ignore"):  # edges above 65504 become inf
        nearest = EDGES.astype(np.float16)
    arr = np.concatenate([nearest, np.nextafter(nearest, np.float16(np.inf)),
                          np.nextafter(nearest, np.float16(-np.inf))])
    check_against_reference(arr, CODES["float16"], arr.astype(np.float64))


@pytest.mark.parametrize("np_dtype", ["float64", "float32", "float16"])
def test_nonfinite_counted_not_binned(np_dtype: str) -> None:
    arr = np.array([np.nan, np.inf, -np.inf, 1.0, -3.0, np.nan, 0.0], dtype=np_dtype)
    res = check_against_reference(arr, CODES[np_dtype], arr.astype(np.float64))
    assert (res["nan"], res["pos_inf"], res["neg_inf"], res["finite"]) == (2, 1, 1, 3)
    assert (res["min"], res["max"], res["sum"], res["sum_squares"]) == (-3.0, 1.0, -2.0, 10.0)


def test_all_nonfinite_gives_no_histogram() -> None:
    arr = np.array([np.nan, np.inf, -np.inf])
    res = check_against_reference(arr, CODES["float64"], arr)
    assert res["finite"] == 0 and int(np.sum(res["counts"])) == 0


# --- sizes and threads --------------------------------------------------------------------------

@pytest.mark.parametrize("n", [PARALLEL_THRESHOLD - 1, PARALLEL_THRESHOLD, PARALLEL_THRESHOLD + 1,
                               PARALLEL_THRESHOLD + 5, 3 * PARALLEL_THRESHOLD + 7])
@pytest.mark.parametrize("np_dtype", ["float32", "float64", "int32", "float16"])
def test_sizes_around_parallel_threshold(n: int, np_dtype: str) -> None:
    rng = np.random.default_rng(n)
    vals = _mixed_magnitudes(rng, n)
    if np_dtype == "int32":
        vals = np.clip(vals, -2**31, 2**31 - 1)
    elif np_dtype == "float16":
        vals = np.clip(vals, -65504, 65504)
    arr = vals.astype(np_dtype)
    arr[::97] = 0.0
    check_against_reference(arr, CODES[np_dtype], arr.astype(np.float64))


@pytest.mark.parametrize("threads", [1, 3, 7])
def test_thread_counts_agree(threads: int) -> None:
    old = _core.get_num_threads()
    rng = np.random.default_rng(threads)
    arr = _mixed_magnitudes(rng, PARALLEL_THRESHOLD * 2 + 13).astype(np.float32)
    base = T.histogram_default(arr, CODES["float32"], True)
    try:
        _core.set_num_threads(threads)
        assert _core.get_num_threads() == threads
        got = T.histogram_default(arr, CODES["float32"], False)
    finally:
        _core.set_num_threads(old)
    np.testing.assert_array_equal(got["counts"], base["counts"])
    assert (got["min"], got["max"], got["finite"]) == (base["min"], base["max"], base["finite"])
    # Whatever the thread count, the same chunks' moments merge in the same order.
    assert (got["sum"], got["sum_squares"]) == (base["sum"], base["sum_squares"])


def test_non_contiguous_array_rejected() -> None:
    with pytest.raises(ValueError):
        T.histogram_default(np.zeros((4, 4))[:, 0], CODES["float64"], False)


# --- max_bins -----------------------------------------------------------------------------------

def test_max_bins_every_value_against_torch() -> None:
    rng = np.random.default_rng(8)
    vals = np.concatenate([_mixed_magnitudes(rng, 3000), [0.0, 1e-13]])
    counts = T.histogram_default(vals, CODES["float64"], False)["counts"]
    finite = vals[np.isfinite(vals)]
    for max_bins in range(1, 2001):
        h = tsummary.make_histogram(finite, EDGE_LIST, max_bins)
        limits, bucket = _finish(counts, EDGES, max_bins)
        assert limits == list(h.bucket_limit), max_bins
        assert bucket == list(h.bucket), max_bins


def _values_for_counts(counts: list[int], edges: list[float]) -> np.ndarray:
    """Values that np.histogram puts into exactly `counts` over `edges` (bin midpoints)."""
    mids = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    return np.repeat(np.array(mids), counts)


@pytest.mark.parametrize("counts,max_bins,n_out", [
    ([1] * 10, 4, 5),  # compat-spec §3: B=10, max_bins=4 gives 5 bins, more than asked
    ([0, 0, 3, 0, 1, 0, 0, 2, 0, 0], 4, None),
    ([5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 3, None),
    ([0] * 10 + [7], 3, None),
    ([2, 1], 1, None),
    ([1, 2, 3], 5, None),
    ([0, 1, 0], None, None),
])
def test_max_bins_grouping_small(counts: list[int], max_bins: int | None,
                                 n_out: int | None) -> None:
    edges = [float(i) for i in range(len(counts) + 1)]
    h = tsummary.make_histogram(_values_for_counts(counts, edges), edges, max_bins)
    limits, bucket = _finish(np.array(counts), edges, max_bins)
    assert limits == list(h.bucket_limit)
    assert bucket == list(h.bucket)
    if n_out is not None:
        assert len(bucket) - 1 == n_out


def test_default_edges_with_max_bins_100_gives_104_groups() -> None:
    counts = np.ones(1548)
    limits, bucket = _finish(counts, EDGES, 100)
    assert len(bucket) == 105  # 104 grouped bins plus the leading zero bucket
    assert limits[-1] == LAST_EDGE


def test_finish_rejects_mismatched_limits() -> None:
    with pytest.raises(ValueError):
        _finish(np.ones(3), [0.0, 1.0, 2.0])


def test_finish_returns_none_when_empty() -> None:
    assert _finish(np.zeros(5), [0.0, 1, 2, 3, 4, 5]) is None
    assert _finish(np.zeros(5), [0.0, 1, 2, 3, 4, 5], 2) is None


# --- through SummaryWriter: NaN policy and numpy bins -------------------------------------------

def _read_histogram(logdir: str, tag: str) -> Any:
    events = load_run(logdir).Histograms(tag)
    assert len(events) == 1
    return events[0].histogram_value


def test_writer_nan_policy(logdir: str) -> None:
    vals = np.array([np.nan, 1.0, np.inf, -2.0, -np.inf, 3.0])
    with xfast.SummaryWriter(logdir) as w:
        with pytest.warns(RuntimeWarning, match="1 NaN, 1 \\+inf and 1 -inf"):
            w.add_histogram("h", vals, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # warned once per tag
            w.add_histogram("h2", np.array([1.0]), 1)
        stats = w.stats()
    assert stats["nonfinite_values"] == 3 and stats["histograms_skipped"] == 0
    h = _read_histogram(logdir, "h")
    ref = tsummary.make_histogram(np.array([1.0, -2.0, 3.0]), EDGE_LIST)
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (-2.0, 3.0, 3.0, 2.0, 14.0)
    assert list(h.bucket_limit) == list(ref.bucket_limit)
    assert list(h.bucket) == list(ref.bucket)


@pytest.mark.parametrize("vals", [[np.nan, np.nan], [np.inf], [1e20, -1e30]])
def test_writer_skips_when_nothing_countable(logdir: str, vals: list) -> None:
    with xfast.SummaryWriter(logdir) as w:
        with pytest.warns(RuntimeWarning, match="not written"):
            w.add_histogram("h", np.array(vals), 1)
        w.add_histogram("ok", np.array([1.0]), 2)  # the writer keeps working
        stats = w.stats()
    assert stats["histograms_skipped"] == 1
    acc = load_run(logdir)
    assert acc.Tags()["histograms"] == ["ok"]
    with pytest.raises(ValueError):  # torch raises where xfast skips
        tsummary.histogram("h", np.array(vals), EDGE_LIST)


CUSTOM_BINS = ["auto", "fd", "sturges", "sqrt", 1, 10, 64, [-3.0, -1.0, 0.0, 0.5, 2.0, 10.0],
               np.linspace(-5, 5, 41)]


@pytest.mark.parametrize("bins", CUSTOM_BINS, ids=lambda b: str(b)[:16])
@pytest.mark.parametrize("max_bins", [None, 3])
def test_writer_numpy_bins_match_torch(logdir: str, bins: Any, max_bins: int | None) -> None:
    rng = np.random.default_rng(9)
    vals = rng.standard_normal(500) * 2
    t = torch.from_numpy(vals.astype(np.float32))
    with xfast.SummaryWriter(logdir) as w:
        w.add_histogram("h", t, 3, bins=bins, max_bins=max_bins)
    got = _read_histogram(logdir, "h")
    want = tsummary.histogram("h", t, bins, max_bins).value[0].histo
    for field in ("min", "max", "num", "sum", "sum_squares"):
        assert getattr(got, field) == getattr(want, field), field
    assert list(got.bucket_limit) == list(want.bucket_limit)
    assert list(got.bucket) == list(want.bucket)
