# SPDX-License-Identifier: Apache-2.0
"""Images, videos and audio: xfast against torch.utils.tensorboard, decoded value by value and
read back through TensorBoard's loader."""

from __future__ import annotations

import io
import subprocess
import sys
import wave
from typing import Any

import numpy as np
import pytest
import torch
from conftest import load_run
from PIL import Image, ImageSequence
from torch.utils.tensorboard import summary as tsummary
from torch.utils.tensorboard._utils import _prepare_video

import xfast
from xfast import _core, summary
from xfast.media import draw as _media_draw

RNG = np.random.default_rng(0)


def png_pixels(data: bytes) -> np.ndarray:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return np.asarray(img)


def gif_frames(data: bytes) -> tuple[list[np.ndarray], list[Any]]:
    img = Image.open(io.BytesIO(data))
    assert img.format == "GIF"
    frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(img)]
    return frames, [
        f.info.get("duration") for f in ImageSequence.Iterator(Image.open(io.BytesIO(data)))
    ]


def wav_samples(data: bytes) -> tuple[np.ndarray, int, int]:
    with wave.open(io.BytesIO(data)) as w:
        return (
            np.frombuffer(w.readframes(w.getnframes()), "<i2"),
            w.getframerate(),
            w.getnchannels(),
        )


def assert_same_image(ours: Any, theirs: Any) -> None:
    assert (ours.height, ours.width, ours.colorspace) == (
        theirs.height,
        theirs.width,
        theirs.colorspace,
    )
    np.testing.assert_array_equal(
        png_pixels(ours.encoded_image_string), png_pixels(theirs.encoded_image_string)
    )


IMAGE_CASES = [
    ("CHW", (3, 17, 23), np.float32),
    ("CHW", (1, 9, 5), np.float64),
    ("CHW", (4, 6, 7), np.uint8),
    ("HWC", (12, 10, 3), np.float16),
    ("HWC", (5, 4, 1), np.uint8),
    ("HWC", (5, 4, 2), np.uint8),
    ("HW", (8, 13), np.float32),
    ("WH", (8, 13), np.int64),
    ("WCH", (8, 3, 13), np.float32),
    ("hwc", (6, 6, 3), np.bool_),
    ("NCHW", (5, 3, 4, 6), np.float32),
    ("NCHW", (9, 1, 3, 2), np.uint8),
    ("NHWC", (17, 4, 3, 3), np.float64),
    ("NCHW", (1, 3, 7, 7), np.float32),
]


