# SPDX-License-Identifier: Apache-2.0
"""xfast.integrations.accelerate.TensorBoardTracker against Accelerate's own tracker, in one
process and in two (gloo on CPU)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from conftest import event_files, run_dirs
from readback import hparams, scalars, texts
from two_ranks import run_two_ranks

accelerate = pytest.importorskip("accelerate")

from xfast.integrations.accelerate import TensorBoardTracker  # noqa: E402
from xfast.writer import SummaryWriter  # noqa: E402

CONFIG = {"lr": 0.01, "epochs": 3, "optimizer": "adam", "nesterov": True}


def _run(tracker: Any, project_dir: str) -> Any:
    """An Accelerate loop's logging: the config, then scalars, a dict and a string per step."""
    accelerator = accelerate.Accelerator(cpu=True, log_with=tracker, project_dir=project_dir)
    accelerator.init_trackers("run", config=CONFIG)
    for step in range(3):
        accelerator.log(
            {"loss": 1.0 / (step + 1), "acc": {"train": 0.5 + step, "val": 0.25 * step},
             "note": f"step {step}"},
            step=step,
        )
    writer = accelerator.get_tracker("tensorboard", unwrap=True)
    accelerator.end_training()
    accelerate.state.AcceleratorState._reset_state(True)
    return writer


def test_same_events_as_the_stock_tracker(tmp_path: Any) -> None:
    stock, mine = str(tmp_path / "stock"), str(tmp_path / "xfast")
    _run("tensorboard", stock)
    writer = _run([TensorBoardTracker("run", mine)], mine)
    assert isinstance(writer, SummaryWriter)
    # The runs: the tracker's own, add_scalars' one per key and add_hparams' (named by time).
    assert len(run_dirs(mine)) == len(run_dirs(stock)) == 4
    for run in ("run", "run/acc_train", "run/acc_val"):
        assert scalars(os.path.join(mine, run)) == scalars(os.path.join(stock, run)), run
    assert texts(os.path.join(mine, "run")) == texts(os.path.join(stock, "run"))
    assert hparams(mine) == hparams(stock) and hparams(mine)
    ymls = [sorted(f for _, _, fs in os.walk(d) for f in fs if f.endswith(".yml"))
            for d in (stock, mine)]
    assert ymls[0] == ymls[1] == ["hparams.yml"]


def test_two_processes_write_one_event_file_from_rank_0(tmp_path: Any) -> None:
    logdir = str(tmp_path / "logs")
    run_two_ranks("accelerate_worker.py", logdir)
    run = os.path.join(logdir, "run")
    assert len(event_files(run)) == 1
    assert scalars(run)["loss"] == [(0, 0.5), (1, 1.5), (2, 2.5)]
