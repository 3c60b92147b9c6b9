# SPDX-License-Identifier: Apache-2.0
"""xfast.SummaryReader against tbparse (frames: columns, dtypes, values, order) and TensorBoard's
EventAccumulator (values), over logdirs written by torch, tensorboardX and xfast."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest
import tbparse
from conftest import load_run

import xfast
from xfast.reader import HistogramArrays, SummaryReader

# tbparse (the oracle) still uses pandas features that pandas 3 deprecates.
pytestmark = [
    pytest.mark.filterwarnings("ignore:The inplace keyword:Warning"),
    pytest.mark.filterwarnings("ignore:Converting a Series or array of length 1:Warning"),
]

FRAMES = ("scalars", "tensors", "histograms", "text", "hparams")
EXTRAS = (
    None,
    {"wall_time", "dir_name", "file_name"},
    {"dir_name", "min", "max", "num", "sum", "sum_squares"},
)


def _writer(lib: str) -> Callable[[str], Any]:
    if lib == "torch":
        from torch.utils.tensorboard import SummaryWriter as TorchWriter

        return TorchWriter
    if lib == "tensorboardX":
        from tensorboardX import SummaryWriter as XWriter

        return XWriter
    return xfast.SummaryWriter


def _write_logdir(lib: str, root: str) -> None:
    """Two runs with every event type a writer makes: scalars (simple and tensor), several tags
    per step, histograms (bucket counts that change and one that does not), text, images,
    audio, a non-scalar tensor (pr curve), hparams, a step logged twice and a run with two
    files."""
    import torch

    make = _writer(lib)
    rng = np.random.default_rng(0)
    w = make(os.path.join(root, "a"))
    for step in range(30):
        w.add_scalar("loss", 1.0 / (step + 1), step)
        w.add_scalar("lr", 0.1 * 0.9**step, step)
        if step % 10 == 0:
            w.add_histogram("weights", rng.standard_normal(200), step)  # widths differ
            w.add_histogram("steady", np.arange(1.0, 11.0), step)  # one width
            w.add_text("notes", f"step {step}: ok", step)
            w.add_image("img", rng.integers(0, 255, (3, 4, 5), dtype=np.uint8), step)
            if lib != "tensorboardX":  # its add_audio needs the soundfile package
                w.add_audio("tone", torch.sin(torch.arange(800.0) / 10).reshape(1, -1), step)
            w.add_pr_curve("pr", rng.integers(0, 2, 50), rng.random(50), step)
    w.add_scalar("loss", 9.0, 29)  # the same step twice
    if lib != "tensorboardX":  # tensorboardX's add_scalar has no new_style
        w.add_scalar("tensor_scalar", 2.5, 1, new_style=True)
    run_name = {"name" if lib == "tensorboardX" else "run_name": "hp"}
    w.add_hparams({"lr": 0.1, "opt": "adam", "bn": True}, {"hp/acc": 0.9}, **run_name)
    w.close()
    for part in range(2):  # one run, two files
        w = make(os.path.join(root, "b"), filename_suffix=f".{part}")
        for step in range(part * 5, part * 5 + 5):
            w.add_scalar("loss", float(step), step)
        w.close()


@pytest.fixture(scope="module", params=["torch", "tensorboardX", "xfast"])
def written(request: Any, tmp_path_factory: Any) -> str:
    root = str(tmp_path_factory.mktemp(f"logdir-{request.param}"))
    _write_logdir(request.param, root)
    return root


def _assert_frames_equal(ours: pd.DataFrame, theirs: pd.DataFrame, what: str) -> None:
    assert list(ours.columns) == list(theirs.columns), what
    assert list(ours.dtypes) == list(theirs.dtypes), what
    assert len(ours) == len(theirs), what
    for col in ours.columns:
        for i, (a, b) in enumerate(zip(ours[col], theirs[col])):
            if isinstance(a, (np.ndarray, list)) or isinstance(b, (np.ndarray, list)):
                assert len(a) == len(b), (what, col, i)
                assert all(
                    np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True)
                    for x, y in zip(a, b)
                ), (what, col, i)
            elif isinstance(a, float) and np.isnan(a):
                assert isinstance(b, float) and np.isnan(b), (what, col, i)
            else:
                assert a == b and type(a) is type(b), (what, col, i, a, b)


@pytest.mark.parametrize("extra", EXTRAS, ids=["plain", "files", "histogram-stats"])
def test_frames_equal_tbparse(written: str, extra: Any) -> None:
    ours = SummaryReader(written, extra_columns=extra)
    theirs = tbparse.SummaryReader(written, extra_columns=extra)
    for kind in FRAMES:
        frame = getattr(ours, kind)
        assert len(frame) > 0, kind
        _assert_frames_equal(frame, getattr(theirs, kind), kind)


def _write_tf2_logdir(root: str) -> None:
    """What TensorFlow 2's tf.summary (and Keras's TensorBoard callback on TensorFlow) writes:
    scalars as float32 tensors, histograms as [k, 3] tensors and text as string tensors, each
    with its plugin's metadata, made by TensorBoard's own summary_v2 functions (no TensorFlow)."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.plugins.histogram.summary_v2 import histogram_pb
    from tensorboard.plugins.scalar.summary_v2 import scalar_pb
    from tensorboard.plugins.text.summary_v2 import text_pb
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    rng = np.random.default_rng(0)
    for run in ("train", "validation"):
        w = EventFileWriter(os.path.join(root, run))
        for step in range(6):
            for summary in (
                scalar_pb("epoch_loss", 1.0 / (step + 1)),
                histogram_pb("dense/kernel/histogram", rng.standard_normal(100), buckets=30),
                text_pb("notes", f"epoch {step}"),
            ):
                w.add_event(Event(wall_time=1000.0 + step, step=step, summary=summary))
        w.close()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tensorflow_files_equal_tbparse(tmp_path: Any) -> None:
    _write_tf2_logdir(str(tmp_path))
    for extra in (None, {"wall_time", "dir_name", "file_name"}):
        ours = SummaryReader(str(tmp_path), extra_columns=extra)
        theirs = tbparse.SummaryReader(str(tmp_path), extra_columns=extra)
        for kind in FRAMES:
            _assert_frames_equal(getattr(ours, kind), getattr(theirs, kind), kind)
    tensors = SummaryReader(str(tmp_path)).tensors
    assert len(tensors) == 2 * 6 * 2  # the scalar and the histogram tensor, 6 steps, 2 runs
    # TF2 scalars are tensors (tbparse's .scalars is empty too); the native scan decodes them.
    loss = SummaryReader(str(tmp_path)).tensor_scalar_arrays("epoch_loss", run="train")
    np.testing.assert_array_equal(loss.step, np.arange(6))
    np.testing.assert_array_equal(loss.value, np.float32(1.0 / (np.arange(6) + 1)))
    assert len(SummaryReader(str(tmp_path)).text) == 12


