# SPDX-License-Identifier: Apache-2.0
"""xfast's own PNG and GIF encoders, decoded by Pillow: exact round trips at edge sizes."""

from __future__ import annotations

import builtins
import io
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageSequence

from xfast.media.gif import encode_gif
from xfast.media.png import encode_png

RNG = np.random.default_rng(2)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
@pytest.mark.parametrize("size", [(1, 1), (1, 300), (300, 1), (37, 53)])
def test_png_round_trip(channels: int, size: tuple[int, int]) -> None:
    img = RNG.integers(0, 256, size=(*size, channels)).astype(np.uint8)
    img[: size[0] // 2] //= 16  # smooth rows too, so every filter gets picked somewhere
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(img))))
    np.testing.assert_array_equal(decoded.reshape(img.shape), img)


# 254 literals per clear code and 255-byte sub-blocks: sizes on and around both boundaries.
@pytest.mark.parametrize("pixels", [1, 2, 253, 254, 255, 508, 226, 227, 1000])
@pytest.mark.parametrize("colors", [1, 2, 3, 200, 256])
def test_gif_round_trip_exact_up_to_256_colors(pixels: int, colors: int) -> None:
    palette = RNG.integers(0, 256, size=(colors, 3)).astype(np.uint8)
    frames = palette[RNG.integers(0, colors, size=(2, 1, pixels))]
    img = Image.open(io.BytesIO(encode_gif(frames, 8)))
    decoded = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(img)]
    assert len(decoded) == 2
    for got, want in zip(decoded, frames):
        np.testing.assert_array_equal(got, want)


def test_gif_without_pillow_uses_a_color_cube(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_pil(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "PIL" or name.startswith("PIL."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    frames = RNG.integers(0, 256, size=(1, 40, 40, 3)).astype(np.uint8)  # > 256 colors
    monkeypatch.setattr(builtins, "__import__", no_pil)
    data = encode_gif(frames, 4)
    monkeypatch.undo()
    got = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    # 3-3-2 bits: red and green within half a step of 255/7, blue of 255/3.
    err = np.abs(got - frames[0])
    assert err[..., :2].max() <= 19 and err[..., 2].max() <= 43


def test_png_filtered_in_bands_of_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    # many bands: "up" crosses each boundary
    monkeypatch.setattr("xfast.media.png._BAND_BYTES", 100)
    img = RNG.integers(0, 256, size=(50, 7, 3)).astype(np.uint8)
    img[::3] //= 8
    decoded = np.asarray(Image.open(io.BytesIO(encode_png(img))))
    np.testing.assert_array_equal(decoded, img)
