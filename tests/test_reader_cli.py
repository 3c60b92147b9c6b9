# SPDX-License-Identifier: Apache-2.0
"""python -m xfast.read (summary, filters, exports) and xfast.reader.follow on a growing run."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from typing import Any

import pandas as pd
import pytest

import xfast
from xfast.reader import SummaryReader, follow
from xfast.reader.cli import main


@pytest.fixture
def logdir(tmp_path: Any) -> str:
    for run in ("train", "eval"):
        w = xfast.SummaryWriter(str(tmp_path / run))
        for step in range(5):
            w.add_scalar("loss", 1.0 + step, step)
            w.add_scalar("acc", step / 10, step)
        w.add_text("note", "hi", 4)
        w.close()
    return str(tmp_path)


def _run(*args: str) -> str:
    out = io.StringIO()
    assert main(list(args), out=out) == 0
    return out.getvalue()


def test_summary_lists_runs_tags_counts_last_values(logdir: str) -> None:
    text = _run(logdir)
    assert "2 runs, 2 event files" in text
    assert "run eval" in text and "run train" in text
    lines = [line.split() for line in text.splitlines() if line.startswith("  loss")]
    assert (
        lines == [["loss", "scalars", "5", "events", "last", "step", "4", "last", "value", "5"]] * 2
    )
    assert "note/text_summary  text" in text


def test_filters(logdir: str) -> None:
    text = _run(logdir, "--tag", "a*", "--run", "train")
    assert "acc" in text and "loss" not in text and "run eval" not in text
    assert "loss" in _run(logdir, "--regex", "^lo", "--type", "scalars")
    assert "note" not in _run(logdir, "--type", "scalars")


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_exports_match_the_frame(logdir: str, tmp_path: Any, suffix: str) -> None:
    out = str(tmp_path / f"out{suffix}")
    assert f"wrote 20 scalars rows to {out}" in _run(logdir, "--to", out)
    frame = SummaryReader(logdir, extra_columns={"wall_time", "dir_name"}).scalars
    if suffix == ".csv":
        back = pd.read_csv(out, keep_default_na=False)
    elif suffix == ".json":
        with open(out, encoding="utf-8") as f:
            back = pd.DataFrame(json.load(f))
    else:
        back = pd.read_parquet(out)
    assert list(back.columns) == list(frame.columns)
    assert back["tag"].tolist() == frame["tag"].tolist()
    assert back["step"].tolist() == frame["step"].tolist()
    assert back["value"].tolist() == pytest.approx(frame["value"].tolist())


def test_bad_arguments_exit_2(logdir: str, tmp_path: Any) -> None:
    for args in ([str(tmp_path / "missing")], [logdir, "--to", "x.txt"], [logdir, "--regex", "("]):
        with pytest.raises(SystemExit) as e:
            main(args, out=io.StringIO())
        assert e.value.code == 2


def test_module_runs_as_a_command(logdir: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "xfast.read", logdir, "--no-progress"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "run train" in out.stdout


def test_follow_yields_new_values_and_new_runs(tmp_path: Any) -> None:
    root = str(tmp_path / "live")
    w = xfast.SummaryWriter(os.path.join(root, "a"))
    w.add_scalar("x", 1.0, 0)
    w.flush()
    it = follow(root, interval=0.01, idle_timeout=0.3)
    first = next(it)
    assert first.run == "a" and first.tags["x"].scalars.step.tolist() == [0]
    w.add_scalar("x", 2.0, 1)
    w.add_scalar("x", 3.0, 2)
    w.flush()
    second = next(it)
    assert second.tags["x"].scalars.value.tolist() == [2.0, 3.0]
    w2 = xfast.SummaryWriter(os.path.join(root, "b"))
    w2.add_scalar("y", 5.0, 7)
    w2.close()
    third = next(it)
    assert third.run == "b" and third.tags["y"].scalars.step.tolist() == [7]
    w.close()
    assert list(it) == []  # nothing new: stops after idle_timeout


def test_fsspec_urls_read_like_local_paths(logdir: str) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.put(logdir, "/logs", recursive=True)
    remote = SummaryReader("memory://logs", extra_columns={"dir_name", "file_name"})
    local = SummaryReader(logdir, extra_columns={"dir_name", "file_name"})
    pd.testing.assert_frame_equal(remote.scalars, local.scalars)
    assert all(f.path.startswith("memory://logs/") for f in remote.files)
    one = remote.files[0].path
    assert SummaryReader(one).files[0].path == one
    assert SummaryReader("file://" + logdir).runs == ["eval", "train"]
    fs.rm("/logs", recursive=True)
