# SPDX-License-Identifier: Apache-2.0
"""xfast: a natively accelerated, drop-in replacement for torch.utils.tensorboard.SummaryWriter.

The public names only. The layers, top to bottom (pyproject.toml's import-linter contracts
keep them one-way; CONTRIBUTING.md has the map): ``writer`` (SummaryWriter), ``histograms``
and ``summary``; ``plugins``, ``device`` and ``distributed``, which do not know each other;
``media``; ``file_writer``; ``remote``; ``encoding``; the native ``_core``.
"""

# file_writer before writer: atexit runs hooks last-registered first, so the exit drains of
# background work that writer's imports register (distributed.reduce, media.worker) run before
# file_writer's close of every file, and remote's upload (registered by file_writer's import
# of it) runs after that close.
from xfast.file_writer import FileWriter
from xfast.patching import patch, unpatch
from xfast.writer import SummaryWriter

__version__ = "0.1.0"

__all__ = ["FileWriter", "SummaryReader", "SummaryWriter", "__version__", "patch", "unpatch"]


def __getattr__(name: str) -> object:
    # The reader is imported on first use: `import xfast` in a training script stays as cheap
    # as before, and pandas is never imported by it.
    if name == "SummaryReader":
        from xfast.reader import SummaryReader

        return SummaryReader
    raise AttributeError(f"module 'xfast' has no attribute {name!r}")