def _sample(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    if dtype == np.uint8:
        return RNG.integers(0, 256, size=shape).astype(np.uint8)
    if dtype == np.bool_:
        return RNG.random(shape) > 0.5
    if dtype == np.int64:
        return RNG.integers(-2, 3, size=shape)
    return (RNG.random(shape) * 1.4 - 0.2).astype(dtype)  # some values outside [0, 1]


@pytest.mark.parametrize("fmt,shape,dtype", IMAGE_CASES)
def test_image_summary_pixels_match_torch(fmt: str, shape: tuple[int, ...], dtype: Any) -> None:
    arr = _sample(shape, dtype)
    ours = summary.image("t", arr, dataformats=fmt).value[0]
    theirs = tsummary.image("t", arr, dataformats=fmt).value[0]
    assert ours.tag == theirs.tag == "t"
    assert_same_image(ours.image, theirs.image)


def test_image_from_tensors_match_torch() -> None:
    for t in (
        torch.rand(3, 8, 9),
        torch.rand(3, 8, 9, dtype=torch.bfloat16),
        torch.randint(0, 256, (3, 5, 5), dtype=torch.uint8),
        torch.rand(3, 4, 4, requires_grad=True),
    ):
        assert_same_image(summary.image("t", t, dataformats="CHW").value[0].image,
                          tsummary.image("t", t, dataformats="CHW").value[0].image)


def test_nan_and_inf_pixels_match_torch() -> None:
    arr = np.array([[[np.nan, np.inf, -np.inf, 0.5]]], dtype=np.float32)
    with np.errstate(invalid="ignore"):
        theirs = tsummary.image("t", arr, dataformats="CHW").value[0].image
    assert_same_image(summary.image("t", arr, dataformats="CHW").value[0].image, theirs)


@pytest.mark.parametrize("rescale", [1, 0.5, 2.25])
@pytest.mark.parametrize("labels", [None, ["cat", "a dog"], ["one label for two boxes"]])
def test_image_boxes_match_torch(rescale: float, labels: Any) -> None:
    img = RNG.random((3, 40, 50)).astype(np.float32)
    boxes = np.array([[2, 3, 30, 20], [10.5, 12.2, 45.9, 38.1]])
    ours = summary.image_boxes("b", img, boxes, rescale=rescale, labels=labels).value[0]
    theirs = tsummary.image_boxes(
        "b", img, boxes, rescale=rescale, labels=labels if labels and len(labels) == 2 else None
    ).value[0]
    assert_same_image(ours.image, theirs.image)
    assert png_pixels(ours.image.encoded_image_string).shape == (
        int(40 * rescale),
        int(50 * rescale),
        3,
    )


def test_boxes_without_pillow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_media_draw, "pillow", lambda: None)
    img = np.zeros((3, 20, 30), dtype=np.float32)
    out = png_pixels(
        summary.image_boxes("b", img, np.array([[5, 4, 25, 15]]))
        .value[0]
        .image.encoded_image_string
    )
    red = (out == [255, 0, 0]).all(axis=2)
    assert red[4, 5:26].all() and red[15, 5:26].all() and red[4:16, 5].all() and red[4:16, 25].all()
    assert not red[8:12, 10:20].any() and red.sum() < 4 * 2 * (20 + 11)
    with pytest.raises(ImportError, match="Pillow"):
        summary.image_boxes("b", img, np.array([[5, 4, 25, 15]]), labels=["x"])
    with pytest.raises(ImportError, match="Pillow"):
        summary.image_boxes("b", img, np.array([[5, 4, 25, 15]]), rescale=2)


VIDEO_CASES = [
    ((1, 3, 3, 6, 5), np.float32),
    ((3, 2, 3, 4, 4), np.uint8),
    ((5, 2, 1, 3, 4), np.float64),
    ((4, 1, 3, 2, 2), np.float32),
    ((16, 2, 3, 2, 3), np.uint8),
]


