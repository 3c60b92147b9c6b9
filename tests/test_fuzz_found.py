# SPDX-License-Identifier: Apache-2.0
"""Regression tests for bugs the fuzzer (test_fuzz.py) found: each input once raised an
undocumented exception, failed later on a worker thread, or did something silently wrong.
Every test also checks that the writer still works after the refused calls."""

from __future__ import annotations

import io
import math
import os
import warnings
from typing import Any, Callable

import numpy as np
import pytest
from conftest import event_files
from strict_reader import read_records, scalar_points

import xfast

torch = pytest.importorskip("torch")


def _writer_still_works(tmp_path: Any, calls: Callable[[Any], None]) -> bool:
    """Runs `calls(writer)`, then checks the writer flushes, logs and closes cleanly."""
    w = xfast.SummaryWriter(str(tmp_path))
    calls(w)
    w.flush()
    w.add_scalar("sentinel", 1.5, 7)
    w.close()
    return scalar_points(read_records(event_files(str(tmp_path))[0]).events(), "sentinel") == [
        (7, 1.5)
    ]


def test_walltime_beyond_float_is_value_error(tmp_path: Any) -> None:
    # OverflowError from float(): the media methods and add_scalar_dict's reduce path.
    def calls(w: Any) -> None:
        with pytest.raises(ValueError, match="walltime"):
            w.add_image("i", np.zeros((3, 2, 2)), walltime=10**400)
        with pytest.raises(ValueError, match="walltime"):
            w.add_scalar_dict({"a": 1.0}, 1, walltime=10**400, reduce="mean")

    assert _writer_still_works(tmp_path, calls)


def test_media_arguments_the_worker_cannot_encode_are_refused_at_the_call(tmp_path: Any) -> None:
    # Each was accepted, then failed on the media worker and surfaced later as RuntimeError.
    def calls(w: Any) -> None:
        img, box = np.zeros((3, 8, 8)), np.ones((1, 4))
        for bad in (2**31, 1e30):  # the WAV header's byte rate (2 x rate) has 32 bits
            with pytest.raises(ValueError, match="WAV"):
                w.add_audio("a", np.zeros(4), sample_rate=bad)
        w.add_audio("a", np.zeros(4), sample_rate=2**31 - 1)
        with pytest.raises(ValueError, match="too large"):
            w.add_image_with_boxes("b", img, box, rescale=1e9)
        with pytest.raises(TypeError, match="labels must be strings"):
            w.add_image_with_boxes("b", img, box, labels=[5])
        w.add_image_with_boxes("b", img, box, labels=[""])  # falsy labels are not drawn, as torch

    assert _writer_still_works(tmp_path, calls)


def test_media_encoders_take_every_valid_input(tmp_path: Any) -> None:
    # Each failed on the media worker: uint8 samples x 32767 overflowed uint8, a tiny fps made
    # the GIF frame delay infinite, and pixels beyond float32 raised numpy's overflow warning
    # there (an error under filterwarnings=error, noise from a far thread otherwise).
    def calls(w: Any) -> None:
        w.add_audio("a", np.array([0, 1, 255], dtype=np.uint8))
        w.add_audio("a", np.array([-(2**63), 3]))
        w.add_video("v", np.zeros((1, 2, 3, 2, 2)), fps=5e-324)
        w.add_image("i", np.full((1, 2, 2), 1e36, dtype=np.float32))
        w.add_image("i", np.full((1, 2, 2), 1e300))

    assert _writer_still_works(tmp_path, calls)


def test_add_figure_takes_only_figures(tmp_path: Any) -> None:
    # None drew a new blank figure (and pyplot's close(None) closes the current one);
    # anything else raised AttributeError, an empty list numpy's stack error.
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(1, 1), dpi=20)

    def calls(w: Any) -> None:
        for bad in (None, 3, [fig, "x"], [None]):
            with pytest.raises(TypeError, match="matplotlib Figure"):
                w.add_figure("f", bad)
        with pytest.raises(ValueError, match="empty"):
            w.add_figure("f", [])
        w.add_figure("f", fig)

    assert _writer_still_works(tmp_path, calls)


