# SPDX-License-Identifier: Apache-2.0
"""What a run holds, read back by TensorBoard's loader, in forms two runs can be compared in."""

from __future__ import annotations

import math
import os
from typing import Any

from conftest import load_run, run_dirs
from tensorboard.plugins.hparams import plugin_data_pb2


def scalars(run_dir: str) -> dict[str, list[tuple[int, float]]]:
    """{tag: [(step, value), ...]} of every scalar of the run."""
    acc = load_run(run_dir)
    return {t: [(e.step, e.value) for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}


def histograms(run_dir: str) -> dict[str, list[tuple[int, Any]]]:
    """{tag: [(step, HistogramValue), ...]}."""
    acc = load_run(run_dir)
    return {
        t: [(e.step, e.histogram_value) for e in acc.Histograms(t)]
        for t in acc.Tags()["histograms"]
    }


def assert_same_histograms(got: dict[str, Any], want: dict[str, Any]) -> None:
    """Same tags, steps, min, max, count and buckets; sums to 1e-12 relative (as
    tests/test_dropin.py: the sum against sqrt(num * sum_squares), which bounds sum |x|)."""
    assert sorted(got) == sorted(want)
    for tag, events in want.items():
        assert [s for s, _ in got[tag]] == [s for s, _ in events], tag
        for (_, b), (_, a) in zip(got[tag], events):
            assert (b.min, b.max, b.num, list(b.bucket_limit), list(b.bucket)) == (
                a.min, a.max, a.num, list(a.bucket_limit), list(a.bucket)), tag
            scale = math.sqrt(max(a.num, 1.0) * abs(a.sum_squares))
            assert abs(b.sum - a.sum) <= 1e-12 * scale, (tag, b.sum, a.sum)
            assert abs(b.sum_squares - a.sum_squares) <= 1e-12 * abs(a.sum_squares), tag


def texts(run_dir: str) -> dict[str, list[tuple[int, bytes]]]:
    """{tag: [(step, text bytes), ...]} of every text summary (tensor of strings)."""
    acc = load_run(run_dir)
    return {
        t: [(e.step, b"".join(e.tensor_proto.string_val)) for e in acc.Tensors(t)]
        for t in acc.Tags()["tensors"]
        if acc.SummaryMetadata(t).plugin_data.plugin_name == "text"
    }


def hparams(logdir: str) -> list[Any]:
    """The HParams plugin data of every run under logdir, in run order, as messages (run names
    aside: torch names its hparams runs by time.time())."""
    out = []
    for run in run_dirs(logdir):
        acc = load_run(os.path.join(logdir, run))
        try:
            contents = acc.PluginTagToContent("hparams")
        except KeyError:  # a run without hyperparameters
            continue
        for tag, content in contents.items():
            data = plugin_data_pb2.HParamsPluginData.FromString(content)
            out.append((tag, data))
    return out
