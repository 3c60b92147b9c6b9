# SPDX-License-Identifier: Apache-2.0
"""The article's PyTorch examples (examples/mnist.py, examples/regression.py) run a few steps on
their random-data fallback, and TensorBoard's loader reads back what they logged."""

from __future__ import annotations

import os
import runpy
from typing import Any

import pytest
from conftest import load_run, run_dirs

EXAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, "examples")


def run_example(name: str, argv: list[str]) -> None:
    runpy.run_path(os.path.join(EXAMPLES, name), run_name="example")["main"](argv)


def test_mnist(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    logdir = str(tmp_path)
    run_example("mnist.py", ["--log-dir", logdir, "--data-dir", str(tmp_path / "none"),
                             "--epochs", "2", "--max-batches", "3"])
    assert "note: MNIST not available" in capsys.readouterr().out
    assert run_dirs(logdir) == ["."]
    run = load_run(logdir)
    assert sorted(run.Tags()["scalars"]) == [
        "Training Accuracy", "Training Accuracy Chart/Training Accuracy", "Training Loss",
        "Training Loss Chart/Training Loss"]
    # step = epoch * len(train_loader) + batch_idx: 2048 random images in batches of 64.
    assert [e.step for e in run.Scalars("Training Loss")] == [0, 1, 2, 32, 33, 34]
    assert [e.step for e in run.Scalars("Training Loss Chart/Training Loss")] == [0, 1]
    assert all(0 <= e.value <= 1 for e in run.Scalars("Training Accuracy"))
    assert sorted(run.Tags()["tensors"]) == [
        "Epoch summary/text_summary", "Model/text_summary", "custom_scalars__config__"]


def test_regression(tmp_path: Any) -> None:
    logdir = str(tmp_path)
    run_example("regression.py", ["--log-dir", logdir, "--epochs", "5"])
    assert run_dirs(logdir) == ["cross_entropy", "mse"]
    for name in ("cross_entropy", "mse"):
        run = load_run(os.path.join(logdir, name))
        assert sorted(run.Tags()["scalars"]) == ["Loss", "Loss Chart/Loss"]
        losses = run.Scalars("Loss")
        assert [e.step for e in losses] == [0, 1, 2, 3, 4]
        assert [e.value for e in run.Scalars("Loss Chart/Loss")] == [e.value for e in losses]
