# SPDX-License-Identifier: Apache-2.0
"""Cross-rank scalars: one async all_reduce per call, results written by a completion thread."""

from __future__ import annotations

import atexit
import os
import queue
import threading
from typing import Any, Callable, Optional

from xfast.distributed.groups import collective_device, is_silent, process_group
from xfast.encoding.convert import is_tensor, to_float, to_step, to_walltime

REDUCE_OPS = ("mean", "sum", "max", "min")
_COLLECTIVE_OP = {"mean": "SUM", "sum": "SUM", "max": "MAX", "min": "MIN"}

# How long the exit hook waits for reductions still in flight before giving up on them.
_EXIT_DRAIN_S = 10.0


class _Completion:
    """One thread per process that waits on collectives' work handles, in submission order,
    so that the caller never blocks on them (and never syncs with a device)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: Optional[threading.Thread] = None
        self._pid = 0

    def submit(self, item: Any) -> None:
        thread = self._thread
        if thread is None or self._pid != os.getpid():
            with self._lock:
                if self._thread is None or self._pid != os.getpid():
                    # A forked child has the parent's queue object but not its thread.
                    self._queue = queue.SimpleQueue()
                    self._pid = os.getpid()
                    self._thread = threading.Thread(
                        target=self._run, name="xfast-reduce", daemon=True
                    )
                    self._thread.start()
        self._queue.put(item)

    def drain(self, timeout: Optional[float] = None) -> bool:
        """Waits until everything submitted before the call is done; False on timeout."""
        if self._thread is None or self._pid != os.getpid():
            return True
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def _run(self) -> None:
        q = self._queue
        while True:
            item = q.get()
            if isinstance(item, threading.Event):
                item.set()
                continue
            wait, tensor, finish, errors = item
            try:
                wait()  # Work.wait or Event.synchronize: both release the GIL
                values = tensor.tolist()  # a device tensor syncs here, on this thread only
                if finish is not None:
                    finish(values)
            except Exception as e:  # reported by the writer's next flush() or close()
                errors.append(e)


_completion = _Completion()
atexit.register(_completion.drain, _EXIT_DRAIN_S)


class _Reducer:
    """Per-writer state: reduction errors waiting to be reported."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []


def _reducer(writer: Any) -> _Reducer:
    r: Optional[_Reducer] = writer._reducer
    if r is None:
        r = writer._reducer = _Reducer()
    return r


def drain(writer: Any, raising: bool = True) -> Optional[RuntimeError]:
    """Waits for the writer's reductions in flight to be written. An error one of them met
    since the last call is raised, or returned when ``raising`` is False."""
    r = writer.__dict__.get("_reducer")
    if r is None:
        return None
    _completion.drain()
    if not r.errors:
        return None
    errors, r.errors = r.errors, []
    err = RuntimeError(f"xfast: {len(errors)} cross-rank reduction(s) failed; first: {errors[0]!r}")
    err.__cause__ = errors[0]
    if raising:
        raise err
    return err


def check_op(reduce: str) -> str:
    if reduce not in _COLLECTIVE_OP:
        raise ValueError(f"reduce must be one of {', '.join(REDUCE_OPS)}, got {reduce!r}")
    return reduce


def _pack(torch: Any, values: list[Any], device: str) -> Any:
    """The values as one new float64 vector on the collective's device, without a host sync:
    device tensors stay where they are; Python numbers are filled in on the device."""
    cuda = None
    for v in values:
        if is_tensor(v) and v.device.type != "cpu":
            cuda = v.device
            break
    if cuda is None and device == "cpu":
        return torch.tensor([to_float(v) for v in values], dtype=torch.float64)
    if cuda is None:
        cuda = torch.device("cuda", torch.cuda.current_device())
    parts = []
    for v in values:
        if is_tensor(v) and v.device == cuda:
            if v.numel() != 1:
                raise ValueError(
                    f"scalar_value must hold exactly one element, got shape {tuple(v.shape)}"
                )
            parts.append(v.detach().reshape(()).to(torch.float64))
        else:
            # torch.full is a fill kernel: unlike a copy from pageable memory it does not wait.
            parts.append(torch.full((), to_float(v), dtype=torch.float64, device=cuda))
    return torch.stack(parts)  # a new tensor: the user's tensors are never reduced in place


def reduce_scalars(
    writer: Any,
    tag_scalar_dict: dict[str, Any],
    global_step: Any,
    walltime: Optional[float],
    new_style: bool,
    double_precision: bool,
    reduce: str,
) -> None:
    """Reduces each value over the default process group in one collective and writes the
    results under their tags on writing ranks. Collective: see xfast.distributed."""
    check_op(reduce)
    if not isinstance(tag_scalar_dict, dict):
        raise TypeError("tag_scalar_dict must be a dict")
    wall = to_walltime(walltime)
    dist = process_group()
    if dist is None:
        for tag, value in tag_scalar_dict.items():
            writer.add_scalar(tag, value, global_step, wall, new_style, double_precision)
        return
    import torch  # imported already: there is a process group
    step = to_step(global_step)
    tags = list(tag_scalar_dict)
    if not tags:
        return
    tensor = _pack(torch, list(tag_scalar_dict.values()), collective_device(dist))
    work = dist.all_reduce(tensor, op=getattr(dist.ReduceOp, _COLLECTIVE_OP[reduce]), async_op=True)
    wait, result = work.wait, tensor
    if tensor.is_cuda and "nccl" in str(dist.get_backend()).lower():
        wait, result = _copy_out_after(torch, work, tensor)
    finish: Optional[Callable[[list[float]], None]] = None
    if not is_silent(writer):
        fw = writer._get_file_writer()
        engine = fw._engine
        tids = [fw._tag_id(t) for t in tags]
        divisor = float(dist.get_world_size()) if reduce == "mean" else 1.0
        style = 0 if not new_style else (2 if double_precision else 1)

        def finish(values: list[float]) -> None:
            for tid, v in zip(tids, values):
                engine.add_scalar(tid, v / divisor, step, wall, style)

    _completion.submit((wait, result, finish, _reducer(writer).errors))


def _copy_out_after(torch: Any, work: Any, tensor: Any) -> tuple[Callable[[], None], Any]:
    """For nccl: queues the result's copy to pinned host memory behind the collective, all
    without blocking the host, and returns (what the completion thread waits on, the copy).

    nccl's Work.wait only makes the current stream wait for the collective. Reading the
    device tensor from the completion thread instead would be a stream sync there (and one
    that torch.cuda.set_sync_debug_mode reports, since that mode is process-wide).
    """
    with torch.cuda.device(tensor.device):
        work.wait()
        host = torch.empty(tensor.shape, dtype=tensor.dtype, pin_memory=True)
        host.copy_(tensor, non_blocking=True)
        done = torch.cuda.Event()
        done.record()
    return done.synchronize, host
