# SPDX-License-Identifier: Apache-2.0
"""Remote log directories: segments uploaded through fsspec, read back by TensorBoard's loader.

fsspec's in-process memory filesystem covers the layout; a local moto S3 server covers s3://,
read back with TensorBoard's own S3 support (boto3), which needs no TensorFlow.
"""

from __future__ import annotations

import os
import struct
import sys
import time
from typing import Any

import pytest
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

import xfast

fsspec = pytest.importorskip("fsspec")


def _load(url: str) -> Any:
    acc = ea.EventAccumulator(url, size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.TENSORS: 0})
    acc.Reload()
    return acc


def _log(w: Any, steps: range) -> None:
    for s in steps:
        w.add_scalar("loss", 1.0 / (s + 1), s)
        w.add_histogram("h", [float(s), 2.0 * s + 1, -3.0], s)
        w.add_text("note", f"step {s}", s)


def _same_run(got: Any, want: Any) -> None:
    assert got.Tags()["scalars"] == want.Tags()["scalars"]
    assert [(e.step, e.value) for e in got.Scalars("loss")] == [
        (e.step, e.value) for e in want.Scalars("loss")
    ]
    assert [(e.step, e.histogram_value) for e in got.Histograms("h")] == [
        (e.step, e.histogram_value) for e in want.Histograms("h")
    ]
    assert [(e.step, e.tensor_proto) for e in got.Tensors("note/text_summary")] == [
        (e.step, e.tensor_proto) for e in want.Tensors("note/text_summary")
    ]


@pytest.fixture
def memfs() -> Any:
    fs = fsspec.filesystem("memory")
    root = f"/xfast-test-{os.getpid()}-{time.monotonic_ns()}"
    yield fs, root
    fs.rm(root, recursive=True)


def test_memory_url_segments_match_local_run(memfs: Any, tmp_path: Any) -> None:
    fs, root = memfs
    local = xfast.SummaryWriter(str(tmp_path / "local"))
    remote = xfast.SummaryWriter(f"memory://{root}/run", filename_suffix=".x")
    for w in (local, remote):
        _log(w, range(3))
        w.flush()
        _log(w, range(3, 5))
        w.flush()
        w.flush()  # nothing new: no empty segment
        _log(w, range(5, 6))
        w.close()
    names = sorted(fs.ls(f"{root}/run", detail=False))
    assert len(names) == 3
    assert [n[-11:] for n in names] == [f".{i:08d}.x"[-11:] for i in range(3)]
    _same_run(_load(f"memory://{root}/run"), _load(str(tmp_path / "local")))

    # Each object is an event file on its own: it starts with the file's first record and holds
    # whole records; without the repeated first records, they hold the local file's events.
    blobs = [fs.cat_file(n) for n in names]
    header = blobs[0][: 12 + struct.unpack("<Q", blobs[0][:8])[0] + 4]
    for i, blob in enumerate(blobs):
        assert blob.startswith(header)
        events = _events(tmp_path / f"seg{i}", blob)
        assert events[0].file_version == "brain.Event:2" and len(events) > 1
    rest = [b[len(header):] for b in blobs[1:]]
    joined = _events(tmp_path / "joined", b"".join([blobs[0], *rest]))
    (local_file,) = os.listdir(tmp_path / "local")
    assert joined == _events(tmp_path / "copy", (tmp_path / "local" / local_file).read_bytes())


def _events(path: Any, data: bytes) -> list[Any]:
    """The events in `data`, wall times cleared (two writers never share them)."""
    path.write_bytes(data)
    events = list(EventFileLoader(str(path)).Load())
    for e in events:
        e.wall_time = 0
    return events


def test_background_upload_without_flush(memfs: Any) -> None:
    fs, root = memfs
    w = xfast.SummaryWriter(f"memory://{root}/bg", flush_secs=0.05)
    _log(w, range(3))
    url = f"memory://{root}/bg"

    def steps_visible() -> int:
        if not fs.exists(f"{root}/bg"):
            return 0
        run = _load(url)
        return len(run.Scalars("loss")) if "loss" in run.Tags()["scalars"] else 0

    deadline = time.monotonic() + 10
    while steps_visible() < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert steps_visible() == 3
    spool_dir = os.path.dirname(w.file_writer.path)
    w.close()
    assert not os.path.exists(spool_dir)


def test_failed_upload_raises_then_retries(memfs: Any, monkeypatch: Any) -> None:
    _, root = memfs
    w = xfast.SummaryWriter(f"memory://{root}/retry", flush_secs=3600)
    _log(w, range(2))
    spool = w.file_writer._spool
    real = spool._fs.pipe_file

    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("store unreachable")

    monkeypatch.setattr(spool._fs, "pipe_file", broken)
    with pytest.raises(OSError, match="store unreachable"):
        w.flush()
    monkeypatch.setattr(spool._fs, "pipe_file", real)
    _log(w, range(2, 4))
    w.close()
    assert [e.step for e in _load(f"memory://{root}/retry").Scalars("loss")] == [0, 1, 2, 3]


def test_missing_fsspec_is_a_clear_error(monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(ImportError, match="fsspec"):
        xfast.SummaryWriter("s3://bucket/run")


@pytest.fixture
def s3(monkeypatch: Any) -> Any:
    s3fs = pytest.importorskip("s3fs")
    boto3 = pytest.importorskip("boto3")
    moto_server = pytest.importorskip("moto.server")
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint,
        "S3_ENDPOINT": endpoint,  # what TensorBoard's own S3 reader reads
    }.items():
        monkeypatch.setenv(k, v)
    s3fs.S3FileSystem.clear_instance_cache()  # a cached instance would keep an old endpoint
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="logs")
    yield boto3.client("s3", endpoint_url=endpoint)
    server.stop()


def test_s3_run_reads_back_in_tensorboard(s3: Any, tmp_path: Any) -> None:
    remote = xfast.SummaryWriter("s3://logs/exp/run", purge_step=0)
    local = xfast.SummaryWriter(str(tmp_path / "local"), purge_step=0)
    for w in (local, remote):
        _log(w, range(4))
        w.flush()
        _log(w, range(4, 6))
        w.close()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="logs", Prefix="exp/run/")["Contents"]]
    assert len(keys) == 2 and keys == sorted(keys)
    _same_run(_load("s3://logs/exp/run"), _load(str(tmp_path / "local")))
