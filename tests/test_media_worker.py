# SPDX-License-Identifier: Apache-2.0
"""The media worker: call order kept, parallel encodes, flush as a barrier, errors surfaced,
bounded queue, and host copies taken at the call."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from conftest import event_files, load_run
from test_media import png_pixels

import xfast
from xfast.media import encode as _media_encode
from xfast.media import snapshot as _snapshot
from xfast.media.worker import MediaWorker


def test_events_keep_call_order_and_call_time(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir)
    before = time.time()
    for step in range(40):
        w.add_image("img", np.full((1, 2, 2), step, dtype=np.uint8), step)
        w.add_audio("snd", np.full(4, step / 100), 1000 - step)
    after = time.time()
    w.flush()
    acc = load_run(logdir)
    images, sounds = acc.Images("img"), acc.Audio("snd")
    assert [e.step for e in images] == list(range(40))
    assert [e.step for e in sounds] == [1000 - s for s in range(40)]
    walls = [e.wall_time for e in images]
    assert walls == sorted(walls) and before <= walls[0] and walls[-1] <= after
    w.close()


def test_flush_is_a_barrier(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir)
    w.add_image("big", np.random.default_rng(1).random((3, 300, 300)), 5)
    w.flush()  # no close: the event must already be in the file
    (event,) = load_run(logdir).Images("big")
    assert event.step == 5 and (event.width, event.height) == (300, 300)
    w.close()


def test_caller_may_change_its_data_after_the_call(logdir: str) -> None:
    arr = np.zeros((1, 2, 2), dtype=np.uint8)
    tensor = torch.zeros(1, 2, 2, dtype=torch.uint8)
    with xfast.SummaryWriter(logdir) as w:
        w.add_image("np", arr)
        w.add_image("torch", tensor)
        arr[:] = 255
        tensor[:] = 255
    acc = load_run(logdir)
    for tag in ("np", "torch"):
        assert png_pixels(acc.Images(tag)[0].encoded_image_string).max() == 0


def test_worker_errors_are_raised_by_the_next_call(
    logdir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _media_encode.encode_png
    calls = []

    def flaky(img: Any) -> bytes:
        calls.append(1)
        if len(calls) == 1:
            raise MemoryError("boom")
        return real(img)

    monkeypatch.setattr(_media_encode, "encode_png", flaky)
    w = xfast.SummaryWriter(logdir)
    w.add_image("a", np.zeros((3, 2, 2)), 0)
    with pytest.raises(RuntimeError, match=r"1 image/video/audio event.*MemoryError: boom"):
        w.flush()
    w.flush()  # reported once
    w.add_image("a", np.zeros((3, 2, 2)), 1)
    w.close()
    assert [e.step for e in load_run(logdir).Images("a")] == [1]


def test_error_is_raised_by_the_next_media_call_and_that_call_is_kept(
    logdir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = threading.Event()
    real = _media_encode.encode_png

    def fail_once(img: Any) -> bytes:
        if not gate.is_set():
            gate.set()
            raise ValueError("bad")
        return real(img)

    monkeypatch.setattr(_media_encode, "encode_png", fail_once)
    w = xfast.SummaryWriter(logdir)
    w.add_image("a", np.zeros((3, 2, 2)), 0)
    w._media._queue.join()
    with pytest.raises(RuntimeError, match="ValueError: bad"):
        w.add_image("a", np.zeros((3, 2, 2)), 1)
    w.close()
    assert [e.step for e in load_run(logdir).Images("a")] == [1]


def test_close_reports_errors_after_closing_files(
    logdir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(img: Any) -> bytes:
        raise ValueError("bad")

    monkeypatch.setattr(_media_encode, "encode_png", broken)
    w = xfast.SummaryWriter(logdir)
    w.add_scalar("s", 1.0, 3)
    w.add_image("a", np.zeros((3, 2, 2)))
    with pytest.raises(RuntimeError, match="bad"):
        w.close()
    assert w.file_writer is None
    assert [e.step for e in load_run(logdir).Scalars("s")] == [3]


class _File:
    """Stands in for the FileWriter a job writes to."""

    _engine = None


class _Slot:
    """Stands in for an event's reserved place: records what settles it."""

    def __init__(self, out: list[Any], key: Any) -> None:
        self._out, self._key = out, key

    def fill(self, summary: bytes) -> None:
        self._out.append((self._key, summary))

    def fail(self) -> None:
        self._out.append((self._key, None))


def test_queue_is_bounded() -> None:
    worker = MediaWorker(capacity=2, threads=1)
    release = threading.Event()
    done: list[Any] = []

    def build() -> bytes:
        release.wait(10)
        return b""

    for i in range(3):  # one running, two queued
        worker.submit(build, _Slot(done, i), _File())
    blocked = threading.Thread(target=worker.submit, args=(build, _Slot(done, 3), _File()))
    blocked.start()
    blocked.join(0.3)
    assert blocked.is_alive()  # the caller waits rather than growing the queue
    release.set()
    blocked.join(10)
    worker.drain()
    assert done == [(i, b"") for i in range(4)]