def test_add_histograms_checks_tensors_prev_and_max_bins(tmp_path: Any) -> None:
    # AttributeError for non-tensors, torch's RuntimeError (or a silent broadcast) for a prev
    # of another size, OverflowError for an infinite max_bins (add_histogram too), and the
    # non-finite warning of host tensors came with the writer's next call.
    p = torch.ones(3)

    def calls(w: Any) -> None:
        with pytest.raises(TypeError, match="pairs"):
            w.add_histograms([("a", np.zeros(3))])
        with pytest.raises(TypeError, match="pairs"):
            w.add_histograms({"a": np.zeros(3)})  # a mapping's values are checked alike
        with pytest.raises(TypeError, match="must be a tensor"):
            w.add_histograms([("a", p)], prev={"a": np.zeros(3)})
        for other in (torch.zeros(4), torch.zeros(1)):
            with pytest.raises(ValueError, match="elements"):
                w.add_histograms([("a", p)], stats=["update_ratio"], prev={"a": other})
        for bad in (math.inf, 2**70):
            with pytest.raises(ValueError, match="max_bins"):
                w.add_histograms([("a", p)], max_bins=bad)
            with pytest.raises(ValueError, match="max_bins"):
                w.add_histogram("h", p, max_bins=bad)
        with pytest.warns(RuntimeWarning, match="xfast: histogram"):
            w.add_histograms([("n", torch.tensor([math.nan, 1.0]))])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            w.add_scalar("after", 1.0)  # nothing left over for the next call

    assert _writer_still_works(tmp_path, calls)


def test_histograms_refuse_sparse_tensors(tmp_path: Any) -> None:
    # A sparse tensor reached Tensor.is_contiguous(), which raised "unsupported memory format
    # option Contiguous"; torch's writer raises TypeError (numpy cannot take it).
    sparse = torch.eye(3).to_sparse()
    param = torch.nn.Parameter(torch.ones(3))
    param.grad = torch.ones(3).to_sparse()

    def calls(w: Any) -> None:
        for bins in ("tensorflow", "auto"):
            with pytest.raises(TypeError, match=r"dense tensors.*to_dense"):
                w.add_histogram("h", sparse, 0, bins=bins)
        with pytest.raises(TypeError, match="dense tensors"):
            w.add_histograms([("s", sparse)], 0)
        with pytest.raises(TypeError, match="dense tensors"):
            w.add_histograms([("p", param)], 0, grads=True)
        w.add_histograms([("p", param)], 0)  # the parameter alone is dense

    assert _writer_still_works(tmp_path, calls)


def test_add_onnx_graph_refuses_what_is_no_model(tmp_path: Any) -> None:
    # An int went to onnx.load, which reads and closes that file descriptor; bytes that are
    # no model raised protobuf's DecodeError; a ScriptModule (it has a .graph) AttributeError.
    pytest.importorskip("onnx")
    fd = os.open(os.devnull, os.O_RDONLY)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", DeprecationWarning)
        scripted = torch.jit.script(torch.nn.Linear(2, 2))
    try:

        def calls(w: Any) -> None:
            with pytest.raises(TypeError, match="path"):
                w.add_onnx_graph(fd)
            with pytest.raises(ValueError, match="not an ONNX model"):
                w.add_onnx_graph(io.BytesIO(b"\x00"))
            with pytest.raises(TypeError, match="ModelProto"):
                w.add_onnx_graph(scripted)

        assert _writer_still_works(tmp_path, calls)
        os.fstat(fd)  # still open
    finally:
        os.close(fd)


def test_add_hparams_empty_tensor_is_value_error(tmp_path: Any) -> None:
    # IndexError (torch's too).
    def calls(w: Any) -> None:
        with pytest.raises(ValueError, match="no element"):
            w.add_hparams({"lr": torch.tensor([])}, {"m": 1.0}, run_name=".")

    assert _writer_still_works(tmp_path, calls)


def test_audio_samples_are_clipped_even_next_to_nan(tmp_path: Any) -> None:
    # A NaN made max(|x|) NaN, so nothing was clipped: 2.0 wrapped around in int16 (float16
    # also overflowed on the worker); and float16 1.0 x 32767 rounded to 32768, i.e. -32768.
    from xfast.media.prep import audio_int16

    for dtype in (np.float16, np.float32, np.float64):
        got = audio_int16(np.array([2.0, -3.0, 1.0, np.nan], dtype=dtype))
        assert got[:3].tolist() == [32767, -32767, 32767]

    def calls(w: Any) -> None:
        w.add_audio("a", np.array([2.0, np.nan], dtype=np.float16))

    assert _writer_still_works(tmp_path, calls)


def test_labels_of_boxes_far_outside_the_image_are_skipped(tmp_path: Any) -> None:
    # Pillow's text renderer failed (SystemError) on the worker for a label at 1e30; a label
    # wholly outside the image changes no pixel, so it is not drawn.
    pytest.importorskip("PIL")
    img = np.random.default_rng(0).random((3, 8, 8))

    def calls(w: Any) -> None:
        far = np.full((2, 4), 1e30)
        w.add_image_with_boxes("b", img, far, 0, labels=["", "0"])
        w.add_image_with_boxes("b", img, -far, 1, labels=["a", "b"])

    assert _writer_still_works(tmp_path, calls)
