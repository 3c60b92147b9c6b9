# SPDX-License-Identifier: Apache-2.0
"""The standalone ``pytorch_lightning`` package: xfast's TensorBoardLogger and histogram
callback (see ``xfast.integrations.lightning``, which serves ``lightning.pytorch``)."""

from __future__ import annotations

from pytorch_lightning import Callback
from pytorch_lightning.loggers import TensorBoardLogger as _StockLogger

from xfast.integrations.lightning_base import HistogramMixin, LoggerMixin


class TensorBoardLogger(LoggerMixin, _StockLogger):  # type: ignore[misc]
    """``pytorch_lightning.loggers.TensorBoardLogger`` writing through an
    ``xfast.SummaryWriter``: as ``xfast.integrations.lightning.TensorBoardLogger``, for
    ``Trainer``s of the ``pytorch_lightning`` package."""

    _fabric_package = "lightning_fabric"


class HistogramCallback(HistogramMixin, Callback):  # type: ignore[misc]
    """Histograms of every parameter and gradient every ``every_n_steps`` optimizer steps: as
    ``xfast.integrations.lightning.HistogramCallback``, for the ``pytorch_lightning`` package."""

    _logger_class = TensorBoardLogger
