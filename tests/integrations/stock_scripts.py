# SPDX-License-Identifier: Apache-2.0
"""Unmodified stock-logging scripts of each framework (tiny, no downloads), run by
test_patch.py after xfast.patch(), each a function of the log directory."""

from __future__ import annotations

import os


def lightning(logdir: str) -> None:
    from lightning.pytorch.loggers import TensorBoardLogger
    from lightning_run import fit

    fit("lightning.pytorch", TensorBoardLogger(logdir), [])


def transformers(logdir: str) -> None:
    from hf_run import trainer

    os.environ["TENSORBOARD_LOGGING_DIR"] = logdir
    trainer(logdir + "_out", [], steps=2, report_to="tensorboard").train()


def accelerate(logdir: str) -> None:
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True, log_with="tensorboard", project_dir=logdir)
    accelerator.init_trackers("run", config={"lr": 0.1})
    for step in range(3):
        accelerator.log({"loss": 1.0 / (step + 1)}, step=step)
    accelerator.end_training()


def torch_writer(logdir: str) -> None:
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(logdir) as w:
        for step in range(3):
            w.add_scalar("loss", 1.0 / (step + 1), step)


def tensorboardx_writer(logdir: str) -> None:
    import tensorboardX

    with tensorboardX.SummaryWriter(logdir) as w:
        for step in range(3):
            w.add_scalar("loss", 1.0 / (step + 1), step)