def expected_frames(vid: np.ndarray) -> np.ndarray:
    """The frames torch hands to moviepy: its own layout function, then its scaling."""
    v = _prepare_video(vid)
    return (v.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize("shape,dtype", VIDEO_CASES)
def test_video_frames_match_torch_layout(shape: tuple[int, ...], dtype: Any) -> None:
    vid = _sample(shape, dtype)
    value = summary.video("v", vid, fps=5).value[0]
    expected = expected_frames(vid)
    frames, durations = gif_frames(value.image.encoded_image_string)
    assert len(frames) == shape[1]
    assert (value.image.height, value.image.width, value.image.colorspace) == expected.shape[1:]
    for got, want in zip(frames, expected):
        np.testing.assert_array_equal(
            got, np.repeat(want, 3, axis=2) if want.shape[2] == 1 else want
        )
    assert durations == [200] * shape[1]


def test_video_with_many_colors_is_quantized_close() -> None:
    vid = RNG.random((1, 2, 3, 32, 32)).astype(np.float32)
    frames, _ = gif_frames(summary.video("v", vid).value[0].image.encoded_image_string)
    for got, want in zip(frames, expected_frames(vid)):
        assert np.abs(got.astype(int) - want).mean() < 24


def test_video_bytes_match_torch_frames_when_moviepy_works() -> None:
    pytest.importorskip("moviepy.editor")
    vid = _sample((3, 4, 3, 8, 10), np.float32)
    theirs = tsummary.video("v", vid, fps=4).value[0].image
    ours = summary.video("v", vid, fps=4).value[0].image
    assert (ours.height, ours.width, ours.colorspace) == (
        theirs.height,
        theirs.width,
        theirs.colorspace,
    )
    for a, b in zip(
        gif_frames(ours.encoded_image_string)[0], gif_frames(theirs.encoded_image_string)[0]
    ):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("arr", [
    np.sin(np.linspace(0, 100, 1000)).reshape(1, -1).astype(np.float32),
    np.linspace(-3, 3, 777),
    torch.linspace(-1, 1, 100).reshape(1, 1, 100),
    np.array([[0, 1, -1, 2]], dtype=np.int64),
])
def test_audio_matches_torch(arr: Any, capsys: pytest.CaptureFixture[str]) -> None:
    ours = summary.audio("a", arr, sample_rate=22050).value[0].audio
    theirs = tsummary.audio("a", arr, sample_rate=22050).value[0].audio
    capsys.readouterr()  # torch prints a clipping warning
    for field in ("sample_rate", "num_channels", "length_frames", "content_type"):
        assert getattr(ours, field) == getattr(theirs, field)
    ours_s, rate, channels = wav_samples(ours.encoded_audio_string)
    theirs_s = wav_samples(theirs.encoded_audio_string)
    np.testing.assert_array_equal(ours_s, theirs_s[0])
    assert (rate, channels) == theirs_s[1:] == (22050, 1)


def _torch_run(logdir: str, log: Any) -> Any:
    from torch.utils.tensorboard import SummaryWriter

    w = SummaryWriter(logdir)
    log(w)
    w.close()
    return load_run(logdir)


def _xfast_run(logdir: str, log: Any) -> Any:
    w = xfast.SummaryWriter(logdir)
    log(w)
    w.close()
    return load_run(logdir)


def test_writer_methods_read_back_like_torch(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img = RNG.random((3, 32, 24)).astype(np.float32)
    batch = torch.rand(10, 3, 8, 8)
    snd = np.sin(np.linspace(0, 50, 4000)).reshape(1, -1)

    def figure(i: int) -> Any:
        fig = plt.figure(figsize=(2, 1.5), dpi=50)
        plt.plot([0, 1, 2], [0, i, 1])
        return fig

    def log(w: Any) -> None:
        for step in range(3):
            w.add_image("img", img * (step + 1) / 3, step, walltime=100.0 + step)
            w.add_images("batch", batch, step, walltime=100.0 + step)
            w.add_images(
                "batch_nhwc", batch.permute(0, 2, 3, 1), step, dataformats="NHWC", walltime=1.0
            )
            w.add_image_with_boxes(
                "boxes", img, torch.tensor([[1, 2, 20, 30.0]]), step, labels=["b"], walltime=1.0
            )
            w.add_figure("fig", figure(step), step, walltime=1.0)
            w.add_figure("figs", [figure(step), figure(step + 1)], step, walltime=1.0)
            w.add_audio("snd", snd, step, sample_rate=8000, walltime=100.0 + step)

    ours = _xfast_run(str(tmp_path / "x"), log)
    theirs = _torch_run(str(tmp_path / "t"), log)
    capsys.readouterr()
    assert ours.Tags()["images"] == theirs.Tags()["images"]
    assert ours.Tags()["audio"] == theirs.Tags()["audio"] == ["snd"]
    for tag in theirs.Tags()["images"]:
        a, b = ours.Images(tag), theirs.Images(tag)
        assert [(e.step, e.wall_time, e.width, e.height) for e in a] == [
            (e.step, e.wall_time, e.width, e.height) for e in b]
        for ea_, eb in zip(a, b):
            np.testing.assert_array_equal(
                png_pixels(ea_.encoded_image_string), png_pixels(eb.encoded_image_string)
            )
    for a, b in zip(ours.Audio("snd"), theirs.Audio("snd")):
        assert (a.step, a.wall_time, a.sample_rate, a.length_frames, a.content_type) == (
            b.step, b.wall_time, b.sample_rate, b.length_frames, b.content_type)
        np.testing.assert_array_equal(
            wav_samples(a.encoded_audio_string)[0], wav_samples(b.encoded_audio_string)[0]
        )


def test_add_video_reads_back(logdir: str) -> None:
    vid = _sample((2, 3, 3, 5, 4), np.uint8)
    with xfast.SummaryWriter(logdir) as w:
        w.add_video("vid", vid, 7, fps=10)
        w.add_video("thwc", vid.transpose(1, 3, 4, 2, 0), 7, fps=10, dataformats="thwcn")
    acc = load_run(logdir)
    for tag in ("vid", "thwc"):
        (event,) = acc.Images(tag)
        frames, durations = gif_frames(event.encoded_image_string)
        assert event.step == 7 and (event.height, event.width) == (5, 8) and durations == [100] * 3
        for got, want in zip(frames, expected_frames(vid)):
            np.testing.assert_array_equal(got, want)


BAD_CALLS = [
    (lambda w: w.add_image("x", np.zeros((3, 4))), ValueError),
    (lambda w: w.add_image("x", np.zeros((3, 4, 4)), dataformats="HW"), ValueError),
    (lambda w: w.add_image("x", np.zeros((5, 4, 4))), ValueError),
    (lambda w: w.add_image("x", np.zeros((3, 0, 4))), ValueError),
    (lambda w: w.add_image("x", np.zeros((3, 4, 4)), dataformats="CHX"), ValueError),
    (lambda w: w.add_image("x", np.zeros((3, 4, 4)), dataformats="CCH"), ValueError),
    (lambda w: w.add_image("x", np.zeros((3, 4, 4), dtype=complex)), TypeError),
    (lambda w: w.add_image("x", np.array([["a"]])), TypeError),
    (lambda w: w.add_image(3, np.zeros((3, 4, 4))), TypeError),
    (lambda w: w.add_images("x", np.zeros((2, 2, 4, 4))), ValueError),
    (lambda w: w.add_images("x", np.zeros((3, 4, 4))), ValueError),
    (lambda w: w.add_image_with_boxes("x", np.zeros((3, 4, 4)), np.zeros((2, 3))), ValueError),
    (
        lambda w: w.add_image_with_boxes("x", np.zeros((3, 4, 4)), np.zeros((1, 4)), rescale=0.01),
        ValueError,
    ),
    (lambda w: w.add_video("x", np.zeros((2, 3, 4, 4))), ValueError),
    (lambda w: w.add_video("x", np.zeros((1, 2, 2, 4, 4))), ValueError),
    (lambda w: w.add_video("x", np.zeros((1, 2, 3, 4, 4)), fps=0), ValueError),
    (lambda w: w.add_video("x", np.zeros((1, 2, 3, 4, 4)), dataformats="NTCHH"), ValueError),
    (lambda w: w.add_video("x", np.zeros((1, 2, 4, 4, 5)), dataformats="NTHWC"), ValueError),
    (lambda w: w.add_audio("x", np.zeros((2, 10))), ValueError),
    (lambda w: w.add_audio("x", np.zeros((1, 0))), ValueError),
    (lambda w: w.add_audio("x", np.zeros(10), sample_rate=0), ValueError),
    (lambda w: w.add_audio("x", torch.zeros(10, dtype=torch.complex64)), TypeError),
]


@pytest.mark.parametrize("call,error", BAD_CALLS)
def test_bad_input_raises_at_the_call_and_writes_nothing(
    logdir: str, call: Any, error: Any
) -> None:
    w = xfast.SummaryWriter(logdir)
    with pytest.raises(error):
        call(w)
    w.close()
    tags = load_run(logdir).Tags()
    assert tags["images"] == [] and tags["audio"] == []


def test_everything_but_labels_and_rescale_works_without_pillow(logdir: str) -> None:
    code = f"""
import sys
sys.modules["PIL"] = None  # as if Pillow were not installed
import numpy as np, xfast
w = xfast.SummaryWriter({logdir!r})
w.add_image("img", np.random.rand(3, 8, 8))
w.add_images("imgs", np.random.rand(3, 1, 8, 8))
w.add_image_with_boxes("boxes", np.zeros((3, 8, 8)), np.array([[1, 1, 6, 6]]))
w.add_video("vid", np.random.rand(1, 2, 3, 20, 20))
w.add_audio("snd", np.zeros(10))
img, box = np.zeros((3, 8, 8)), np.zeros((1, 4))
for call in (lambda: w.add_image_with_boxes("b", img, box, labels=["x"]),
             lambda: w.add_image_with_boxes("b", img, box, rescale=2)):
    try:
        call()
    except ImportError as e:
        assert "Pillow" in str(e)
    else:
        raise AssertionError("no ImportError")
w.close()
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    tags = load_run(logdir).Tags()
    assert sorted(tags["images"]) == ["boxes", "img", "imgs", "vid"] and tags["audio"] == ["snd"]


def _edge_pixels(shape: tuple[int, ...]) -> np.ndarray:
    """float32 values around every pixel step (k/255 and its neighbours), NaN, +-inf, values
    beyond [0, 1] and float32's extremes, shuffled into `shape`."""
    k = np.arange(256, dtype=np.float32) / np.float32(255)
    special = np.array([np.nan, np.inf, -np.inf, -0.0, -1e-9, 1.5, -3.0, 3e38, -3e38, 1e-45],
                       dtype=np.float32)
    pool = np.concatenate([np.nextafter(k, np.float32(-1)), k, np.nextafter(k, np.float32(2)),
                           special])
    return RNG.choice(pool, size=shape).astype(np.float32)


def test_pixels_uint8_is_numpys_scaling() -> None:
    """The native pass add_image takes float32 pixels with equals torch's numpy scaling
    element for element, SSE2 blocks and tail alike (sizes around the 16-pixel step)."""
    for n in (1, 15, 16, 17, 31, 33, 3 * 512 * 512 + 5):
        x = _edge_pixels((n,))
        with np.errstate(all="ignore"):
            want = (x * 255).clip(0, 255).astype(np.uint8)
        np.testing.assert_array_equal(_core.pixels_uint8(x), want)
    assert _core.pixels_uint8(np.zeros((2, 3, 4), np.float32)).shape == (2, 3, 4)
    x = _edge_pixels((37,))
    unaligned = np.frombuffer(b"\0" + x.tobytes(), dtype=np.float32, offset=1)
    assert not unaligned.flags.aligned
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(_core.pixels_uint8(unaligned),
                                      (x * 255).clip(0, 255).astype(np.uint8))
    with pytest.raises(TypeError):
        _core.pixels_uint8(np.zeros(4, np.float64))
    with pytest.raises(ValueError):
        _core.pixels_uint8(np.zeros((4, 4), np.float32)[:, ::2])


def test_float32_pixels_taken_at_the_call_read_back_like_torch(tmp_path: Any) -> None:
    """add_image/add_images of contiguous float32 arrays and tensors (scaled to uint8 at the
    call) and of non-contiguous ones (copied), with NaN, infinities and values on every pixel
    step: the same pixels as torch's writer; changing the array after the call changes
    nothing logged."""
    chw = _edge_pixels((3, 20, 31))
    hwc = _edge_pixels((9, 16, 3))
    hw = _edge_pixels((7, 40))
    nchw = torch.from_numpy(_edge_pixels((5, 3, 6, 7)))
    grad = torch.from_numpy(_edge_pixels((1, 11, 13))).requires_grad_()

    def log(w: Any) -> None:
        for step in range(2):
            mutable = chw.copy()
            w.add_image("chw", mutable, step)
            mutable[:] = 0.5  # after the call: must not show
            w.add_image("hwc", hwc, step, dataformats="HWC")
            w.add_image("hw", hw, step, dataformats="HW")
            w.add_image("tensor", torch.from_numpy(chw), step)
            w.add_image("grad", grad, step)
            w.add_image("strided", chw[:, ::2, :], step)
            w.add_images("nchw", nchw, step)
            w.add_images("nhwc", nchw.permute(0, 2, 3, 1), step, dataformats="NHWC")

    with np.errstate(all="ignore"):
        theirs = _torch_run(str(tmp_path / "t"), log)
    ours = _xfast_run(str(tmp_path / "x"), log)
    tags = theirs.Tags()["images"]
    assert sorted(ours.Tags()["images"]) == sorted(tags) and len(tags) == 8
    for tag in tags:
        a, b = ours.Images(tag), theirs.Images(tag)
        assert [(e.step, e.width, e.height) for e in a] == [(e.step, e.width, e.height) for e in b]
        for ea_, eb in zip(a, b):
            np.testing.assert_array_equal(
                png_pixels(ea_.encoded_image_string), png_pixels(eb.encoded_image_string)
            )
