# SPDX-License-Identifier: Apache-2.0
"""Events land in each file in call order, as torch writes them: every add_* method interleaved
over several steps, through torch.utils.tensorboard and through xfast, the files compared event
by event (wall times aside), while the media encodes run off the caller's thread."""

from __future__ import annotations

import os
import threading
import time
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from conftest import event_files, run_dirs
from record_reader import read_events
from test_media import png_pixels, wav_samples
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import xfast
from xfast.media import encode as _media_encode

pytestmark = pytest.mark.usefixtures("same_width_uids")

RNG = np.random.default_rng(3)
IMG = RNG.random((3, 24, 20)).astype(np.float32)
BATCH = torch.rand(4, 3, 8, 6, generator=torch.Generator().manual_seed(1))
SND = np.sin(np.linspace(0, 40, 800)).reshape(1, -1)
VID = RNG.integers(0, 255, (1, 2, 3, 6, 5), dtype=np.uint8)


def _figure(step: int) -> Any:
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(1.5, 1), dpi=40)
    plt.plot([0, 1, 2], [0, step, 1])
    return fig


def _every_method(writer_class: Any, logdir: str, steps: int = 3) -> None:
    """Every add_* method of torch's SummaryWriter, interleaved, over `steps` steps."""
    w = writer_class(logdir)
    w.add_custom_scalars_multilinechart(["loss", "acc"], category="c", title="t")
    w.add_graph(torch.nn.Linear(3, 2), torch.zeros(1, 3))
    for step in range(steps):
        w.add_image("img", IMG * (step + 1) / steps, step)
        w.add_scalar("loss", 1.0 / (step + 1), step)
        w.add_images("batch", BATCH, step)
        w.add_histogram("hist", np.arange(10.0) * step, step)
        w.add_audio("snd", SND * (step + 1) / steps, step, sample_rate=8000)
        w.add_text("note", f"step {step}", step)
        w.add_image_with_boxes("boxes", IMG, torch.tensor([[1.0, 2, 10, 12]]), step)
        w.add_scalars("pair", {"a": float(step), "b": -float(step)}, step)
        w.add_figure("fig", _figure(step), step)
        w.add_histogram_raw("raw", 0.0, 2.0, 3, 3.0, 5.0, [1.0, 2.0], [1, 2], step)
        w.add_video("vid", VID, step, fps=5)
        w.add_pr_curve("pr", np.array([0, 1, 1, 0]), np.array([0.1, 0.8, 0.6, 0.3]), step)
        w.add_images("nhwc", BATCH.permute(0, 2, 3, 1), step, dataformats="NHWC")
        w.add_pr_curve_raw("prraw", [4, 2], [3, 1], [0, 2], [0, 2], [0.57, 0.67], [1.0, 0.5],
                           step, num_thresholds=2)
        w.add_mesh("mesh", torch.rand(1, 4, 3, generator=torch.Generator().manual_seed(step)),
                   global_step=step)
        w.add_scalar("acc", step / 10, step)
        w.add_embedding(torch.eye(3), global_step=step, tag=f"emb{step}")
    w.add_custom_scalars_marginchart(["loss", "acc", "acc"], category="m", title="t")
    w.add_hparams({"lr": 0.1}, {"hp/acc": 0.5}, run_name="hp")
    w.close()


def _key(event: Any) -> Any:
    """What must match between torch's event and xfast's: everything but the wall time, with
    images compared by their pixels (the PNG bytes differ) and videos by their tag alone
    (without moviepy torch writes an empty value in the video's place)."""
    kind = event.WhichOneof("what")
    if kind != "summary":
        return (event.step, kind) if kind != "file_version" else ("file_version",)
    values = []
    for v in event.summary.value:
        field = v.WhichOneof("value")
        if v.tag == "vid":
            field, content = "video", None
        elif field == "image":
            im = v.image
            content: Any = (im.height, im.width, png_pixels(im.encoded_image_string).tobytes())
        elif field == "audio":
            content = (v.audio.sample_rate, wav_samples(v.audio.encoded_audio_string)[0].tobytes())
        elif field == "histo":
            h = v.histo
            content = (h.min, h.max, h.num, list(h.bucket_limit), list(h.bucket))
        elif field == "tensor":
            content = v.tensor.SerializeToString()
        else:
            content = getattr(v, field) if field else None
        values.append((v.tag, field, content))
    return (event.step, kind, values)


def _file_keys(run_dir: str) -> list[Any]:
    (path,) = event_files(run_dir)
    return [_key(e) for e in read_events(path)]


