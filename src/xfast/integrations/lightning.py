# SPDX-License-Identifier: Apache-2.0
"""Lightning (``import lightning.pytorch``; ``pytorch_lightning`` when ``lightning`` is not
installed): a TensorBoardLogger whose writer is an xfast.SummaryWriter, and a callback logging
histograms of every parameter and gradient."""

from __future__ import annotations

try:
    from lightning.pytorch import Callback
    from lightning.pytorch.loggers import TensorBoardLogger as _StockLogger

    _FABRIC = "lightning.fabric"
except ImportError:  # only the standalone package is installed
    from pytorch_lightning import Callback
    from pytorch_lightning.loggers import TensorBoardLogger as _StockLogger

    _FABRIC = "lightning_fabric"

from xfast.integrations.lightning_base import HistogramMixin, LoggerMixin


class TensorBoardLogger(LoggerMixin, _StockLogger):  # type: ignore[misc]
    """Lightning's ``TensorBoardLogger`` writing through an ``xfast.SummaryWriter``.

    The same constructor and behaviour: runs in ``<save_dir>/<name>/version_<n>[/<sub_dir>]``,
    ``hparams.yaml`` on ``save()``, ``log_hyperparams`` (HParams dashboard, ``hp_metric``),
    ``log_metrics``, ``log_graph`` (with ``log_graph=True``), ``finalize``; ``experiment`` is
    the ``xfast.SummaryWriter`` on global rank 0. ``Trainer(logger=TensorBoardLogger("logs"))``.

    Args:
        save_dir: Save directory.
        name: Experiment name ("" for no per-experiment subdirectory).
        version: Experiment version: the next free ``version_<n>`` when None, ``version_<n>``
            for an int, the directory name itself for a string.
        log_graph: Add the model's graph (needs ``model.example_input_array``).
        default_hp_metric: Log the placeholder ``hp_metric = -1`` when ``log_hyperparams`` gets
            no metric.
        prefix: Put at the beginning of every metric key.
        sub_dir: Sub-directory of the run to write in.
        **kwargs: Passed to ``xfast.SummaryWriter`` (e.g. ``max_queue``, ``flush_secs``).

    Differences from Lightning's: needs neither ``tensorboard`` nor ``tensorboardX``; the
    ``flush()`` Lightning calls on every logging step never waits on the GPU.
    """

    _fabric_package = _FABRIC


class HistogramCallback(HistogramMixin, Callback):  # type: ignore[misc]
    """Logs histograms of every parameter and its gradient every ``every_n_steps`` optimizer
    steps, through the trainer's xfast ``TensorBoardLogger``.

    Runs in ``on_before_optimizer_step`` (after gradient clipping, before the step), tagged
    ``parameters/<name>`` and ``gradients/<name>`` at ``trainer.global_step``, with one
    ``SummaryWriter.add_histograms`` call: on global rank 0 (the model is whole there under
    DDP), or on every rank for FSDP2's DTensor parameters (histograms of the whole tensors,
    written by rank 0).

    Args:
        every_n_steps: Log every this many optimizer steps.
        stats: Per-tensor scalars, as ``SummaryWriter.add_histograms``' ``stats``.

    Raises:
        ValueError: ``every_n_steps`` is not a positive int.
        RuntimeError: (at the first step) the trainer has no xfast TensorBoardLogger.
    """

    _logger_class = TensorBoardLogger
