# SPDX-License-Identifier: Apache-2.0
"""xfast: a natively accelerated, drop-in replacement for torch.utils.tensorboard.SummaryWriter."""

from xfast.file_writer import FileWriter
from xfast.writer import SummaryWriter

__version__ = "0.1.0"

__all__ = ["FileWriter", "SummaryWriter", "__version__"]
