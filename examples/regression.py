# SPDX-License-Identifier: Apache-2.0
"""The article's two small regression loops, logged with xfast (the import is the only change
from tensorboardX): `nn.Sequential(nn.Linear(10, 1), nn.ReLU(), nn.Linear(1, 1))` trained for
100 epochs with a mean-squared-error loss, then with a (binary) cross-entropy loss, each on its
own random data and in its own run. View with `tensorboard --logdir runs`."""

from __future__ import annotations

import argparse
import os
from typing import Optional

import torch
from torch import nn

from xfast import SummaryWriter  # was: from tensorboardX import SummaryWriter


def train(log_dir: str, criterion: nn.Module, targets: torch.Tensor, inputs: torch.Tensor,
          epochs: int) -> float:
    """Full-batch SGD over (inputs, targets), logging the loss per epoch; the last loss."""
    model = nn.Sequential(nn.Linear(10, 1), nn.ReLU(), nn.Linear(1, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    writer = SummaryWriter(log_dir)
    for epoch in range(epochs):
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        writer.add_scalar("Loss", loss.item(), epoch)
        writer.add_line_chart(["Epoch", "Loss"], [epoch, loss.item()], "Loss Chart")
    writer.add_text("Result", f"final loss {loss.item():.4f} after {epochs} epochs", epochs)
    writer.close()
    return loss.item()


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log-dir", default="runs/regression")
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    inputs = torch.randn(100, 10)
    real_valued = inputs.sum(dim=1, keepdim=True)
    mse = train(os.path.join(args.log_dir, "mse"), nn.MSELoss(), real_valued, inputs, args.epochs)
    labels = (real_valued > 0).float()
    bce = train(os.path.join(args.log_dir, "cross_entropy"), nn.BCEWithLogitsLoss(), labels,
                inputs, args.epochs)
    print(f"MSE loss {mse:.4f}, cross-entropy loss {bce:.4f}; logged to "
          f"{os.path.abspath(args.log_dir)}")


if __name__ == "__main__":
    main()
