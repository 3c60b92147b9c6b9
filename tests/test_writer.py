# SPDX-License-Identifier: Apache-2.0
"""SummaryWriter and FileWriter semantics: names, directories, flush/close/reopen, stats, errors."""

from __future__ import annotations

import os
import pathlib
import re
import socket
import time
from datetime import datetime
from typing import Any

import numpy as np
import pytest
import torch
import torch.utils.tensorboard
from conftest import event_files, load_run
from record_reader import read_events
from tensorboard.compat.proto import event_pb2
from torch.utils.tensorboard import summary as tsummary

import xfast

TorchWriter = torch.utils.tensorboard.SummaryWriter

pytestmark = pytest.mark.usefixtures("same_width_uids")


def _all_event_files(logdir: str) -> list[str]:
    return sorted(os.path.join(d, f) for d, _, fs in os.walk(logdir) for f in fs if "tfevents" in f)


# --- file names and directories -----------------------------------------------------------------

def test_file_name_pattern_and_uids(tmp_path: Any) -> None:
    t0 = int(time.time())
    w = xfast.SummaryWriter(str(tmp_path), filename_suffix=".sfx")
    w.add_scalars("g", {"a": 1.0, "b": 2.0}, 0)
    w.close()
    w.add_scalar("x", 1.0, 0)  # a new file after close
    w.close()
    t1 = int(time.time())
    host = re.escape(socket.gethostname())
    pattern = re.compile(rf"events\.out\.tfevents\.(\d{{10}})\.{host}\.{os.getpid()}\.(\d+)\.sfx")
    paths = _all_event_files(str(tmp_path))
    assert len(paths) == 4
    uid_of = {}
    for p in paths:
        m = pattern.fullmatch(os.path.basename(p))
        assert m, p
        assert t0 <= int(m.group(1)) <= t1
        uid_of[p] = int(m.group(2))
    uids = sorted(uid_of.values())
    assert uids == list(range(uids[0], uids[0] + 4))  # unique: one process-wide counter
    # The main file is created first and the file opened after close() last.
    assert sorted(uid_of[p] for p in event_files(str(tmp_path))) == [uids[0], uids[3]]