def test_every_method_interleaved_lands_in_call_order_like_torch(tmp_path: Any) -> None:
    tdir, xdir = str(tmp_path / "torch"), str(tmp_path / "xfast")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's own deprecation warnings (jit.trace, ...)
        _every_method(TorchWriter, tdir)
    _every_method(xfast.SummaryWriter, xdir)
    runs = run_dirs(tdir)
    assert run_dirs(xdir) == runs and len(runs) >= 4  # main, add_scalars' two, hparams
    for run in runs:
        theirs = _file_keys(os.path.join(tdir, run))
        ours = _file_keys(os.path.join(xdir, run))
        assert len(ours) == len(theirs), run
        for i, (a, b) in enumerate(zip(ours, theirs)):
            assert a == b, (run, i)


def test_a_slow_encode_holds_later_events_back_but_not_the_caller(
    logdir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real = _media_encode.encode_png

    def slow_first(img: Any) -> bytes:
        if not release.is_set():
            release.wait(10)
        return real(img)

    monkeypatch.setattr(_media_encode, "encode_png", slow_first)
    w = xfast.SummaryWriter(logdir)
    w.add_image("img", IMG, 0)  # its encode waits for `release`
    w.add_scalar("loss", 1.0, 0)
    w.add_image("img", IMG, 1)
    w.add_scalar("loss", 2.0, 1)
    time.sleep(0.2)  # longer than the writer thread's latency bound
    path = w.file_writer.path if w.file_writer else ""
    assert [e.WhichOneof("what") for e in read_events(path)] == ["file_version"]
    release.set()
    w.flush()
    kinds = [
        (e.step, e.summary.value[0].WhichOneof("value")) for e in read_events(path)[1:]
    ]
    assert kinds == [(0, "image"), (0, "simple_value"), (1, "image"), (1, "simple_value")]
    w.close()


def test_a_failed_encode_leaves_its_event_out_and_keeps_the_rest_in_order(
    logdir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = _media_encode.encode_png

    def fail_step_one(img: Any) -> bytes:
        if img.shape[0] == 7:
            raise ValueError("bad image")
        return real(img)

    monkeypatch.setattr(_media_encode, "encode_png", fail_step_one)
    w = xfast.SummaryWriter(logdir)
    for step in range(3):
        shape = (3, 7 if step == 1 else 5, 5)
        w.add_image("img", np.zeros(shape), step)
        w.add_scalar("loss", float(step), step)
    with pytest.raises(RuntimeError, match=r"1 image/video/audio event.*ValueError: bad image"):
        w.close()
    (path,) = event_files(logdir)
    kinds = [(e.step, e.summary.value[0].WhichOneof("value")) for e in read_events(path)[1:]]
    assert kinds == [(0, "image"), (0, "simple_value"), (1, "simple_value"),
                     (2, "image"), (2, "simple_value")]


def test_media_on_a_full_ring_in_drop_mode_is_dropped_before_its_encode(
    logdir: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    encodes = []
    real = _media_encode.encode_png
    release = threading.Event()

    def counted(img: Any) -> bytes:
        encodes.append(1)
        release.wait(10)
        return real(img)

    monkeypatch.setattr(_media_encode, "encode_png", counted)
    w = xfast.SummaryWriter(logdir, queue_capacity=4, on_full="drop")
    w.add_image("img", IMG, 0)  # holds the writer thread until `release`
    for step in range(1, 40):
        w.add_scalar("loss", float(step), step)
        w.add_image("img", IMG, step)
    release.set()
    w.close()
    stats = w.stats()
    images = [e for e in read_events(event_files(logdir)[0]) if e.HasField("summary")
              and e.summary.value[0].HasField("image")]
    assert stats["dropped"] > 0
    assert len(encodes) == len(images) < 40  # a dropped call was never encoded
    assert [e.step for e in images] == sorted(e.step for e in images)


def test_media_call_on_a_closed_engine_raises_at_the_call(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir)
    fw = w._get_file_writer()
    fw._live_engine().close()
    with pytest.raises(OSError, match="Writer is closed"):
        w.add_image("img", IMG, 0)
    w.close()


def test_unsettled_handle_dropped_releases_its_place(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir)
    engine = w._get_file_writer()._live_engine()
    w.add_scalar("a", 1.0, 0)
    slot = engine.reserve_summary(1, None)
    assert slot is not None and not slot.settled
    w.add_scalar("a", 2.0, 2)
    del slot  # nobody will fill it: the writer thread must not wait forever
    w.close()
    (path,) = event_files(logdir)
    assert [e.step for e in read_events(path)[1:]] == [0, 2]
