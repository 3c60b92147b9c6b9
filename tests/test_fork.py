# SPDX-License-Identifier: Apache-2.0
"""fork() with a live writer: the parent's file stays exact, a child never hangs and never
touches the parent's file, and a child that logs gets a file of its own.

Behaviour (documented in FileWriter): at fork, the child's copy of each writer forgets the
parent's writer thread and file descriptor (os.register_at_fork); its first event opens a new
file named with the child's pid. flush()/close() in a child that never logged do nothing.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import traceback
from typing import Callable

import numpy as np
import pytest
from conftest import event_files, load_run
from strict_reader import read_records, scalar_points

import xfast

# Python >= 3.12 warns about fork() in a threaded process; forking with live threads is the
# point of these tests.
pytestmark = pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")

CHILD_DEADLINE_S = 30.0  # a child still running after this is deadlocked


def _fork(child: Callable[[], None]) -> int:
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            child()
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)  # never run the parent's pytest teardown in the child
    return pid


def _wait(pid: int) -> int:
    deadline = time.monotonic() + CHILD_DEADLINE_S
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("forked child deadlocked")
        time.sleep(0.005)


def _own_files(logdir: str, pid: int) -> list[str]:
    return [p for p in event_files(logdir) if f".{pid}." in os.path.basename(p)]


def _steps(path: str, tag: str) -> list[int]:
    rf = read_records(path)
    assert rf.tail_bytes == 0
    return [s for s, _ in scalar_points(rf.events(), tag)]


def test_child_that_logs_gets_its_own_file(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir)
    for i in range(100):
        w.add_scalar("parent", float(i), i)

    def child() -> None:
        for i in range(50):
            w.add_scalar("child", float(i), i)
        w.flush()
        w.close()

    pid = _fork(child)
    for i in range(100, 200):
        w.add_scalar("parent", float(i), i)
    assert _wait(pid) == 0
    w.close()
    (parent_file,) = _own_files(logdir, os.getpid())
    (child_file,) = _own_files(logdir, pid)
    assert _steps(parent_file, "parent") == list(range(200))
    assert _steps(parent_file, "child") == []
    assert _steps(child_file, "child") == list(range(50))
    assert _steps(child_file, "parent") == []
    acc = load_run(logdir)
    assert len(acc.Scalars("parent")) == 200 and len(acc.Scalars("child")) == 50


def test_child_that_does_not_log_creates_nothing(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir)
    w.add_scalar("parent", 1.0, 0)

    def child() -> None:
        w.flush()
        w.close()

    pid = _fork(child)
    assert _wait(pid) == 0
    w.add_scalar("parent", 2.0, 1)
    w.close()
    assert _own_files(logdir, pid) == []
    assert _steps(_own_files(logdir, os.getpid())[0], "parent") == [0, 1]


def _fork_under_load(
    logdir: str, forks: int, parent_work: Callable[[xfast.SummaryWriter, threading.Event], None]
) -> None:
    """Forks `forks` children while `parent_work` threads keep the writer busy; each child logs
    to its own file and exits. Checks every file exactly."""
    w = xfast.SummaryWriter(logdir)
    stop = threading.Event()
    logged = [0]

    def logger() -> None:
        i = 0
        while not stop.is_set():
            w.add_scalar("bg", float(i), i)
            i += 1
        logged[0] = i

    threads = [
        threading.Thread(target=logger),
        threading.Thread(target=parent_work, args=(w, stop)),
    ]
    for t in threads:
        t.start()
    pids = []
    for k in range(forks):
        def child(k: int = k) -> None:
            for i in range(20):
                w.add_scalar("child", float(k), i)
            w.add_histogram("child_h", np.arange(1000, dtype=np.float32), k)
            w.close()
        time.sleep(0.003)
        pids.append(_fork(child))
    codes = [_wait(pid) for pid in pids]
    stop.set()
    for t in threads:
        t.join()
    w.close()
    assert codes == [0] * forks
    (parent_file,) = _own_files(logdir, os.getpid())
    assert _steps(parent_file, "bg") == list(range(logged[0]))
    assert _steps(parent_file, "child") == []
    for pid in pids:
        (child_file,) = _own_files(logdir, pid)
        rf = read_records(child_file)
        assert [s for s, _ in scalar_points(rf.events(), "child")] == list(range(20))
        assert scalar_points(rf.events(), "bg") == []


def test_fork_while_another_thread_logs_heavily(logdir: str) -> None:
    _fork_under_load(logdir, 10, lambda w, stop: None)


def test_fork_while_flush_in_progress(logdir: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A slow disk (2 ms per batch write) keeps flushes in flight while the forks happen.
    monkeypatch.setenv("XFAST_TEST_WRITE_DELAY_US", "2000")

    def flusher(w: xfast.SummaryWriter, stop: threading.Event) -> None:
        while not stop.is_set():
            w.flush()

    _fork_under_load(logdir, 10, flusher)


def test_fork_while_histograms_run_on_the_pool(logdir: str) -> None:
    data = np.random.default_rng(0).standard_normal(2_000_000).astype(np.float32)

    def histograms(w: xfast.SummaryWriter, stop: threading.Event) -> None:
        i = 0
        while not stop.is_set():
            w.add_histogram("big", data, i)
            i += 1

    _fork_under_load(logdir, 6, histograms)


def test_grandchild_and_close_in_parent_after_fork(logdir: str) -> None:
    # A child forks again; each generation writes its own file; the parent closes normally.
    w = xfast.SummaryWriter(logdir)
    w.add_scalar("gen", 0.0, 0)

    def child() -> None:
        w.add_scalar("gen", 1.0, 1)

        def grandchild() -> None:
            w.add_scalar("gen", 2.0, 2)
            w.close()

        assert _wait(_fork(grandchild)) == 0
        w.close()

    pid = _fork(child)
    assert _wait(pid) == 0
    w.close()
    files = event_files(logdir)
    assert len(files) == 3
    assert sorted(s for f in files for s in _steps(f, "gen")) == [0, 1, 2]


def test_dataloader_fork_workers(logdir: str) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.data import DataLoader, Dataset

    w = xfast.SummaryWriter(logdir)

    class Logged(Dataset):  # type: ignore[type-arg]
        def __len__(self) -> int:
            return 64

        def __getitem__(self, i: int) -> int:
            w.add_scalar("item", float(i), i)  # in a worker: its own file
            return i

    loader = DataLoader(Logged(), batch_size=4, num_workers=2, multiprocessing_context="fork")
    seen = []
    for epoch in range(2):
        for step, batch in enumerate(loader):
            seen.extend(batch.tolist())
            w.add_scalar("loss", float(step), epoch * 100 + step)
    w.close()
    assert sorted(seen) == sorted(list(range(64)) * 2)
    me = os.getpid()
    parent_files = _own_files(logdir, me)
    worker_files = [f for f in event_files(logdir) if f not in parent_files]
    assert len(parent_files) == 1
    assert len(worker_files) == 4  # 2 workers x 2 epochs, each closed at worker exit
    assert _steps(parent_files[0], "loss") == [e * 100 + s for e in range(2) for s in range(16)]
    items = sorted(s for f in worker_files for s in _steps(f, "item"))
    assert items == sorted(list(range(64)) * 2)
    assert _steps(parent_files[0], "item") == []
    del torch


_KEPT: list[xfast.SummaryWriter] = []


def _own_writer_no_close(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir)
    _KEPT.append(w)  # alive at exit, as a global writer would be (a dropped one closes itself)
    for i in range(1000):
        w.add_scalar("x", float(i), i)
    # no close(): the process leaves through os._exit, closed by multiprocessing's finalizers


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_multiprocessing_child_with_its_own_unclosed_writer(
    logdir: str, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing

    # A slow disk (50 ms per batch) keeps events queued when the child's target returns.
    monkeypatch.setenv("XFAST_TEST_WRITE_DELAY_US", "50000")

    p = multiprocessing.get_context(method).Process(target=_own_writer_no_close, args=(logdir,))
    p.start()
    p.join(CHILD_DEADLINE_S)
    assert p.exitcode == 0
    (path,) = event_files(logdir)
    assert _steps(path, "x") == list(range(1000))
