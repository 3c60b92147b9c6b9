# SPDX-License-Identifier: Apache-2.0
"""A tiny Lightning run for either package (``lightning.pytorch`` or ``pytorch_lightning``):
a linear model on random data, logging every step. Run as a script it trains under DDP with two
CPU processes: python lightning_run.py PACKAGE LOGDIR."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import torch

STEPS = 4


def fit(package: str, logger: Any, callbacks: list[Any], **trainer_kw: Any) -> Any:
    """Trains 4 steps of a Linear(8, 4) with `logger`; returns the trainer."""
    pl = importlib.import_module(package)

    class Tiny(pl.LightningModule):  # type: ignore[misc, name-defined]
        def __init__(self, lr: float = 0.1, width: int = 8) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.layer = torch.nn.Linear(width, 4)

        def training_step(self, batch: Any, batch_idx: int) -> Any:
            x, y = batch
            loss = torch.nn.functional.mse_loss(self.layer(x), y)
            self.log("train_loss", loss)
            self.log_dict({"a": float(batch_idx), "b": loss * 2})
            return loss

        def configure_optimizers(self) -> Any:
            return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)

    torch.manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(STEPS * 2, 8), torch.randn(STEPS * 2, 4))
    trainer = pl.Trainer(
        max_steps=STEPS, log_every_n_steps=1, logger=logger, callbacks=callbacks,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
        accelerator="cpu", **trainer_kw,
    )
    trainer.fit(Tiny(), torch.utils.data.DataLoader(data, batch_size=2))
    return trainer


if __name__ == "__main__":
    package, logdir = sys.argv[1], sys.argv[2]
    xfast_module = "xfast.integrations." + package.split(".")[0]
    integration = importlib.import_module(xfast_module)
    fit(package, integration.TensorBoardLogger(logdir),
        [integration.HistogramCallback(every_n_steps=2)], strategy="ddp", devices=2)