def test_pivot_equal_tbparse(written: str) -> None:
    # One value a tag and step (run "a"'s doubled step 29 merges in file order here, in an
    # arbitrary order in tbparse: its pivot sort is not stable; see frames._pivot).
    run_b = os.path.join(written, "b")
    for extra in (None, {"wall_time", "dir_name", "file_name"}):
        ours = SummaryReader(run_b, pivot=True, extra_columns=extra)
        theirs = tbparse.SummaryReader(run_b, pivot=True, extra_columns=extra)
        _assert_frames_equal(ours.scalars, theirs.scalars, "scalars")
    ours = SummaryReader(written, pivot=True, extra_columns={"dir_name"})
    theirs = tbparse.SummaryReader(written, pivot=True, extra_columns={"dir_name"})
    for kind in ("histograms", "text", "hparams", "scalars"):
        _assert_frames_equal(getattr(ours, kind), getattr(theirs, kind), kind)


def test_arrays_equal_event_accumulator(written: str) -> None:
    reader = SummaryReader(written)
    for run in ("a", "b"):
        acc = load_run(os.path.join(written, run))
        for tag in acc.Tags()["scalars"]:
            events = acc.Scalars(tag)
            got = reader.scalar_arrays(tag, run=run)
            np.testing.assert_array_equal(got.step, [e.step for e in events])
            np.testing.assert_array_equal(got.value, [e.value for e in events])
            np.testing.assert_array_equal(got.wall_time, [e.wall_time for e in events])
        for tag in acc.Tags()["histograms"]:
            events = acc.Histograms(tag)
            got = reader.histogram_arrays(tag, run=run)
            np.testing.assert_array_equal(got.step, [e.step for e in events])
            for i, e in enumerate(events):
                limits, counts = got.buckets(i)
                np.testing.assert_array_equal(limits, e.histogram_value.bucket_limit)
                np.testing.assert_array_equal(counts, e.histogram_value.bucket)
                assert got.sum[i] == e.histogram_value.sum
                assert got.num[i] == e.histogram_value.num
    assert reader.damage == {}


def test_images_and_audio_hold_the_encoded_bytes(written: str) -> None:
    reader = SummaryReader(written, extra_columns={"height", "width", "sample_rate"})
    acc = load_run(os.path.join(written, "a"))
    images = reader.images
    assert list(images["value"]) == [e.encoded_image_string for e in acc.Images("img")]
    assert list(images["height"]) == [e.height for e in acc.Images("img")]
    audio = reader.audio
    clips = acc.Audio("tone") if "tone" in acc.Tags()["audio"] else []
    assert list(audio.get("value", [])) == [e.encoded_audio_string for e in clips]
    assert list(audio.get("sample_rate", [])) == [e.sample_rate for e in clips]


