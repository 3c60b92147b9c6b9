# SPDX-License-Identifier: Apache-2.0
"""GlobalSummaryWriter (tensorboardX's test_multiprocess_write, restated): steps per tag, and
forked processes whose events all land, once each, in the parent's one event file."""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

import numpy as np
import pytest
from conftest import event_files, load_run
from record_reader import read_events

from xfast.tensorboardX import GlobalSummaryWriter
from xfast.tensorboardX import global_writer as gw

FORK = multiprocessing.get_context("fork")


def _scalars(path: str, tag: str) -> list[tuple[int, float]]:
    return [(e.step, e.summary.value[0].simple_value) for e in read_events(path)
            if e.HasField("summary") and e.summary.value[0].tag == tag]


def test_events_reach_the_file_without_flush(logdir: str) -> None:
    w = GlobalSummaryWriter(logdir, flush_secs=20)
    f = w.file_writer.event_writer._ev_writer._file_name
    for i in range(5):
        w.add_scalar("a", i)
    deadline = time.monotonic() + 2
    while len(read_events(f)) < 6 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _scalars(f, "a") == [(i, float(i)) for i in range(5)]
    w.close()


def test_steps_count_per_tag_and_kind(logdir: str) -> None:
    with GlobalSummaryWriter(logdir) as w:
        for i in range(3):
            w.add_scalar("a", i * 1.5)
            w.add_scalar("b", -i)
            w.add_text("a", f"text {i}")
        w.add_image("a", np.zeros((3, 4, 4)))
        w.add_image("a", np.ones((4, 4, 3)), dataformats="HWC")
    acc = load_run(logdir)
    assert [(e.step, e.value) for e in acc.Scalars("a")] == [(0, 0.0), (1, 1.5), (2, 3.0)]
    assert [e.step for e in acc.Scalars("b")] == [0, 1, 2]
    assert [e.step for e in acc.Tensors("a/text_summary")] == [0, 1, 2]
    assert [e.step for e in acc.Images("a")] == [0, 1]


def _train(w: GlobalSummaryWriter, n: int) -> None:
    for i in range(n):
        w.add_scalar("many_write_in_func", i)
        if i % 10 == 0:
            time.sleep(0.001 * (i % 3))


def test_forked_processes_write_to_the_parent_file(logdir: str) -> None:
    n, procs = 100, 4
    writer = GlobalSummaryWriter(logdir)
    event_filename = writer.file_writer.event_writer._ev_writer._file_name
    writer.add_scalar("many_write_in_func", -1)  # the parent logs too
    processes = [FORK.Process(target=_train, args=(writer, n)) for _ in range(procs)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
        assert p.exitcode == 0
    writer.close()
    assert event_files(logdir) == [event_filename]  # no file of the children's own
    points = _scalars(event_filename, "many_write_in_func")
    assert sorted(s for s, _ in points) == list(range(n * procs + 1))  # each step once
    assert sorted(v for _, v in points) == [-1.0, *sorted(list(range(n)) * procs)]


def test_children_images_and_text(logdir: str) -> None:
    writer = GlobalSummaryWriter(logdir)

    def child() -> None:
        writer.add_text("t", f"from {os.getpid()}")
        writer.add_image("img", np.full((3, 2, 2), 0.5))

    processes = [FORK.Process(target=child) for _ in range(3)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
    writer.close()
    acc = load_run(logdir)
    assert sorted(e.step for e in acc.Images("img")) == [0, 1, 2]
    assert sorted(e.step for e in acc.Tensors("t/text_summary")) == [0, 1, 2]


def test_child_after_parent_closed_fails_without_hanging(logdir: str) -> None:
    writer = GlobalSummaryWriter(logdir)
    writer.close()
    results = FORK.Queue()

    def child() -> None:
        try:
            for _ in range(100_000):  # far more than a pipe buffer holds
                writer.add_scalar("late", 1.0)
            results.put("no error")
        except OSError as e:
            results.put(str(e))

    p = FORK.Process(target=child)
    p.start()
    assert "closed" in results.get(timeout=30)
    p.join(30)


def test_get_summary_writer_is_one_writer(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(gw, "_writer", None)
    a = GlobalSummaryWriter.getSummaryWriter()
    b = GlobalSummaryWriter.getSummaryWriter()
    assert a is b
    a.add_text("my_log", "greeting from global1")
    b.add_text("my_log", "greeting from global2")
    a.close()
    run = os.path.dirname(a.smw.logdir if a.smw is not None else "")
    assert run == "runs"


def test_write_to_disk_false(tmp_path: Any) -> None:
    with GlobalSummaryWriter(str(tmp_path / "none"), write_to_disk=False) as w:
        w.add_scalar("a", 1.0)
        w.add_text("a", "x")
    assert not os.path.exists(tmp_path / "none")