def test_default_log_dir(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    host = re.escape(socket.gethostname())
    for cls in (TorchWriter, xfast.SummaryWriter):
        for kwargs, suffix in (({}, ""), ({"comment": "_lr0.1"}, "_lr0.1"),
                               ({"log_dir": "", "comment": "-c"}, "-c")):
            t0 = datetime.now().replace(microsecond=0)
            w = cls(**kwargs)
            t1 = datetime.now()
            w.close()
            log_dir = w.log_dir
            stamp_re = r"([A-Z][a-z]{2}\d{2}_\d{2}-\d{2}-\d{2})"  # %b%d_%H-%M-%S
            m = re.fullmatch(rf"runs/{stamp_re}_{host}{re.escape(suffix)}", log_dir)
            assert m, (cls, log_dir)
            stamp = datetime.strptime(m.group(1), "%b%d_%H-%M-%S").replace(year=t0.year)
            assert t0 <= stamp <= t1, (stamp, t0, t1)
            assert len(event_files(log_dir)) >= 1
            assert w.get_logdir() == log_dir


def test_log_dir_path_kept_as_given(tmp_path: Any) -> None:
    # torch keeps a Path as log_dir and returns it from get_logdir(); the file writers get str.
    for cls in (TorchWriter, xfast.SummaryWriter):
        given = tmp_path / cls.__module__.split(".")[0]
        w = cls(given)
        w.add_scalars("g", {"a": 1.0}, 0)
        assert w.log_dir is given
        assert w.get_logdir() == given
        assert type(w.get_logdir()) is type(given)
        assert w._get_file_writer().get_logdir() == str(given)
        assert sorted(w.all_writers) == [str(given), str(given) + "/g_a"]
        w.close()
        assert len(event_files(str(given))) == 1


def test_logdir_alias(tmp_path: Any) -> None:
    w = xfast.SummaryWriter(logdir=str(tmp_path / "a"))
    w.close()
    assert w.logdir == w.log_dir == str(tmp_path / "a")
    assert len(event_files(str(tmp_path / "a"))) == 1


# --- flush, close, reopen -----------------------------------------------------------------------

def test_flush_is_a_barrier(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir, queue_capacity=1024)
    rng = np.random.default_rng(0)
    try:
        total = 0
        for rnd in range(3):
            for i in range(5000):
                w.add_scalar("s", float(i), total + i)
            total += 5000
            w.add_scalars("g", {"a": float(rnd)}, rnd)
            w.add_histogram("h", rng.standard_normal(300000), rnd)
            w.add_text("t", "x" * 10000, rnd)
            w.flush()
            acc = load_run(logdir)
            assert len(acc.Scalars("s")) == total
            assert [e.step for e in acc.Histograms("h")] == list(range(rnd + 1))
            assert len(acc.Tensors("t/text_summary")) == rnd + 1
            assert len(load_run(os.path.join(logdir, "g_a")).Scalars("g")) == rnd + 1
    finally:
        w.close()


def test_close_is_idempotent_and_logging_reopens(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir, purge_step=2)
    w.add_scalar("a", 1.0, 2)
    w.close()
    w.close()
    w.flush()  # a closed writer has nothing to flush
    assert len(event_files(logdir)) == 1
    w.add_scalar("a", 2.0, 3)  # opens a new file, without the purge events (torch: once)
    w.close()
    files = event_files(logdir)
    assert len(files) == 2
    second = read_events(files[1])
    assert [e.WhichOneof("what") for e in second] == ["file_version", "summary"]
    assert [(e.step, e.value) for e in load_run(logdir).Scalars("a")] == [(2, 1.0), (3, 2.0)]


def test_file_writer_after_close_raises_and_reopens(logdir: str, tmp_path: Any) -> None:
    summ = tsummary.scalar("p", 1.0)
    tw = TorchWriter(str(tmp_path / "torch"))
    tfw = tw._get_file_writer()
    tw.close()
    with pytest.raises(OSError, match="Writer is closed"):
        tfw.add_summary(summ)
    w = xfast.SummaryWriter(logdir)
    fw = w._get_file_writer()
    fw.add_summary(summ, 1)
    w.close()
    for call in (lambda: fw.add_summary(summ, 2), lambda: fw.add_event(event_pb2.Event()),
                 fw.flush):
        with pytest.raises(OSError, match="Writer is closed"):
            call()
    fw.close()  # still a no-op
    fw.reopen()
    fw.reopen()  # open already: nothing happens
    fw.add_summary(summ, 3)
    fw.close()
    assert len(event_files(logdir)) == 2
    assert [e.step for e in load_run(logdir).Scalars("p")] == [1, 3]


# --- stats --------------------------------------------------------------------------------------

def test_stats_counters(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir, queue_capacity=100)
    s0 = w.stats()
    assert s0["events_written"] == 1  # the file_version header
    assert s0["capacity"] >= 100 and s0["dropped"] == 0 and s0["lost"] == 0
    for i in range(500):
        w.add_scalar("a", float(i), i)
    w.add_scalars("g", {"x": 1.0, "y": 2.0}, 0)
    w.flush()
    s1 = w.stats()
    sizes = sum(os.path.getsize(p) for p in _all_event_files(logdir))
    assert s1["events_written"] == 1 + 500 + 2 * 2  # each add_scalars run has its header
    assert s1["bytes_written"] == sizes
    assert 0 < s1["high_water"] <= s1["capacity"]
    w.close()
    w.add_scalar("a", 1.0, 600)  # a new file: the counters keep the closed files' totals
    w.close()
    s2 = w.stats()
    assert s2["events_written"] == s1["events_written"] + 2
    assert s2["bytes_written"] == sum(os.path.getsize(p) for p in _all_event_files(logdir))


def test_stats_after_close_count_everything(logdir: str) -> None:
    # close() drains the ring: the counters read after it include what was still queued.
    w = xfast.SummaryWriter(logdir)
    fw = w._get_file_writer()
    for i in range(16000):
        w.add_text("t", "x" * 100, i)
    w.close()
    assert fw.stats()["events_written"] == 16001
    assert w.stats()["events_written"] == 16001
    assert w.stats()["bytes_written"] == os.path.getsize(event_files(logdir)[0])


def test_drop_policy_counts_exactly(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir, queue_capacity=2, on_full="drop")
    logged = 0
    # Producing faster than the writer thread drains a 2-slot ring drops records; keep going
    # (bounded) until some were dropped, so the accounting below is exercised.
    while logged < 2_000_000 and (logged == 0 or w.stats()["dropped"] == 0):
        for _ in range(20000):
            w.add_scalar("s", float(logged), logged)
            logged += 1
    w.flush()
    stats = w.stats()
    w.close()
    assert stats["dropped"] > 0
    written = stats["events_written"] - 1  # minus the header
    assert written + stats["dropped"] == logged
    got = load_run(logdir).Scalars("s")
    assert len(got) == written
    steps = [e.step for e in got]
    assert steps == sorted(steps) and len(set(steps)) == len(steps)  # order kept, no duplicates
    assert all(e.value == float(e.step) for e in got)


def test_constructor_validates_options(tmp_path: Any) -> None:
    with pytest.raises(ValueError):
        xfast.SummaryWriter(str(tmp_path), on_full="sometimes")
    with pytest.raises(ValueError):
        xfast.SummaryWriter(str(tmp_path), queue_capacity=1)


# --- bad input ----------------------------------------------------------------------------------

BAD_CALLS = [
    ("add_scalar", (1, 1.0), TypeError, None),
    ("add_scalar", (None, 1.0), TypeError, None),
    ("add_scalar", (b"bytes", 1.0), TypeError, None),
    ("add_scalar", ("bad", None), TypeError, None),
    ("add_scalar", ("bad", "1.0"), TypeError, None),
    ("add_scalar", ("bad", object()), TypeError, None),
    ("add_scalar", ("bad", [1.0, 2.0]), ValueError, None),
    ("add_scalar", ("bad", np.array([1.0, 2.0])), ValueError, None),
    ("add_scalar", ("bad", torch.tensor([1.0, 2.0])), ValueError, None),
    ("add_scalar", ("bad", np.array([], dtype=np.float32)), ValueError, None),
    ("add_scalar", ("bad", np.array(["a"])), TypeError, None),
    ("add_histogram", ("bad", np.array([])), ValueError, "no element"),
    ("add_histogram", ("bad", torch.tensor([])), ValueError, "no element"),
    ("add_histogram", ("bad", np.array([]), 0, "auto"), ValueError, "no element"),
    ("add_histogram", ("bad", np.arange(3.0), 0, "tensorflow", None, 0), ValueError, "max_bins"),
    ("add_histogram", ("bad", np.arange(3.0), 0, "tensorflow", None, -5), ValueError, "max_bins"),
    ("add_histogram", ("bad", np.array(["a", "b"])), TypeError, None),
    ("add_histogram", ("bad", np.array([1 + 2j])), TypeError, None),
    ("add_histogram", (3, np.arange(3.0)), TypeError, None),
    ("add_histogram_raw", ("bad", 0, 1, 1, 1, 1, [1.0, 2.0], [1.0]), ValueError,
     re.escape("len(bucket_limits) != len(bucket_counts), see the document.")),
    ("add_text", ("bad", 5), TypeError, None),
    ("add_text", ("bad", b"bytes"), TypeError, None),
    ("add_text", (5, "text"), TypeError, None),
]


@pytest.mark.parametrize("method,args,exc,match", BAD_CALLS,
                         ids=[f"{m}-{i}" for i, (m, *_) in enumerate(BAD_CALLS)])
def test_bad_input_raises_and_writer_keeps_working(logdir: str, method: str, args: tuple,
                                                   exc: type, match: Any) -> None:
    w = xfast.SummaryWriter(logdir)
    w.add_scalar("good", 1.0, 0)
    with pytest.raises(exc, match=match):
        getattr(w, method)(*args)
    w.add_scalar("good", 2.0, 1)
    w.add_histogram("good_h", np.arange(5.0), 1)
    w.add_text("good_t", "fine", 1)
    w.close()
    acc = load_run(logdir)
    assert acc.Tags()["scalars"] == ["good"]
    assert [(e.step, e.value) for e in acc.Scalars("good")] == [(0, 1.0), (1, 2.0)]
    assert acc.Tags()["histograms"] == ["good_h"]
    assert acc.Tags()["tensors"] == ["good_t/text_summary"]


def test_raw_bucket_message_matches_torch(tmp_path: Any) -> None:
    args = ("r", 0, 1, 1, 1, 1, [1.0, 2.0], [1.0])
    with TorchWriter(str(tmp_path / "t")) as tw, pytest.raises(ValueError) as want:
        tw.add_histogram_raw(*args)
    with xfast.SummaryWriter(str(tmp_path / "x")) as xw, pytest.raises(ValueError) as got:
        xw.add_histogram_raw(*args)
    assert str(got.value) == str(want.value)


def test_logging_after_close_with_path(tmp_path: Any) -> None:
    w = xfast.SummaryWriter(pathlib.Path(tmp_path) / "p")
    w.close()
    w.add_text("t", "again", 0)
    w.close()
    assert [e.step for e in load_run(str(tmp_path / "p")).Tensors("t/text_summary")] == [0]
