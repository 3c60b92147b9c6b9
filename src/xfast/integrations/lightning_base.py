# SPDX-License-Identifier: Apache-2.0
"""What xfast's Lightning logger and histogram callback do, for either package (``lightning``
or ``pytorch_lightning``): ``lightning.py`` and ``pytorch_lightning.py`` join these mixins to
their package's classes. Imports no framework."""

from __future__ import annotations

import functools
import importlib
import os
from argparse import Namespace
from collections.abc import Iterable
from typing import Any, Optional, Union

from xfast.distributed.sharded import is_dtensor
from xfast.summary import hparams
from xfast.writer import SummaryWriter


@functools.cache
def _fabric(package: str, module: str, name: str) -> Any:
    """`name` of ``<package>.<module>``, where package is ``lightning.fabric`` (in the
    ``lightning`` package) or ``lightning_fabric`` (beside ``pytorch_lightning``)."""
    return getattr(importlib.import_module(f"{package}.{module}"), name)


class LoggerMixin:
    """Overrides the parts of Lightning's ``TensorBoardLogger`` that need tensorboard: the
    constructor's check, the writer it builds and the hyperparameter summaries."""

    # Set by each package's class: where its fabric lives (its rank_zero_only, whose .rank
    # Lightning sets; the no-op experiment other ranks get; the stock logger's helpers).
    _fabric_package: str
    _experiment: Optional[SummaryWriter]
    _kwargs: dict[str, Any]
    log_dir: str
    root_dir: str
    hparams: Any

    def __init__(
        self,
        save_dir: Union[str, os.PathLike[str]],
        name: Optional[str] = "lightning_logs",
        version: Optional[Union[int, str]] = None,
        log_graph: bool = False,
        default_hp_metric: bool = True,
        prefix: str = "",
        sub_dir: Optional[Union[str, os.PathLike[str]]] = None,
        **kwargs: Any,
    ) -> None:
        # Fabric's TensorBoardLogger.__init__ refuses to run without tensorboard: run the
        # constructors above it, then set what it sets.
        fabric_logger = _fabric(self._fabric_package, "loggers.tensorboard", "TensorBoardLogger")
        super(fabric_logger, self).__init__()
        root_dir = os.fspath(save_dir)
        self._root_dir = root_dir
        self._name = name or ""
        self._version = version
        self._sub_dir = None if sub_dir is None else os.fspath(sub_dir)
        self._default_hp_metric = default_hp_metric
        self._prefix = prefix
        self._fs = _fabric(self._fabric_package, "utilities.cloud_io", "get_filesystem")(root_dir)
        self._experiment = None
        self._kwargs = kwargs
        self._log_graph = log_graph
        self.hparams = {}

    def _rank(self) -> int:
        """The global rank, as Lightning has set it."""
        rank: int = _fabric(self._fabric_package, "utilities.rank_zero", "rank_zero_only").rank
        return rank

    @property
    def experiment(self) -> Any:
        """The ``xfast.SummaryWriter`` of this run (made on first use, on global rank 0; other
        ranks get Lightning's no-op experiment). Use it anywhere::

            self.logger.experiment.add_histogram(...)
        """
        if self._rank() != 0:
            return _fabric(self._fabric_package, "loggers.logger", "_DummyExperiment")()
        if self._experiment is None:
            if self.root_dir:
                self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = SummaryWriter(log_dir=self.log_dir, **self._kwargs)
        return self._experiment

    def log_hyperparams(
        self,
        params: Union[dict[str, Any], Namespace],
        metrics: Optional[Union[dict[str, Any], float]] = None,
        step: Optional[int] = None,
    ) -> None:
        """Records the hyperparameters (and ``hparams.yaml`` on ``save()``), as Lightning's
        logger does: the HParams dashboard's summaries, plus ``metrics`` as scalars (the
        placeholder ``hp_metric = -1`` when none are given and ``default_hp_metric``).

        Args:
            params: A dictionary-like container with the hyperparameters.
            metrics: Metric names and values (a bare value is logged as ``hp_metric``).
            step: Optional global step number for the logged metrics.
        """
        if self._rank() != 0:
            return
        params = _fabric(self._fabric_package, "utilities.logger", "_convert_params")(params)
        self.hparams.update(params)
        flatten = _fabric(self._fabric_package, "utilities.logger", "_flatten_dict")
        flat = self._sanitize_params(flatten(params))  # type: ignore[attr-defined]
        if metrics is None:
            if self._default_hp_metric:
                metrics = {"hp_metric": -1}
        elif not isinstance(metrics, dict):
            metrics = {"hp_metric": metrics}
        if metrics:
            self.log_metrics(metrics, step)  # type: ignore[attr-defined]
            writer = self.experiment._get_file_writer()
            for summary in hparams(flat, metrics):
                writer.add_summary(summary, step)


def _has_dtensor(named: Iterable[tuple[str, Any]]) -> bool:
    return any(is_dtensor(p) for _, p in named)


class HistogramMixin:
    """Histograms of every parameter and its gradient every N optimizer steps, through the
    trainer's xfast ``TensorBoardLogger``."""

    _logger_class: Any  # the package's xfast TensorBoardLogger

    def __init__(self, every_n_steps: int = 1, stats: Iterable[str] = ()) -> None:
        if isinstance(every_n_steps, bool) or not isinstance(every_n_steps, int) or (
            every_n_steps < 1
        ):
            raise ValueError(f"every_n_steps must be a positive int, got {every_n_steps!r}")
        self.every_n_steps = every_n_steps
        self.stats = tuple(stats)
        self._writer: Optional[SummaryWriter] = None

    def _find_writer(self, trainer: Any, pl_module: Any) -> Optional[SummaryWriter]:
        """Global rank 0: the xfast logger's writer. Other ranks: None, or under FSDP2 (DTensor
        parameters, whose histograms are collective) a writer that writes nothing."""
        loggers = [lg for lg in trainer.loggers if isinstance(lg, self._logger_class)]
        if not loggers:
            raise RuntimeError(
                "xfast HistogramCallback needs an xfast TensorBoardLogger among the trainer's "
                "loggers (Trainer(logger=xfast.integrations.lightning.TensorBoardLogger(...)))"
            )
        if trainer.is_global_zero:
            writer: SummaryWriter = loggers[0].experiment
            return writer
        if self._writer is None and _has_dtensor(pl_module.named_parameters()):
            # ranks="zero" (the default) under the process group: this rank's writer only takes
            # part in the collective histograms.
            self._writer = SummaryWriter(log_dir=loggers[0].log_dir)
        return self._writer

    def on_before_optimizer_step(self, trainer: Any, pl_module: Any, optimizer: Any) -> None:
        """Logs the histograms (after gradient clipping, before the optimizer step) at step
        ``trainer.global_step``, every ``every_n_steps`` steps."""
        step = trainer.global_step
        if step % self.every_n_steps:
            return
        writer = self._find_writer(trainer, pl_module)
        if writer is not None:
            writer.add_histograms(pl_module.named_parameters(), step, grads=True, stats=self.stats)

    def teardown(self, trainer: Any, pl_module: Any, stage: str) -> None:
        """Closes the writer a non-zero rank made for collective histograms."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
