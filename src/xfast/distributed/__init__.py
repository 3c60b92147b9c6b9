# SPDX-License-Identifier: Apache-2.0
"""xfast under torch.distributed: which ranks write, cross-rank scalars, sharded histograms.

xfast uses the process group the program already initialized (``torch.distributed``); it has
none of its own. Create the SummaryWriter after ``init_process_group``: a writer created
before it, or in a program without one, behaves exactly as in a single process.

Which ranks write (``SummaryWriter(..., ranks=...)``):
    * ``"zero"`` (default): global rank 0 writes ``log_dir``. On every other rank each call
      returns at once: no file is created, values are not even converted (no device sync).
    * ``"all"``: every rank writes its own run, ``<log_dir>/rank<k>``.
    * an int or a list of ints: those global ranks write. One rank writes ``log_dir`` itself;
      several write ``<log_dir>/rank<k>`` each (TensorBoard's Python loader loses data when
      several live event files share a directory).
    With several writing ranks and no ``log_dir``, each rank picks its own default directory
    (time and host name): pass ``log_dir`` for one tree.

What is collective. These calls must be made by every rank of the process group, in the same
order, with the same tags (non-writing ranks included; they reduce and skip the write):
    * ``add_scalar(..., reduce=op)`` and ``add_scalar_dict(..., reduce=op)``: one
      ``all_reduce`` over the default group per call, whatever the number of values.
    * ``add_histogram(tag, values, sharded=True)``, and ``add_histogram`` of a DTensor (FSDP2
      parameters and gradients): two ``all_reduce`` calls over the groups the tensor is
      sharded on.
    * ``histogram_stats(tensors)`` below, and any model-wide histogram call over DTensors.
Everything else is local: ranks may log different numbers of other events, in any order,
without deadlock.

Cross-rank scalars. ``op`` is "mean", "sum", "max" or "min". The values (Python numbers,
numpy, or tensors, CUDA tensors included) are packed into one float64 tensor on the device the
backend needs (CPU for gloo, CUDA for nccl), the collective is started with
``async_op=True``, and the call returns: the caller never waits and never syncs with the GPU.
A completion thread waits on the work handle and writes the result with the walltime of the
call; ``flush()`` and ``close()`` wait for reductions in flight and raise RuntimeError if one
failed. Outside a process group the values are written as they are.

Sharded histograms. Each rank counts its own shard against the fixed default edges (the
native kernel), then the counts, element totals and moments are summed and min/max reduced:
the result equals, bucket for bucket, the histogram of the whole tensor, and no parameter is
ever gathered. sum and sum_squares are float64 sums over shards, so they can differ from the
whole tensor's in the last bits. Only the default bins can be reduced this way.

The package: ``groups`` (the process group, which ranks write) at the bottom; ``reduce``
(cross-rank scalars) and ``sharded`` (sharded histograms) on it; ``ranks`` (the non-writing
writer) on those. It imports only xfast.encoding and xfast._core below it, never the writer.
"""

from __future__ import annotations

from xfast.distributed.groups import process_group, writing_ranks
from xfast.distributed.reduce import REDUCE_OPS
from xfast.distributed.sharded import (
    HistogramStats,
    histogram_stats,
    is_dtensor,
    write_histogram_stats,
)

__all__ = [
    "REDUCE_OPS",
    "HistogramStats",
    "histogram_stats",
    "is_dtensor",
    "process_group",
    "write_histogram_stats",
    "writing_ranks",
]
