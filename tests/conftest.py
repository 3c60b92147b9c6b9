# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: TensorBoard's own loader is the oracle for what xfast writes."""

from __future__ import annotations

import glob
import itertools
import os
from typing import Any

import pytest
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.summary.writer import event_file_writer as tb_event_file_writer

import xfast.file_writer


def load_run(run_dir: str) -> Any:
    """An EventAccumulator over run_dir that keeps every event (size guidance 0 = all)."""
    acc = ea.EventAccumulator(
        run_dir,
        size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.TENSORS: 0, ea.IMAGES: 0,
                       ea.AUDIO: 0, ea.COMPRESSED_HISTOGRAMS: 0},
    )
    acc.Reload()
    return acc


def run_dirs(logdir: str) -> list[str]:
    """Run names as TensorBoard finds them: the directories under `logdir` directly holding a
    *tfevents* file, relative to it, sorted."""
    out = []
    for d, _, files in os.walk(logdir):
        if any("tfevents" in f for f in files):
            out.append(os.path.relpath(d, logdir))
    return sorted(out)


def event_files(run_dir: str) -> list[str]:
    return sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*")))


@pytest.fixture
def logdir(tmp_path: Any) -> str:
    return str(tmp_path / "run")


@pytest.fixture
def same_width_uids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Event files are named ...<pid>.<uid> with an unpadded process-wide uid (torch's pattern),
    so a file with uid 10 sorts, and is read, before uid 9 when both are made in the same
    second. Start the counters at 4-digit values so that the files of one test sort in creation
    order (different values: the two libraries may share a directory within one second)."""
    monkeypatch.setattr(xfast.file_writer, "_uid", itertools.count(5000))
    monkeypatch.setattr(tb_event_file_writer, "_global_uid",
                        tb_event_file_writer.AtomicCounter(1000))
