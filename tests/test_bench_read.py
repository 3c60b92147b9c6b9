# SPDX-License-Identifier: Apache-2.0
"""The read stage of python -m xfast.bench on a small logdir: every reader returns every event,
the Rust data server's load cycle is parsed, the peak-memory probe runs (no timing asserted)."""

from __future__ import annotations

from typing import Any

import pytest

from xfast.bench import read
from xfast.bench.report import Section

pytestmark = [
    pytest.mark.filterwarnings("ignore:The inplace keyword:Warning"),
    pytest.mark.filterwarnings("ignore:Converting a Series or array of length 1:Warning"),
]


def test_read_stage_rows_and_checks(tmp_path: Any) -> None:
    scalars, hists = str(tmp_path / "s"), str(tmp_path / "h")
    read._write_scalars(scalars, 2, 3, 50)
    read._write_histograms(hists, 20)
    sec = Section("read")
    read._readers(scalars, "scalars", 2 * 3 * 50, 1, sec)
    read._readers(hists, "histograms", 20, 1, sec)
    assert all(sec.correct.values()) and sec.correct["xfast"], sec.problems
    assert len(sec.rows) == 12
    assert all(r.values["xfast"] > 0 for r in sec.rows)
    assert [r.met is not None for r in sec.rows[:2]] == [True, True]
    peak, returned = read._peak_child(scalars)
    assert returned == 2 * 3 * 50 * 24 and peak >= 0
    assert read._rust_load_cycle(scalars, checksum=True) > 0
