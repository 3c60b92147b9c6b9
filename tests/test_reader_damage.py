# SPDX-License-Identifier: Apache-2.0
"""Damaged event files (cut anywhere, bytes flipped anywhere): the reader never raises, returns
every record the damage did not touch, and counts what it skipped."""

from __future__ import annotations

import os
import struct
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xfast
from xfast.reader import SummaryReader

N = 40  # scalars in the sample file, one record each after the file_version record


@pytest.fixture(scope="module")
def sample(tmp_path_factory: Any) -> tuple[bytes, list[int]]:
    """An xfast event file of N scalars (step i, value i/2) plus one histogram, and the offset of
    each record."""
    tmp = str(tmp_path_factory.mktemp("sample"))
    w = xfast.SummaryWriter(tmp)
    for i in range(N):
        w.add_scalar("x", i / 2, i)
    w.add_histogram("h", np.arange(10.0), N)
    w.close()
    (name,) = [f for f in os.listdir(tmp) if "tfevents" in f]
    with open(os.path.join(tmp, name), "rb") as f:
        data = f.read()
    starts, pos = [], 0
    while pos < len(data):
        starts.append(pos)
        (length,) = struct.unpack_from("<Q", data, pos)
        pos += 12 + length + 4
    return data, starts


def _read(tmp_path: Any, data: bytes) -> SummaryReader:
    path = tmp_path / "damaged" / "events.out.tfevents.1.damaged"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return SummaryReader(str(path.parent))


_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(cut=st.integers(min_value=0, max_value=10**6))
def test_a_cut_file_reads_up_to_the_cut(
    tmp_path: Any, sample: tuple[bytes, list[int]], cut: int
) -> None:
    data, starts = sample
    cut %= len(data) + 1
    reader = _read(tmp_path, data[:cut])
    bounds = [*starts, len(data)]  # record i spans bounds[i]..bounds[i + 1]
    whole = [i for i in range(len(starts)) if bounds[i + 1] <= cut]
    scalars = [i - 1 for i in whole if 1 <= i <= N]  # record 0 is file_version
    steps = reader.scalar_arrays_by_run().get("", {}).get("x")
    got = steps.step.tolist() if steps is not None else []
    assert got == scalars
    f = reader.files[0]
    assert f.corrupt == 0
    assert f.truncated_bytes == cut - bounds[len(whole)]
    assert f.end_offset == bounds[len(whole)]


@_SETTINGS
@given(where=st.integers(min_value=0, max_value=10**6), bit=st.integers(0, 7))
def test_a_flipped_bit_costs_its_record_only(
    tmp_path: Any, sample: tuple[bytes, list[int]], where: int, bit: int
) -> None:
    data, starts = sample
    where %= len(data)
    bad = bytearray(data)
    bad[where] ^= 1 << bit
    reader = _read(tmp_path, bytes(bad))
    hit = max(i for i, s in enumerate(starts) if s <= where)
    expected = [i - 1 for i in range(1, N + 1) if i != hit]
    arrays = reader.scalar_arrays("x")
    assert arrays.step.tolist() == expected
    np.testing.assert_array_equal(arrays.value, np.array(expected) / 2)
    f = reader.files[0]
    assert f.corrupt == 1
    assert f.records == len(starts) - 1
    assert reader.damage[f.path]["corrupt"] == 1
    hist_hit = hit == len(starts) - 1
    assert len(reader.histogram_arrays_by_run().get("", {})) == (0 if hist_hit else 1)


@_SETTINGS
@given(junk=st.binary(min_size=0, max_size=300))
def test_garbage_never_raises(tmp_path: Any, sample: tuple[bytes, list[int]], junk: bytes) -> None:
    data, starts = sample
    reader = _read(tmp_path, junk + data)
    assert len(reader.scalar_arrays("x")) == N  # resynchronized after the garbage
    f = reader.files[0]
    assert f.records == len(starts)
    assert f.skipped_bytes == len(junk)
    assert f.corrupt == (1 if junk else 0)
