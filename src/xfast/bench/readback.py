# SPDX-License-Identifier: Apache-2.0
"""Correctness checks: reads what each library wrote back through TensorBoard's own loader."""

from __future__ import annotations

import glob
import os
import struct
from typing import Any


def event_files(logdir: str) -> list[str]:
    return sorted(glob.glob(os.path.join(logdir, "**", "*tfevents*"), recursive=True))


def accumulator(logdir: str) -> Any:
    """TensorBoard's EventAccumulator over logdir, keeping every event (no reservoir sampling)."""
    from tensorboard.backend.event_processing import event_accumulator as ea

    keep_all = {ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.TENSORS: 0, ea.COMPRESSED_HISTOGRAMS: 0}
    acc = ea.EventAccumulator(logdir, size_guidance=keep_all)
    acc.Reload()
    return acc


def count_tagged(logdir: str, tag: str) -> int:
    """Summary values under logdir (sub-runs included) whose tag is `tag` or starts with
    `tag/` (add_text's "<tag>/text_summary"), read through TensorBoard's event file loader."""
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    n = 0
    for path in event_files(logdir):
        for event in LegacyEventFileLoader(path).Load():
            n += sum(v.tag == tag or v.tag.startswith(tag + "/") for v in event.summary.value)
    return n


def count_records(logdir: str) -> tuple[int, bytes]:
    """The number of TFRecords in logdir's event files and the last one's payload.

    Walks the length prefixes only: the loader takes ~10 us per event, too slow for the
    million-scalar files of the throughput runs.
    """
    n = 0
    last = b""
    for path in event_files(logdir):
        with open(path, "rb") as f:
            data = f.read()
        pos = 0
        while pos + 12 <= len(data):
            (length,) = struct.unpack_from("<Q", data, pos)
            start = pos + 12
            last = data[start : start + length]
            pos = start + length + 4
            n += 1
        if pos != len(data):
            raise ValueError(f"{path}: truncated record at offset {pos}")
    return n, last


def check_scalar_file(logdir: str, records: int, tag: str, step: int, value: float) -> str:
    """'' when logdir holds `records` records and the last is Event{step, tag: value}, else
    why not."""
    from tensorboard.compat.proto import event_pb2

    n, last = count_records(logdir)
    if n != records:
        return f"{n} records on disk, expected {records}"
    ev = event_pb2.Event.FromString(last)
    v = ev.summary.value[0] if ev.summary.value else None
    if ev.step != step or v is None or v.tag != tag or v.simple_value != value:
        return f"last event is step {ev.step} {v}, expected step {step} {tag}={value}"
    return ""


def check_scalars(logdir: str, tag: str, expected: list[tuple[int, float]]) -> str:
    """'' when the loader reads exactly `expected` (step, value) pairs for tag, else why not."""
    got = [(s.step, s.value) for s in accumulator(logdir).Scalars(tag)]
    if got != expected:
        bad = next(
            (i for i, (a, b) in enumerate(zip(got, expected)) if a != b),
            min(len(got), len(expected)),
        )
        return f"{len(got)} scalars read back, expected {len(expected)}; first difference at #{bad}"
    return ""


def check_histograms(acc: Any, tag: str, count: int, num: int, lo: float, hi: float) -> str:
    """'' when tag has `count` histograms, the last counting `num` values within [lo, hi]."""
    events = acc.Histograms(tag)
    if len(events) != count:
        return f"{tag}: {len(events)} histograms read back, expected {count}"
    h = events[-1].histogram_value
    if h.num != num or round(sum(h.bucket)) != num:
        return f"{tag}: num {h.num}, bucket total {sum(h.bucket)}, expected {num}"
    if h.min != lo or h.max != hi:
        return f"{tag}: min/max {h.min}/{h.max}, expected {lo}/{hi}"
    return ""
