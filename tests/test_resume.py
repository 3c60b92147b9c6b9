# SPDX-License-Identifier: Apache-2.0
"""A crashed run resumed with purge_step: both TensorBoard Python loaders show the same steps
for xfast's files as for torch's (compat-spec 5.6: the legacy EventAccumulator purges at every
SessionLog START; the plugin accumulator ignores the first START of a run; the Rust data server
purges per tag by step and needs no START at all)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest
from conftest import load_run
from strict_reader import read_records
from tensorboard.backend.event_processing import plugin_event_accumulator as pea
from tensorboard.util import tensor_util

import xfast

torch_tb = pytest.importorskip("torch.utils.tensorboard")

# (purge_step, steps logged, value): a first run, a resume from step 5, a second from step 7.
RUNS = [(None, range(10), 1.0), (5, range(5, 10), 2.0), (7, range(7, 13), 3.0)]


def _write_runs(make_writer: Any, logdir: str, runs: list[tuple[Any, range, float]]) -> None:
    for purge_step, steps, value in runs:
        w = make_writer(logdir, purge_step=purge_step)
        for s in steps:
            w.add_scalar("loss", value, s)
            w.add_histogram("h", np.full(3, value), s)
        w.close()


def _legacy(logdir: str) -> dict[str, list[tuple[int, float]]]:
    acc = load_run(logdir)
    return {
        "loss": [(e.step, e.value) for e in acc.Scalars("loss")],
        "h": [(e.step, e.histogram_value.max) for e in acc.Histograms("h")],
    }


def _plugin(logdir: str) -> dict[str, list[tuple[int, float]]]:
    acc = pea.EventAccumulator(logdir, size_guidance={pea.TENSORS: 0})
    acc.Reload()
    out = {
        "loss": [
            (e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in acc.Tensors("loss")
        ]
    }
    # Histograms come back as [k, 3] (left, right, count) rows; the last right edge is max.
    out["h"] = [
        (e.step, float(tensor_util.make_ndarray(e.tensor_proto)[-1, 1])) for e in acc.Tensors("h")
    ]
    return out


@pytest.mark.parametrize("runs", [2, 3], ids=["one_resume", "two_resumes"])
@pytest.mark.usefixtures("same_width_uids")  # the files of one run sort in creation order
def test_purge_step_matches_torch_in_both_loaders(tmp_path: Any, runs: int) -> None:
    ours, theirs = str(tmp_path / "xfast"), str(tmp_path / "torch")
    _write_runs(xfast.SummaryWriter, ours, RUNS[:runs])
    _write_runs(torch_tb.SummaryWriter, theirs, RUNS[:runs])
    assert _legacy(ours) == _legacy(theirs)
    assert _plugin(ours) == _plugin(theirs)


@pytest.mark.usefixtures("same_width_uids")
def test_purge_step_legacy_loader_shows_the_resumed_run(tmp_path: Any) -> None:
    logdir = str(tmp_path / "run")
    _write_runs(xfast.SummaryWriter, logdir, RUNS)
    # Every START purges: the resumed values replace the crashed run's from each purge step.
    assert _legacy(logdir)["loss"] == (
        [(s, 1.0) for s in range(5)]
        + [(s, 2.0) for s in range(5, 7)]
        + [(s, 3.0) for s in range(7, 13)]
    )
    # The plugin loader ignores the run's first START (the first resume's), so run 1's steps
    # 5..9 stay beside run 2's; the second resume purges steps >= 7 from both.
    assert _plugin(logdir)["loss"] == (
        [(s, 1.0) for s in range(7)]
        + [(s, 2.0) for s in range(5, 7)]
        + [(s, 3.0) for s in range(7, 13)]
    )


def test_purge_events_written_once_per_writer(tmp_path: Any) -> None:
    # A SummaryWriter recreated after close() (torch's behaviour) does not purge again.
    logdir = str(tmp_path / "run")
    w = xfast.SummaryWriter(logdir, purge_step=3)
    w.add_scalar("loss", 1.0, 3)
    w.close()
    w.add_scalar("loss", 2.0, 4)  # opens a new file, without purge events
    w.close()
    files = sorted(os.listdir(logdir))
    assert len(files) == 2
    starts = [
        sum(e.HasField("session_log") for e in read_records(os.path.join(logdir, f)).events())
        for f in files
    ]
    assert starts == [1, 0]
