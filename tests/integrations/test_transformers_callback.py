# SPDX-License-Identifier: Apache-2.0
"""xfast.integrations.transformers.TensorBoardCallback against transformers' own, on a tiny
GPT-2 built from a config and trained a few steps with the real Trainer (no downloads)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hf_run import trainer
from readback import assert_same_histograms, histograms, scalars, texts

transformers = pytest.importorskip("transformers")
from transformers.integrations import TensorBoardCallback as StockCallback  # noqa: E402

from xfast.integrations.transformers import TensorBoardCallback  # noqa: E402

# Wall-clock figures of the final log: they differ between any two runs.
TIMED = ("train/train_runtime", "train/train_samples_per_second", "train/train_steps_per_second")
_trainer = trainer


class _StockHistograms(transformers.TrainerCallback):  # type: ignore[misc]
    """What a user writes today for per-step histograms: torch's add_histogram per tensor."""

    def __init__(self, writer: Any) -> None:
        self.writer = writer

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
        for name, p in kw["model"].named_parameters():
            self.writer.add_histogram("parameters/" + name, p, state.global_step + 1)
            self.writer.add_histogram("gradients/" + name, p.grad, state.global_step + 1)


def test_same_events_as_the_stock_callback_with_histograms(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from torch.utils.tensorboard import SummaryWriter

    stock_dir, xfast_dir = str(tmp_path / "stock"), str(tmp_path / "xfast")
    out = str(tmp_path / "out")
    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", stock_dir)
    stock_writer = SummaryWriter(stock_dir)
    _trainer(out, [StockCallback(tb_writer=stock_writer), _StockHistograms(stock_writer)]).train()
    monkeypatch.setenv("TENSORBOARD_LOGGING_DIR", xfast_dir)
    _trainer(out, [TensorBoardCallback(histogram_steps=1)]).train()

    want, got = scalars(stock_dir), scalars(xfast_dir)
    assert sorted(got) == sorted(want) and "train/loss" in got and "train/grad_norm" in got
    for tag in want:
        assert [s for s, _ in got[tag]] == [s for s, _ in want[tag]], tag
        if tag not in TIMED:
            assert got[tag] == want[tag], tag
    assert texts(xfast_dir) == texts(stock_dir)
    assert set(texts(xfast_dir)) == {"args/text_summary", "model_config/text_summary"}
    got_h = histograms(xfast_dir)
    assert len(got_h) == 2 * len(list(_trainer(out, []).model.parameters()))
    assert_same_histograms(got_h, histograms(stock_dir))


def test_default_log_dir_and_histograms_every_n_steps(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TENSORBOARD_LOGGING_DIR", raising=False)
    cb = TensorBoardCallback(histogram_steps=2)
    _trainer(str(tmp_path / "out"), [cb]).train()
    assert cb.tb_writer is None  # closed at the end of training, as the stock callback does
    run = cb.logging_dir or ""
    assert os.path.dirname(run) == os.path.join(str(tmp_path / "out"), "runs")
    steps = {tag: [s for s, _ in h] for tag, h in histograms(run).items()}
    assert steps and all(s == [2, 4] for s in steps.values())
    assert [s for s, _ in scalars(run)["train/loss"]] == [1, 2, 3, 4]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_histogram_steps_must_be_a_positive_int(bad: Any) -> None:
    with pytest.raises(ValueError, match="histogram_steps"):
        TensorBoardCallback(histogram_steps=bad)
