# SPDX-License-Identifier: Apache-2.0
"""The engine's raw add_scalar entry point: argument handling and errors at the call site."""

from __future__ import annotations

import os

import numpy as np
import pytest
from conftest import load_run

import xfast
from xfast import _core


def _engine(logdir: str) -> _core.EventWriter:
    os.makedirs(logdir, exist_ok=True)
    return _core.EventWriter(os.path.join(logdir, "events.out.tfevents.0.test"), 1.0)


def test_values_steps_and_styles_round_trip(logdir: str) -> None:
    e = _engine(logdir)
    tid = e.intern("a")
    e.add_scalar(tid, 0.25, 1, 5.0)
    e.add_scalar(tid, 3, 2, None, 0)
    e.add_scalar(tid, np.float32(1.5), 3, 7.0, 0)
    e.add_scalar(tid, True, 2**40, 8.0)
    e.close()
    got = [(s.step, s.value) for s in load_run(logdir).Scalars("a")]
    assert got == [(1, 0.25), (2, 3.0), (3, 1.5), (2**40, 1.0)]


@pytest.mark.parametrize(
    ("args", "exc"),
    [
        ((0, 1.0, 1), TypeError),  # too few
        ((0, 1.0, 1, None, 0, 0), TypeError),  # too many
        ((99, 1.0, 1, None), ValueError),  # unknown tag
        ((-1, 1.0, 1, None), OverflowError),
        ((0, "x", 1, None), TypeError),
        ((0, 1.0, 1.5, None), TypeError),  # float step
        ((0, 1.0, 2**70, None), ValueError),  # step beyond int64
        ((0, 1.0, 1, "now"), TypeError),
        ((0, 1.0, 1, None, 3), ValueError),  # bad style
    ],
)
def test_bad_arguments_raise_and_queue_nothing(logdir: str, args: tuple, exc: type) -> None:
    e = _engine(logdir)
    e.intern("a")
    with pytest.raises(exc):
        e.add_scalar(*args)
    e.close()
    assert e.stats()["events_written"] == 1  # only the file_version record


def test_closed_writer_raises_oserror(logdir: str) -> None:
    e = _engine(logdir)
    tid = e.intern("a")
    e.close()
    with pytest.raises(OSError, match="closed"):
        e.add_scalar(tid, 1.0, 0, None)


def test_out_of_range_numbers_raise_value_error(tmp_path) -> None:
    """Found by tests/test_fuzz.py: an int step beyond int64 or an int value too large for a
    double took the hot path straight into the binding and escaped as OverflowError."""
    w = xfast.SummaryWriter(str(tmp_path))
    for value, step in [(1.0, 2**64), (1.0, -(2**63) - 1), (10**400, 1)]:
        with pytest.raises(ValueError, match="out of range"):
            w.add_scalar("a", value, step)
    w.add_scalar("a", 2.0, 3)
    w.close()