def test_multi_run_arrays_and_errors(tmp_path: Any) -> None:
    _write_logdir("xfast", str(tmp_path))
    reader = SummaryReader(str(tmp_path))
    by_run = reader.scalar_arrays_by_run()
    assert sorted(by_run) == ["a", "a/hp", "b"]
    np.testing.assert_array_equal(by_run["b"]["loss"].step, np.arange(10))
    with pytest.raises(KeyError, match="several runs"):
        reader.scalar_arrays("loss")
    with pytest.raises(KeyError):
        reader.scalar_arrays("nope", run="a")
    assert reader.tensor_scalar_arrays("tensor_scalar").value.tolist() == [2.5]
    hist = reader.histogram_arrays("weights")
    with pytest.raises(ValueError, match="different numbers of buckets"):
        hist.counts_matrix()  # empty buckets are left out, so the widths differ
    twice = HistogramArrays.concat([hist, hist])
    assert len(twice) == 6
    np.testing.assert_array_equal(twice.buckets(4)[1], hist.buckets(1)[1])
    with pytest.raises(FileNotFoundError):
        SummaryReader(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="regex"):
        SummaryReader(str(tmp_path), tag_regex="(")
    with pytest.raises(KeyError):
        SummaryReader(str(tmp_path), extra_columns={"bogus"})
    with pytest.raises(ValueError, match="ignored"):
        _ = SummaryReader(str(tmp_path), event_types={"scalars"}).histograms


def test_filters_in_the_scan(tmp_path: Any) -> None:
    _write_logdir("xfast", str(tmp_path))
    glob_only = SummaryReader(str(tmp_path), tag_glob="l*", runs=["a"])
    assert set(glob_only.scalars["tag"]) == {"loss", "lr"}
    assert glob_only.runs == ["a"]
    regex = SummaryReader(str(tmp_path), tag_regex="^lo", event_types={"scalars"})
    assert set(regex.scalars["tag"]) == {"loss"}
    only_hist = SummaryReader(str(tmp_path), event_types={"histograms"})
    assert only_hist.scalar_arrays_by_run() == {}
    assert len(only_hist.histogram_arrays("weights")) == 3


def test_restart_purges_like_tensorboard(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # torch's purge_step writes SessionLog.START: values at steps >= 5 logged before it go.
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    run = str(tmp_path / "r")
    w = TorchWriter(run)
    for step in range(10):
        w.add_scalar("x", float(step), step)
    w.close()
    w = TorchWriter(run, purge_step=5)
    for step in range(5, 8):
        w.add_scalar("x", 100.0 + step, step)
    w.close()
    acc = load_run(run)
    ours = SummaryReader(run)
    tb = tbparse.SummaryReader(run).scalars
    _assert_frames_equal(ours.scalars, tb, "scalars")
    # tbparse reads each file alone, so its purge acts within a file (the restarted file holds
    # the START, the first one nothing to purge); TensorBoard reads the run as one stream.
    assert len(ours.scalar_arrays("x")) == 13
    across = SummaryReader(run, purge_orphaned_data="run").scalar_arrays("x")
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # a batch a file: the restart's file alone
    with_progress = SummaryReader(
        run, purge_orphaned_data="run", progress=lambda *a: calls.append(a)
    )
    assert with_progress.scalar_arrays("x").step.tolist() == across.step.tolist()
    assert calls[0][0] == 0 and calls[-1][0] == calls[-1][1] > 0
    assert across.step.tolist() == [e.step for e in acc.Scalars("x")] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert across.value.tolist() == [e.value for e in acc.Scalars("x")]
    same_file = str(tmp_path / "one")
    w = TorchWriter(same_file)
    for step in range(10):
        w.add_scalar("x", float(step), step)
    w.file_writer.add_event(_start_event(3))
    w.add_scalar("x", 33.0, 3)
    w.close()
    acc = load_run(same_file)
    ours = SummaryReader(same_file)
    assert ours.scalar_arrays("x").step.tolist() == [e.step for e in acc.Scalars("x")]
    _assert_frames_equal(ours.scalars, tbparse.SummaryReader(same_file).scalars, "purged")
    assert len(SummaryReader(same_file, purge_orphaned_data=False).scalar_arrays("x")) == 11


def _start_event(step: int) -> Any:
    from tensorboard.compat.proto import event_pb2

    return event_pb2.Event(
        step=step, session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START)
    )


def test_import_xfast_does_not_import_pandas() -> None:
    code = "import sys, xfast; xfast.SummaryReader; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
