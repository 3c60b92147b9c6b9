# SPDX-License-Identifier: Apache-2.0
"""Logging device tensors without host syncs: one writer's completion queue and the calls that
feed it (histograms and scalars of device tensors, host histograms queued behind them)."""

from __future__ import annotations

import time
from typing import Any, Callable, Optional

import numpy as np

from xfast.device.completion import CompletionQueue
from xfast.device.histogram import histogram_device, to_pinned_host
from xfast.encoding.convert import check_strided, to_step, torch_module
from xfast.encoding.histogram_rows import Note, host_rows, write_rows

# What DeviceLog calls, on the caller's thread, for a histogram with non-finite values or left
# unwritten: (tag, {"nan", "pos_inf", "neg_inf", "written"}, non-finite count).
Report = Callable[[str, dict[str, Any], int], None]


def is_device_tensor(value: Any) -> bool:
    """True for a torch tensor that does not live in host memory (CUDA, ...)."""
    torch = torch_module()
    # is_cpu, not device.type: building the device object costs ~1 us a call.
    return torch is not None and isinstance(value, torch.Tensor) and not value.is_cpu


class DeviceLog:
    """One SummaryWriter's device path: a CompletionQueue (whose thread writes each device
    result once it has arrived, in call order per tag) and the non-finite notes that thread
    leaves for the caller's thread.

    The writer makes it on its first device call and passes the FileWriter to write to with
    each call; `report` (the writer's warning) runs only on the caller's thread, from
    ``report_notes``. Methods: any thread, except where said.
    """

    def __init__(self, report: Report, nonfinite_scalars: bool) -> None:
        self.queue = CompletionQueue()
        self._report = report
        self._nonfinite_scalars = nonfinite_scalars
        self._notes: list[Note] = []

    def write_rows(
        self, fw: Any, tags: list[str], rows: np.ndarray, step: int, wall: float,
        max_bins: Optional[int],
    ) -> None:
        """Writes packed rows (see histogram_rows.write_rows) and keeps their notes for
        report_notes. Runs on the queue's thread as well as the caller's."""
        self._notes.extend(write_rows(fw, tags, rows, step, wall, max_bins,
                                      self._nonfinite_scalars))

    def report_notes(self) -> None:
        """Issues the warnings noted since the last call. The caller's thread only."""
        notes = self._notes
        while notes:
            self._report(*notes.pop(0))

    def wait(self, stop: bool = False) -> Optional[BaseException]:
        """flush()/close(): waits for queued device results and reports their warnings. Returns
        (rather than raises) an error a queued write hit, so close() can close its files first;
        `stop` also ends the queue's thread."""
        error: Optional[BaseException] = None
        try:
            self.queue.wait()
        except Exception as e:
            error = e
        if stop:
            self.queue.stop()
        self.report_notes()
        return error

    def add_histogram(
        self, fw: Any, tag: str, values: Any, global_step: Any, walltime: Optional[float],
        max_bins: Optional[int],
    ) -> None:
        """add_histogram for a device tensor (its tag already checked by the caller): queue
        the kernels, start the result's copy, return."""
        torch = torch_module()
        step = to_step(global_step)
        wall = time.time() if walltime is None else walltime
        check_strided(values)
        if values.numel() == 0:
            raise ValueError("The input has no element.")
        if values.is_complex():
            raise TypeError(f"add_histogram does not take complex tensors (got {values.dtype})")
        host, event = to_pinned_host(torch, histogram_device([values]))
        self.report_notes()

        def write() -> None:
            self.write_rows(fw, [tag], host.numpy(), step, wall, max_bins)

        self.queue.submit(event, write, (tag,))

    def add_scalar(
        self, fw: Any, tag: str, value: Any, global_step: Any, walltime: Optional[float],
        style: int,
    ) -> None:
        """add_scalar for a one-element device tensor: a non-blocking copy and a queued
        write."""
        torch = torch_module()
        if value.numel() != 1:
            raise ValueError(
                "scalar_value must hold exactly one element, "
                f"got a tensor of shape {tuple(value.shape)}"
            )
        tid = fw._tag_id(tag)
        step = to_step(global_step)
        wall = time.time() if walltime is None else walltime
        host, event = to_pinned_host(torch, value.detach().reshape(1).to(torch.float64))

        def write() -> None:
            fw._engine.add_scalar(tid, float(host[0]), step, wall, style)

        self.queue.submit(event, write, (tag,))

    def add_host_histogram(
        self, fw: Any, tag: str, values: Any, global_step: Any, walltime: Optional[float],
        max_bins: Optional[int],
    ) -> None:
        """add_histogram of host values for a tag with device results in flight: counted now
        (the values may change after the call), written behind them."""
        if np.size(values) == 0 if not hasattr(values, "numel") else values.numel() == 0:
            raise ValueError("The input has no element.")
        rows = host_rows([values], [None], False)
        step = to_step(global_step)
        wall = time.time() if walltime is None else walltime
        self.queue.defer(tag, lambda: self.write_rows(fw, [tag], rows, step, wall, max_bins))
