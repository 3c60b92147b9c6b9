# SPDX-License-Identifier: Apache-2.0
"""Load: many threads into one writer, many writers at once, and a long run whose memory must
stay flat. Zero lost, zero duplicated, every record's CRC checked."""

from __future__ import annotations

import os
import threading
from collections import defaultdict

import pytest
from conftest import event_files
from strict_reader import read_records

import xfast


def _steps_by_tag(path: str) -> dict[str, list[int]]:
    rf = read_records(path)
    assert rf.tail_bytes == 0
    out: dict[str, list[int]] = defaultdict(list)
    for e in rf.events():
        for v in e.summary.value:
            assert v.simple_value == float(e.step)
            out[v.tag].append(e.step)
    return out


def _log(w: xfast.SummaryWriter, tag: str, n: int) -> None:
    add = w.add_scalar
    for i in range(n):
        add(tag, float(i), i)


def _run_threads(targets: list[threading.Thread]) -> None:
    for t in targets:
        t.start()
    for t in targets:
        t.join()


def _threads_into_one_writer(logdir: str, threads: int, per_thread: int) -> None:
    w = xfast.SummaryWriter(logdir)
    _run_threads(
        [threading.Thread(target=_log, args=(w, f"t{k}", per_thread)) for k in range(threads)]
    )
    w.close()
    stats = w.stats()
    print(f"{threads} threads x {per_thread}: {stats}")
    assert stats["lost"] == 0 and stats["dropped"] == 0
    assert stats["events_written"] == threads * per_thread + 1  # + the file_version record
    got = _steps_by_tag(event_files(logdir)[0])
    # Exactly once each, and in each thread's own order.
    assert dict(got) == {f"t{k}": list(range(per_thread)) for k in range(threads)}


def test_8_threads_into_one_writer(logdir: str) -> None:
    # Reading back costs ~10 us per event in Python: the default run logs 200k, the slow 800k.
    _threads_into_one_writer(logdir, 8, 25_000)


@pytest.mark.slow
def test_8_threads_x_100k_into_one_writer(logdir: str) -> None:
    _threads_into_one_writer(logdir, 8, 100_000)


def _writers_at_once(tmp_path: object, writers: int, per_writer: int) -> None:
    dirs = [os.path.join(str(tmp_path), f"run{k}") for k in range(writers)]
    ws = [xfast.SummaryWriter(d) for d in dirs]
    _run_threads([threading.Thread(target=_log, args=(w, "x", per_writer)) for w in ws])
    for w in ws:
        w.close()
    for d in dirs:
        (path,) = event_files(d)
        assert _steps_by_tag(path) == {"x": list(range(per_writer))}


def test_10_writers_at_once(tmp_path: object) -> None:
    _writers_at_once(tmp_path, 10, 20_000)


@pytest.mark.slow
def test_10_writers_x_100k_at_once(tmp_path: object) -> None:
    _writers_at_once(tmp_path, 10, 100_000)


def _rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def _long_run(logdir: str, total: int, rss_growth_bound: int) -> None:
    w = xfast.SummaryWriter(logdir)
    tags = [f"loss/{k}" for k in range(10)]
    warmup = total // 10
    add = w.add_scalar
    rss_after_warmup = 0
    peak = 0
    for i in range(total):
        add(tags[i % 10], 0.5, i)
        if i == warmup:
            w.flush()
            rss_after_warmup = _rss_bytes()
        if i % 100_000 == 0:
            peak = max(peak, _rss_bytes())
    w.flush()
    stats = w.stats()
    rss_end = _rss_bytes()
    w.close()
    mib = 1 << 20
    print(
        f"long run: {total} scalars, RSS after warm-up {rss_after_warmup / mib:.1f} MiB, "
        f"peak {max(peak, rss_end) / mib:.1f} MiB, end {rss_end / mib:.1f} MiB, "
        f"high_water {stats['high_water']} of {stats['capacity']}, file "
        f"{os.path.getsize(event_files(logdir)[0]) / mib:.0f} MiB"
    )
    assert stats["events_written"] == total + 1 and stats["lost"] == 0 and stats["dropped"] == 0
    assert stats["high_water"] <= stats["capacity"]
    assert max(peak, rss_end) - rss_after_warmup < rss_growth_bound


def test_rss_stays_flat_over_a_long_run(logdir: str) -> None:
    _long_run(logdir, 1_500_000, rss_growth_bound=16 << 20)


@pytest.mark.slow
def test_rss_stays_flat_over_10m_scalars(logdir: str) -> None:
    _long_run(logdir, 10_000_000, rss_growth_bound=16 << 20)
