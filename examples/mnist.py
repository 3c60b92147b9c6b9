# SPDX-License-Identifier: Apache-2.0
"""The article's MNIST classifier, logged with xfast (the import is the only change from
tensorboardX): per-batch loss and accuracy, a line chart per epoch, and a text note.

Uses torchvision's MNIST when torchvision is installed and the dataset is already under
--data-dir (nothing is downloaded); otherwise random images of the same shape, with a note.
View with `tensorboard --logdir runs`."""

from __future__ import annotations

import argparse
import os
from typing import Optional

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

from xfast import SummaryWriter  # was: from tensorboardX import SummaryWriter


def mnist_or_random(data_dir: str, random_size: int = 2048) -> Dataset:
    """torchvision's MNIST training set from data_dir, or random (1, 28, 28) images with
    labels 0-9 when torchvision or the files are missing."""
    try:
        from torchvision import datasets, transforms

        transform = transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))]
        )
        return datasets.MNIST(data_dir, train=True, download=False, transform=transform)
    except (ImportError, RuntimeError) as e:  # RuntimeError: "Dataset not found"
        print(f"note: MNIST not available ({e}); training on {random_size} random 28x28 images")
        generator = torch.Generator().manual_seed(0)
        images = torch.randn(random_size, 1, 28, 28, generator=generator)
        labels = torch.randint(0, 10, (random_size,), generator=generator)
        return TensorDataset(images, labels)


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log-dir", default="runs/mnist")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--max-batches", type=int, default=None, help="per epoch (for a smoke run)")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    train_loader = DataLoader(mnist_or_random(args.data_dir), batch_size=64, shuffle=True)
    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 128), nn.ReLU(), nn.Linear(128, 10))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    writer = SummaryWriter(args.log_dir)
    writer.add_text("Model", str(model), 0)
    for epoch in range(args.epochs):
        total_loss, correct, seen = 0.0, 0, 0
        for batch_idx, (data, target) in enumerate(train_loader):
            if args.max_batches is not None and batch_idx >= args.max_batches:
                break
            optimizer.zero_grad()
            output = model(data)
            loss = criterion(output, target)
            loss.backward()
            optimizer.step()

            batch_correct = (output.argmax(dim=1) == target).sum().item()
            accuracy = batch_correct / len(target)
            step = epoch * len(train_loader) + batch_idx
            writer.add_scalar("Training Loss", loss.item(), step)
            writer.add_scalar("Training Accuracy", accuracy, step)
            total_loss += loss.item() * len(target)
            correct += batch_correct
            seen += len(target)
        epoch_loss, epoch_accuracy = total_loss / seen, correct / seen
        writer.add_line_chart(["Epoch", "Training Loss"], [epoch, epoch_loss],
                              "Training Loss Chart")
        writer.add_line_chart(["Epoch", "Training Accuracy"], [epoch, epoch_accuracy],
                              "Training Accuracy Chart")
        summary = f"epoch {epoch}: loss {epoch_loss:.4f}, accuracy {epoch_accuracy:.4f}"
        writer.add_text("Epoch summary", summary, epoch)
        print(summary)
    writer.close()
    print(f"logged to {os.path.abspath(args.log_dir)}")


if __name__ == "__main__":
    main()
