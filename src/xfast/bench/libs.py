# SPDX-License-Identifier: Apache-2.0
"""The libraries under comparison: how to open each one's SummaryWriter."""

from __future__ import annotations

import importlib.util
from typing import Any, Callable

# Report order: xfast first, then the anchors its speed is compared with.
ALL = ("xfast", "torch", "tensorboardX")


def _xfast(logdir: str) -> Any:
    import xfast

    return xfast.SummaryWriter(logdir)


def _torch(logdir: str) -> Any:
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(logdir)


def _tensorboardx(logdir: str) -> Any:
    from tensorboardX import SummaryWriter

    return SummaryWriter(logdir)


_FACTORIES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "xfast": ("xfast", _xfast),
    "torch": ("torch", _torch),
    "tensorboardX": ("tensorboardX", _tensorboardx),
}


def available(names: tuple[str, ...]) -> list[str]:
    """The libraries among `names` that can be imported here, in report order."""
    return [n for n in ALL if n in names and importlib.util.find_spec(_FACTORIES[n][0]) is not None]


def open_writer(lib: str, logdir: str) -> Any:
    """A new SummaryWriter of library `lib` writing to `logdir`."""
    return _FACTORIES[lib][1](logdir)
