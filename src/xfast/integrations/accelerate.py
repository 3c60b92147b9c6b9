# SPDX-License-Identifier: Apache-2.0
"""Hugging Face Accelerate: a TensorBoardTracker whose writer is an xfast.SummaryWriter."""

from __future__ import annotations

import os

from accelerate.tracking import TensorBoardTracker as _StockTracker
from accelerate.tracking import on_main_process

from xfast.writer import SummaryWriter


class TensorBoardTracker(_StockTracker):  # type: ignore[misc]
    """Accelerate's ``TensorBoardTracker`` writing through an ``xfast.SummaryWriter``.

    Same name (``"tensorboard"``), constructor and behaviour as
    ``accelerate.tracking.TensorBoardTracker``: the run goes to ``<logging_dir>/<run_name>``,
    ``store_init_configuration`` writes the values as hparams (and ``hparams.yml``), ``log``
    writes numbers as scalars, strings as text and dicts through ``add_scalars``, all from the
    main process only. Pass an instance::

        accelerator = Accelerator(log_with=[TensorBoardTracker("run", "logs")])
        accelerator.get_tracker("tensorboard", unwrap=True)  # the xfast.SummaryWriter

    Args:
        run_name: The name of the experiment run.
        logging_dir: Where the runs are stored.
        **kwargs: Passed to ``xfast.SummaryWriter``.

    Differences from the stock tracker: needs neither ``tensorboard`` nor ``tensorboardX``;
    the ``flush()`` after every ``log`` never waits on the GPU.
    """

    @on_main_process  # type: ignore[untyped-decorator]
    def start(self) -> None:
        """Opens the writer in ``<logging_dir>/<run_name>`` (main process only)."""
        self.logging_dir = os.path.join(self.logging_dir_param, self.run_name)
        self.writer = SummaryWriter(self.logging_dir, **self.init_kwargs)
