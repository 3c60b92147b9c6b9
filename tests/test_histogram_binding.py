# SPDX-License-Identifier: Apache-2.0
"""The engine's raw add_histogram_at entry point (the per-tensor add_histogram loop's call):
argument handling and errors at the call site."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from conftest import load_run

from xfast import _core

FLOAT32 = 0  # csrc/histogram.h DType


def _engine(logdir: str) -> _core.EventWriter:
    os.makedirs(logdir, exist_ok=True)
    return _core.EventWriter(os.path.join(logdir, "events.out.tfevents.0.test"), 1.0)


def test_equals_the_buffer_entry_point(logdir: str) -> None:
    """The same values through add_histogram_at and add_histogram (numpy buffer) read back
    equal, bucket for bucket; max_bins and wall_time are passed through."""
    t = torch.randn(3000, generator=torch.Generator().manual_seed(1))
    e = _engine(logdir)
    at, buf = e.intern("at"), e.intern("buf")
    assert e.add_histogram_at(at, t.data_ptr(), t.numel(), FLOAT32, 4, 9.0) is None
    e.add_histogram(buf, t.numpy(), FLOAT32, 4, 9.0)
    assert e.add_histogram_at(at, t.data_ptr(), t.numel(), FLOAT32, 5, None, 7) is None
    e.add_histogram(buf, t.numpy(), FLOAT32, 5, None, 7)
    e.close()
    run = load_run(logdir)
    got, want = run.Histograms("at"), run.Histograms("buf")
    assert [h.step for h in got] == [4, 5]
    assert got[0].wall_time == 9.0
    for g, w in zip(got, want):
        assert g.histogram_value == w.histogram_value
    assert len(got[1].histogram_value.bucket) <= 7


def test_nonfinite_values_are_reported(logdir: str) -> None:
    a = np.array([1.0, np.nan, np.inf, -np.inf, np.inf], dtype=np.float32)
    e = _engine(logdir)
    tid = e.intern("a")
    assert e.add_histogram_at(tid, a.ctypes.data, a.size, FLOAT32, 0, None) == (1, 2, 1, True)
    e.close()


@pytest.mark.parametrize(
    ("args", "exc"),
    [
        ((0, 1, 1, 0, 0), TypeError),  # too few
        ((0, 1, 1, 0, 0, None, None, 0), TypeError),  # too many
        ((99, None, 4, 0, 0, None), ValueError),  # unknown tag
        ((0, 0, 4, 0, 0, None), ValueError),  # null address
        ((0, None, 0, 0, 0, None), ValueError),  # no elements
        ((0, None, 4, 13, 0, None), ValueError),  # unknown dtype code
        ((0, None, 4, 2**40, 0, None), ValueError),
        ((0, None, 4, -(2**32), 0, None), ValueError),  # would wrap to code 0 as an int
        ((0, None, 4, 0, 2**70, None), ValueError),  # step beyond int64
        ((0, None, 4, 0, 1.5, None), TypeError),  # float step
        ((0, None, 4.0, 0, 0, None), TypeError),
        ((0, None, 4, 0, 0, "now"), TypeError),
        ((0, None, 4, 0, 0, None, 2**70), ValueError),  # max_bins beyond int64
        ((-1, None, 4, 0, 0, None), OverflowError),
    ],
)
def test_bad_arguments_raise_and_queue_nothing(logdir: str, args: tuple, exc: type) -> None:
    a = np.ones(4, dtype=np.float32)
    e = _engine(logdir)
    e.intern("a")
    args = tuple(a.ctypes.data if x is None and i == 1 else x for i, x in enumerate(args))
    with pytest.raises(exc):
        e.add_histogram_at(*args)
    e.close()
    assert e.stats()["events_written"] == 1  # only the file_version record


def test_keywords_are_refused(logdir: str) -> None:
    a = np.ones(4, dtype=np.float32)
    e = _engine(logdir)
    tid = e.intern("a")
    with pytest.raises(TypeError):
        e.add_histogram_at(tid, a.ctypes.data, 4, FLOAT32, 0, None, max_bins=3)  # type: ignore[call-arg]
    e.close()


def test_closed_writer_raises_oserror(logdir: str) -> None:
    a = np.ones(4, dtype=np.float32)
    e = _engine(logdir)
    tid = e.intern("a")
    e.close()
    with pytest.raises(OSError, match="closed"):
        e.add_histogram_at(tid, a.ctypes.data, 4, FLOAT32, 0, None)