def test_jobs_run_in_parallel_and_each_settles_its_own_slot() -> None:
    worker = MediaWorker(threads=3)
    both = threading.Barrier(3, timeout=10)  # passes only if three jobs run at once
    done: list[Any] = []

    def build(i: int) -> bytes:
        both.wait()
        if i == 1:
            raise ValueError("bad")
        return bytes([i])

    for i in range(3):
        worker.submit(lambda i=i: build(i), _Slot(done, i), _File())
    with pytest.raises(RuntimeError, match=r"1 image/video/audio event.*ValueError: bad"):
        worker.drain()
    assert sorted(done, key=lambda d: d[0]) == [(0, b"\x00"), (1, None), (2, b"\x02")]


def test_worker_threads_exit_when_idle_and_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("xfast.media.worker._IDLE_EXIT_S", 0.05)
    worker = MediaWorker()
    out: list[Any] = []
    worker.submit(lambda: b"1", _Slot(out, 1), _File())
    worker.drain()
    deadline = time.time() + 5
    while worker._threads and time.time() < deadline:
        time.sleep(0.01)
    assert worker._threads == 0
    worker.submit(lambda: b"2", _Slot(out, 2), _File())
    worker.drain()
    assert out == [(1, b"1"), (2, b"2")]


def test_snapshot_waits_for_the_device_copy() -> None:
    class FakeEvent:
        synced = 0

        def synchronize(self) -> None:
            FakeEvent.synced += 1

    host = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    snap = _snapshot.Snapshot(host, FakeEvent())
    assert snap.shape == (2, 3) and snap.dtype == np.float32
    np.testing.assert_array_equal(snap.array(), host.numpy())
    snap.array()
    assert FakeEvent.synced == 1


def test_snapshot_copies_and_converts_like_make_np() -> None:
    t = torch.tensor([1.5, 70000.0], dtype=torch.bfloat16)
    snap = _snapshot.snapshot(t)
    assert snap.dtype == np.float16 and np.isinf(snap.array()[1])
    arr = np.ones(3)
    copy = _snapshot.snapshot(arr).array()
    arr[:] = 0
    assert copy.sum() == 3
    with pytest.raises(TypeError):
        _snapshot.snapshot(torch.zeros(2, dtype=torch.complex64))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_tensor_is_copied_without_blocking(logdir: str) -> None:
    t = torch.rand(3, 64, 64, device="cuda")
    snap = _snapshot.snapshot(t)
    assert snap._data.is_pinned()
    np.testing.assert_array_equal(snap.array(), t.cpu().numpy())
    with xfast.SummaryWriter(logdir) as w:
        w.add_image("gpu", t)
    assert len(load_run(logdir).Images("gpu")) == 1


def test_logging_after_close_opens_a_new_file(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir)
    w.add_image("a", np.zeros((3, 2, 2)), 0)
    w.close()
    w.add_image("a", np.zeros((3, 2, 2)), 1)
    w.close()
    assert len(event_files(logdir)) == 2
    assert [e.step for e in load_run(logdir).Images("a")] == [0, 1]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_gets_a_worker_of_its_own(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir)
    w.add_image("a", np.zeros((3, 2, 2)), 0)
    w.flush()
    with warnings.catch_warnings():  # Python 3.12+ warns about forking with threads
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: its own worker thread and its own file
        code = 1
        try:
            w.add_image("a", np.ones((3, 2, 2)), 1)
            w.close()
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    w.add_image("a", np.zeros((3, 2, 2)), 2)
    w.close()
    assert sorted(e.step for e in load_run_all_files(logdir)) == [0, 1, 2]


def load_run_all_files(logdir: str) -> list[Any]:
    """Image events of every event file in `logdir` (the loader reads one file per run)."""
    from tensorboard.backend.event_processing.event_file_loader import LegacyEventFileLoader

    out = []
    for path in event_files(logdir):
        for event in LegacyEventFileLoader(path).Load():
            out += [event for v in event.summary.value if v.HasField("image")]
    return out


def test_pending_media_is_written_at_interpreter_exit(logdir: str) -> None:
    code = (
        "import numpy as np, xfast\n"
        f"w = xfast.SummaryWriter({logdir!r})\n"
        "for i in range(5):\n"
        "    w.add_image('a', np.random.rand(3, 100, 100), i)\n"
    )  # no flush, no close
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert [e.step for e in load_run(logdir).Images("a")] == [0, 1, 2, 3, 4]


def test_threads_share_one_worker_and_keep_their_order(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir)
    start = threading.Barrier(4)

    def log(k: int) -> None:
        start.wait()
        for step in range(20):
            w.add_audio(f"t{k}", np.full(8, k / 10), step)

    threads = [threading.Thread(target=log, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    w.close()
    acc = load_run(logdir)
    for k in range(4):
        assert [e.step for e in acc.Audio(f"t{k}")] == list(range(20))
