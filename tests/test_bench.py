# SPDX-License-Identifier: Apache-2.0
"""Smoke tests of the benchmark: python -m xfast.bench --quick completes and xfast's output reads
back correctly in every scenario (no timing is asserted: speed is the report's business); the
figure (--plot), the progress line on a terminal, and silence with --json to a pipe."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from typing import Any

import pytest
from PIL import Image

from xfast.bench import progress

ENV = dict(os.environ, PYTHONWARNINGS="ignore")


def test_quick_benchmark_runs_and_xfast_is_correct(tmp_path: Any) -> None:
    out = tmp_path / "bench.json"
    plot = tmp_path / "bench.png"
    proc = subprocess.run(
        [sys.executable, "-m", "xfast.bench", "--quick", "--json", str(out), "--plot", str(plot)],
        capture_output=True, text=True, timeout=300, env=ENV, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""  # no progress line: stderr is a pipe here
    data = json.loads(out.read_text())
    titles = [s["title"] for s in data["sections"]]
    assert [t.split()[0] for t in titles] == [
        "add_scalar", "add_histogram", "histograms", "caller", "training", "HF"
    ]
    for section in data["sections"]:
        assert section["correct"]["xfast"] is True, section["problems"]
        for row in section["rows"]:
            assert row["median"]["xfast"] > 0 or row["unit"] == "%", row
    assert "correct" in proc.stdout and data["environment"]["cpu"] in proc.stdout
    train = next(s for s in data["sections"] if s["title"].startswith("training"))
    metrics = [r["metric"] for r in train["rows"]]
    for method in ("add_histogram loop", "add_histograms"):
        assert f"overhead, {method}" in metrics and f"overhead + writer CPU, {method}" in metrics
    for row in train["rows"]:
        if row["metric"].startswith("overhead, "):
            for lib in ("xfast", "torch", "tensorboardX"):  # every library on both rows
                lo, hi = row["spread"][lib]
                assert lo <= row["median"][lib] <= hi, row
    with Image.open(plot) as img:
        assert img.format == "PNG" and img.width > 600 and img.height > 200


def test_json_to_a_pipe_prints_only_json(tmp_path: Any) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "xfast.bench", "--quick", "--only", "methods", "--libs", "xfast",
         "--json", "-"],
        capture_output=True, text=True, timeout=120, env=ENV, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    data = json.loads(proc.stdout)  # nothing but the JSON on stdout
    (section,) = data["sections"]
    assert section["correct"] == {"xfast": True}
    image = next(r for r in section["rows"] if r["metric"].startswith("add_image "))
    assert image["target"] == "<= 0.5 ms" and image["met"] in (True, False)


def test_progress_shows_on_a_terminal(tmp_path: Any) -> None:
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "xfast.bench", "--quick", "--only", "methods", "--libs",
             "xfast", "--json", str(tmp_path / "b.json")],
            stdout=subprocess.DEVNULL, stderr=follower, timeout=120, env=ENV, check=False,
        )
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    assert proc.returncode == 0
    shown = b"".join(chunks).decode()
    assert "[1/1] methods: 0/9 starting" in shown
    assert "methods: 7/9 add_pr_curve 1e3, xfast" in shown
    assert "s left in methods" in shown and shown.endswith("\r\x1b[2K")


def test_progress_is_off_when_not_a_terminal(tmp_path: Any) -> None:
    with open(tmp_path / "err", "w") as f:
        assert progress.start(["x"], f) is None
        progress.stage("x", 3)
        progress.step("y")
        progress.stop()
    assert (tmp_path / "err").read_text() == ""


def test_plot_without_matplotlib_fails_before_running(tmp_path: Any) -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None  # import matplotlib now fails\n"
        "from xfast.bench.__main__ import main\n"
        f"main(['--plot', {str(tmp_path / 'p.png')!r}])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=ENV, check=False)
    assert proc.returncode == 2
    assert 'pip install "xfast[bench]"' in proc.stderr
    assert not (tmp_path / "p.png").exists()


@pytest.mark.parametrize("noisy", [False, True])
def test_a_noisy_reference_row_is_flagged(noisy: bool) -> None:
    from xfast.bench.report import Row, Section, is_noisy, render

    row = Row("1e6 torch.sum (bandwidth reference)", "s", speedups=False)
    samples = [1e-3, 1.01e-3, 0.99e-3, 4e-3, 5e-3] if noisy else [1e-3, 1.01e-3, 0.99e-3]
    from xfast.bench.timing import median, spread

    row.values["xfast"], row.spread["xfast"] = median(samples), spread(samples)
    assert is_noisy(row, "xfast") is noisy
    if is_noisy(row, "xfast"):
        row.noisy.add("xfast")
    text = render([], [Section("s", rows=[row])], ["xfast"])
    assert ("?" in text.splitlines()[3]) is noisy
