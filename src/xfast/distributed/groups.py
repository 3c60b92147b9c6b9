# SPDX-License-Identifier: Apache-2.0
"""The process group xfast runs under: torch.distributed's default group when the program made
one, which ranks write, and where a collective's tensors live. The bottom of xfast.distributed."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, Union

RanksSpec = Union[str, int, Iterable[int]]


def process_group() -> Any:
    """torch.distributed when the program has initialized its default process group, else None.

    Never imports torch: a program that did not import it cannot have a process group.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    dist = torch.distributed
    if not dist.is_available() or not dist.is_initialized():
        return None
    return dist


def writing_ranks(ranks: RanksSpec, world_size: int) -> frozenset[int]:
    """The global ranks that write, for the ``ranks`` option of SummaryWriter."""
    if isinstance(ranks, str):
        if ranks == "zero":
            return frozenset((0,))
        if ranks == "all":
            return frozenset(range(world_size))
        raise ValueError(f"ranks must be 'zero', 'all', a rank or a list of ranks, got {ranks!r}")
    chosen = [ranks] if isinstance(ranks, int) else list(ranks)
    for r in chosen:
        if not isinstance(r, int) or isinstance(r, bool) or not 0 <= r < world_size:
            raise ValueError(f"ranks: {r!r} is not a rank of this process group (of {world_size})")
    if not chosen:
        raise ValueError("ranks must name at least one rank")
    return frozenset(chosen)


def collective_device(dist: Any, group: Any = None) -> str:
    """Where a collective's tensor must live for `group`'s backend: "cpu" when the backend takes
    CPU tensors (gloo, or a "cpu:gloo,cuda:nccl" pair), else "cuda" (nccl alone)."""
    backend = str(dist.get_backend(group)).lower()
    return "cpu" if ("gloo" in backend or "cpu" in backend or "mpi" in backend) else "cuda"


def is_silent(writer: Any) -> bool:
    """Whether `writer` is on a rank that does not write (see ranks.SilentRank): it takes part
    in collectives and skips the write."""
    return getattr(writer, "_silent_rank", False) is True
