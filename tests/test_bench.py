# SPDX-License-Identifier: Apache-2.0
"""Smoke test of the benchmark: python -m xfast.bench --quick completes and xfast's output reads
back correctly in every scenario (no timing is asserted: speed is the report's business)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


def test_quick_benchmark_runs_and_xfast_is_correct(tmp_path: Any) -> None:
    out = tmp_path / "bench.json"
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    proc = subprocess.run(
        [sys.executable, "-m", "xfast.bench", "--quick", "--json", str(out)],
        capture_output=True, text=True, timeout=240, env=env, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(out.read_text())
    titles = [s["title"] for s in data["sections"]]
    assert [t.split()[0] for t in titles] == ["add_scalar", "add_histogram", "histograms",
                                              "training"]
    for section in data["sections"]:
        assert section["correct"]["xfast"] is True, section["problems"]
        for row in section["rows"]:
            assert row["median"]["xfast"] > 0 or row["unit"] == "%", row
    assert "correct" in proc.stdout and data["environment"]["cpu"] in proc.stdout
