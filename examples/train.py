# SPDX-License-Identifier: Apache-2.0
"""A small training run logged with xfast: view it with `tensorboard --logdir runs`."""

from __future__ import annotations

import torch
from torch import nn

from xfast import SummaryWriter


def main() -> None:
    torch.manual_seed(0)
    x = torch.randn(4096, 32)
    y = (x[:, :4].sum(dim=1, keepdim=True) > 0).float()
    model = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.BCEWithLogitsLoss()
    with SummaryWriter("runs/example") as writer:
        writer.add_text("config", "MLP 32-128-1, Adam lr=1e-3, batch 256", 0)
        for step in range(300):
            idx = torch.randint(0, len(x), (256,))
            loss = loss_fn(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            writer.add_scalar("train/loss", loss.detach(), step)
            if step % 10 == 0:
                for name, p in model.named_parameters():
                    writer.add_histogram(f"weights/{name}", p.detach(), step)
                    writer.add_histogram(f"grads/{name}", p.grad, step)
        print(f"final loss {loss.item():.4f}; logged to {writer.get_logdir()}")


if __name__ == "__main__":
    main()
