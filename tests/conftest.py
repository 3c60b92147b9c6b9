# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: TensorBoard's own loader is the oracle for what xfast writes."""

from __future__ import annotations

import glob
import os
from typing import Any

import pytest
from tensorboard.backend.event_processing import event_accumulator as ea


def load_run(run_dir: str) -> Any:
    """An EventAccumulator over run_dir that keeps every event (size guidance 0 = all)."""
    acc = ea.EventAccumulator(
        run_dir,
        size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.TENSORS: 0, ea.IMAGES: 0,
                       ea.AUDIO: 0, ea.COMPRESSED_HISTOGRAMS: 0},
    )
    acc.Reload()
    return acc


def event_files(run_dir: str) -> list[str]:
    return sorted(glob.glob(os.path.join(run_dir, "events.out.tfevents.*")))


@pytest.fixture
def logdir(tmp_path: Any) -> str:
    return str(tmp_path / "run")
