# SPDX-License-Identifier: Apache-2.0
"""Rank awareness: which ranks of a torch.distributed process group write, and where; the
non-writing writer the other ranks get."""

from __future__ import annotations

import os
import posixpath
from typing import Any, Callable, Optional, Union

from xfast.distributed.groups import RanksSpec, process_group, writing_ranks
from xfast.distributed.reduce import drain, reduce_scalars
from xfast.distributed.sharded import add_sharded_histogram, wants_sharded


def setup_ranks(
    writer: Any, log_dir: Union[str, os.PathLike[str]], ranks: RanksSpec
) -> Union[str, os.PathLike[str]]:
    """Applies the ``ranks`` option to a SummaryWriter being constructed; returns its log_dir.

    Outside an initialized process group nothing changes. Inside one, a rank that does not
    write becomes a non-writing writer (see ``SilentRank``); when several ranks write, each
    writes its own run, ``<log_dir>/rank<k>``, since TensorBoard's Python loader loses data
    from several live event files in one directory.
    """
    writer._reducer = None
    dist = process_group()
    if dist is None:
        return log_dir
    rank, world = dist.get_rank(), dist.get_world_size()
    chosen = writing_ranks(ranks, world)
    if rank not in chosen:
        writer.__class__ = silent_class(type(writer))
        return log_dir
    if len(chosen) > 1:
        log_dir = str(log_dir)
        join = posixpath.join if "://" in log_dir else os.path.join
        return join(log_dir, f"rank{rank}")
    return log_dir


def _noop(*args: Any, **kwargs: Any) -> None:
    return None


class _NullEngine:
    """Stands in for the native engine on a non-writing rank: accepts everything, writes nothing."""

    def intern(self, tag: str) -> int:
        return 0

    def add_histogram(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"nan": 0, "pos_inf": 0, "neg_inf": 0, "written": True}

    def add_histogram_counts(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def stats(self) -> dict[str, int]:
        return {}

    def __getattr__(self, name: str) -> Callable[..., None]:
        return _noop


class _NullFileWriter:
    """A FileWriter with no file, for code that reaches a non-writing rank's file writer."""

    def __init__(self, log_dir: str) -> None:
        self._log_dir = log_dir
        self._tags: dict[str, int] = {}
        self._engine = _NullEngine()

    def get_logdir(self) -> str:
        return self._log_dir

    def _tag_id(self, tag: str) -> int:
        return 0

    def stats(self) -> dict[str, int]:
        return {}

    def __getattr__(self, name: str) -> Callable[..., None]:
        return _noop


# Methods that may run a collective; every other add_* method returns at once on a
# non-writing rank.
COLLECTIVE_METHODS = frozenset(("add_scalar", "add_scalar_dict", "add_histogram", "add_histograms"))


class SilentRank:
    """Mixin placed before SummaryWriter on ranks that do not write.

    Non-collective calls return at once: no conversion, no device sync, no file. Collective
    calls (``reduce=`` scalars, sharded histograms) take part in the collective and skip the
    write. Swapping the class, rather than testing a flag in every method, keeps the writing
    rank's hot path untouched. The modules below this one (reduce, sharded) and the model-wide
    histograms tell it by ``groups.is_silent``.
    """

    _silent_rank = True

    def add_scalar(
        self,
        tag: str,
        scalar_value: Any,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
        new_style: bool = False,
        double_precision: bool = False,
        *,
        reduce: Optional[str] = None,
    ) -> None:
        if reduce is not None:
            values = {tag: scalar_value}
            reduce_scalars(self, values, global_step, walltime, new_style, double_precision, reduce)

    def add_scalar_dict(
        self,
        tag_scalar_dict: dict[str, Any],
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
        *,
        reduce: Optional[str] = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        if reduce is not None:
            reduce_scalars(
                self, tag_scalar_dict, global_step, walltime, new_style, double_precision, reduce
            )

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: Optional[int] = None,
        bins: Any = "tensorflow",
        walltime: Optional[float] = None,
        max_bins: Optional[int] = None,
        *,
        sharded: Optional[bool] = None,
    ) -> None:
        if wants_sharded(values, sharded):
            add_sharded_histogram(self, tag, values, global_step, bins, walltime, max_bins)

    def _get_file_writer(self) -> Any:
        if self.file_writer is None:  # type: ignore[has-type]
            self.file_writer = _NullFileWriter(str(self.log_dir))  # type: ignore[attr-defined]
            self.all_writers: dict[str, Any] = {}
        return self.file_writer

    def flush(self) -> None:
        drain(self)

    def close(self) -> None:
        drain(self)


_silent_classes: dict[type, type] = {}


def silent_class(cls: type) -> type:
    """The non-writing variant of a SummaryWriter class (made once per class)."""
    silent = _silent_classes.get(cls)
    if silent is None:
        ns: dict[str, Any] = {"__doc__": cls.__doc__, "__module__": cls.__module__}
        for name in dir(cls):
            if name.startswith("add_") and name not in COLLECTIVE_METHODS:
                ns[name] = _noop
        silent = _silent_classes[cls] = type(cls.__name__, (SilentRank, cls), ns)
    return silent
