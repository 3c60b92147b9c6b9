# SPDX-License-Identifier: Apache-2.0
"""The standalone ``pytorch_lightning`` package: xfast's TensorBoardLogger and histogram
callback (see ``xfast.integrations.lightning``, which serves ``lightning.pytorch``)."""

from __future__ import annotations

from lightning_fabric.loggers.logger import _DummyExperiment
from lightning_fabric.loggers.tensorboard import TensorBoardLogger as _FabricLogger
from lightning_fabric.utilities.cloud_io import get_filesystem
from lightning_fabric.utilities.logger import _convert_params, _flatten_dict
from lightning_fabric.utilities.rank_zero import rank_zero_only
from pytorch_lightning import Callback
from pytorch_lightning.loggers import TensorBoardLogger as _StockLogger

from xfast.integrations.lightning_base import HistogramMixin, LoggerMixin


class TensorBoardLogger(LoggerMixin, _StockLogger):  # type: ignore[misc]
    """``pytorch_lightning.loggers.TensorBoardLogger`` writing through an
    ``xfast.SummaryWriter``: as ``xfast.integrations.lightning.TensorBoardLogger``, for
    ``Trainer``s of the ``pytorch_lightning`` package."""

    _rank_zero_only = rank_zero_only
    _dummy_experiment = _DummyExperiment
    _fabric_logger = _FabricLogger
    _get_filesystem = staticmethod(get_filesystem)
    _convert_params = staticmethod(_convert_params)
    _flatten_dict = staticmethod(_flatten_dict)


class HistogramCallback(HistogramMixin, Callback):  # type: ignore[misc]
    """Histograms of every parameter and gradient every ``every_n_steps`` optimizer steps: as
    ``xfast.integrations.lightning.HistogramCallback``, for the ``pytorch_lightning`` package."""

    _logger_class = TensorBoardLogger
