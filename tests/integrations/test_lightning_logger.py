# SPDX-License-Identifier: Apache-2.0
"""xfast.integrations.lightning's TensorBoardLogger and HistogramCallback against Lightning's
own logger, with both packages (lightning.pytorch and pytorch_lightning)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from typing import Any

import pytest
from conftest import event_files, run_dirs
from lightning_run import fit
from readback import assert_same_histograms, histograms, hparams, scalars
from two_ranks import run_two_ranks

# Lightning's own use of torch's pytree API, on torch 2.13: not ours.
pytestmark = pytest.mark.filterwarnings("ignore:.*treespec, LeafSpec.*:FutureWarning")

# (the Trainer's package, the xfast module for it)
PACKAGES = [("lightning.pytorch", "xfast.integrations.lightning"),
            ("pytorch_lightning", "xfast.integrations.pytorch_lightning")]


def _stock_histograms(package: str) -> Any:
    pl = importlib.import_module(package)

    class StockHistograms(pl.Callback):  # type: ignore[misc, name-defined]
        """What users write today: add_histogram per tensor in on_before_optimizer_step."""

        def on_before_optimizer_step(self, trainer: Any, module: Any, optimizer: Any) -> None:
            for name, p in module.named_parameters():
                trainer.logger.experiment.add_histogram("parameters/" + name, p,
                                                        trainer.global_step)
                trainer.logger.experiment.add_histogram("gradients/" + name, p.grad,
                                                        trainer.global_step)

    return StockHistograms()


@pytest.mark.parametrize(("package", "module"), PACKAGES)
def test_same_events_as_lightnings_logger(package: str, module: str, tmp_path: Any) -> None:
    pytest.importorskip(package)
    pl_loggers = importlib.import_module(package + ".loggers")
    integration = importlib.import_module(module)
    stock = pl_loggers.TensorBoardLogger(str(tmp_path / "stock"), name="exp")
    mine = integration.TensorBoardLogger(str(tmp_path / "xfast"), name="exp")
    fit(package, stock, [_stock_histograms(package)])
    trainer = fit(package, mine, [integration.HistogramCallback()])
    assert type(trainer.logger.experiment).__module__ == "xfast.writer"
    assert mine.log_dir == str(tmp_path / "xfast" / "exp" / "version_0")
    assert run_dirs(str(tmp_path / "xfast")) == run_dirs(str(tmp_path / "stock")) == [
        os.path.join("exp", "version_0")]
    got, want = scalars(mine.log_dir), scalars(stock.log_dir)
    assert got == want and {"train_loss", "a", "b", "epoch", "hp_metric"} <= set(got)
    assert hparams(mine.log_dir) == hparams(stock.log_dir) and hparams(mine.log_dir)
    with open(os.path.join(mine.log_dir, "hparams.yaml")) as f, \
            open(os.path.join(stock.log_dir, "hparams.yaml")) as g:
        assert f.read() == g.read()
    got_h = histograms(mine.log_dir)
    assert len(got_h) == 4
    assert_same_histograms(got_h, histograms(stock.log_dir))


def test_log_hyperparams_with_metrics_and_next_version(tmp_path: Any) -> None:
    from lightning.pytorch.loggers import TensorBoardLogger as Stock

    from xfast.integrations.lightning import TensorBoardLogger

    for cls, d in ((Stock, "stock"), (TensorBoardLogger, "xfast")):
        os.makedirs(tmp_path / d / "default" / "version_3")
        lg = cls(str(tmp_path / d), name="default", prefix="p", sub_dir="sub")
        lg.log_hyperparams({"lr": 0.1, "nested": {"k": 2}}, {"acc": 0.5}, step=7)
        lg.log_metrics({"x": 1.0, "d": {"u": 2.0}}, step=8)
        lg.finalize("success")
        assert lg.log_dir == str(tmp_path / d / "default" / "version_4" / "sub")
    mine = str(tmp_path / "xfast" / "default" / "version_4" / "sub")
    stock = str(tmp_path / "stock" / "default" / "version_4" / "sub")
    assert scalars(mine) == scalars(stock) and "p-acc" in scalars(mine)
    assert hparams(mine) == hparams(stock)


def test_histogram_callback_needs_an_xfast_logger(tmp_path: Any) -> None:
    from lightning.pytorch.loggers import CSVLogger

    from xfast.integrations.lightning import HistogramCallback

    with pytest.raises(RuntimeError, match="xfast TensorBoardLogger"):
        fit("lightning.pytorch", CSVLogger(str(tmp_path)), [HistogramCallback()])
    with pytest.raises(ValueError, match="every_n_steps"):
        HistogramCallback(every_n_steps=0)


def test_ddp_two_processes_write_one_event_file_from_rank_0(tmp_path: Any) -> None:
    script = os.path.join(os.path.dirname(__file__), "lightning_run.py")
    env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, script, "lightning.pytorch", str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run = str(tmp_path / "lightning_logs" / "version_0")
    assert run_dirs(str(tmp_path)) == [os.path.relpath(run, str(tmp_path))]
    assert len(event_files(run)) == 1
    assert [s for s, _ in scalars(run)["train_loss"]] == [0, 1, 2, 3]
    assert all([s for s, _ in h] == [0, 2] for h in histograms(run).values())


def test_fsdp2_histograms_from_both_callbacks(tmp_path: Any) -> None:
    """Under FSDP2 (DTensor parameters, 2 gloo processes) both callbacks' hooks run the
    collective histograms on every rank and rank 0 writes them: equal to add_histogram of the
    gathered tensors."""
    run_two_ranks("fsdp_worker.py", str(tmp_path))
    want = histograms(str(tmp_path / "ref" / "rank0"))
    assert len(want) == 8
    for run in ("hf", os.path.join("pl", "version_0")):
        assert len(event_files(str(tmp_path / run))) == 1, run
        assert_same_histograms(histograms(str(tmp_path / run)), want)
