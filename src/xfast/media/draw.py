# SPDX-License-Identifier: Apache-2.0
"""Box drawing and resizing for images. Pillow is optional: with it, boxes, labels and the
LANCZOS resize come out pixel for pixel as torch's; without it, boxes are drawn with numpy,
while labels and resizing raise ImportError at the call."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

_BOX_WIDTH = 2
_RED = (255, 0, 0, 255)
_MAX_SIDE = 2**31 - 1


def pillow() -> Any:
    """The PIL package, or None when Pillow is not installed."""
    try:
        import PIL.Image
    except ImportError:
        return None
    return PIL


def require_pillow(what: str) -> None:
    """Raises ImportError naming `what` when Pillow is missing."""
    if pillow() is None:
        raise ImportError(
            f"{what} needs Pillow (pip install pillow); xfast does not require it otherwise"
        )


def scaled_size(height: int, width: int, rescale: float) -> tuple[int, int]:
    """(height, width) after torch's ``int(size * rescale)``; raises ValueError when empty or
    beyond the sizes Pillow takes (signed 32-bit)."""
    h, w = int(height * rescale), int(width * rescale)
    if h < 1 or w < 1:
        raise ValueError(f"rescale={rescale} makes the {height}x{width} image empty")
    if max(h, w) > _MAX_SIDE:
        raise ValueError(f"rescale={rescale} makes the {height}x{width} image {h}x{w}, too large")
    return h, w


def resize(img: np.ndarray, rescale: float) -> np.ndarray:
    """`img` (H, W, C uint8) resized by `rescale` with LANCZOS, as torch does; needs Pillow."""
    if rescale == 1:
        return img
    from PIL import Image

    h, w = scaled_size(img.shape[0], img.shape[1], rescale)
    out = Image.fromarray(np.ascontiguousarray(img)).resize((w, h), Image.Resampling.LANCZOS)
    return np.asarray(out).reshape(h, w, img.shape[2])


def draw_boxes(img: np.ndarray, boxes: np.ndarray, labels: Optional[list[str]]) -> np.ndarray:
    """`img` (H, W, C uint8) with a red outline of width 2 per (xmin, ymin, xmax, ymax) row of
    `boxes` and, when given, each label on a red band at the box's bottom left."""
    if pillow() is None:
        return _draw_boxes_numpy(img, boxes)
    from PIL import Image, ImageDraw, ImageFont

    image = Image.fromarray(np.ascontiguousarray(img))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    for i, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        corners = [(x0, y0), (x0, y1), (x1, y1), (x1, y0), (x0, y0)]
        draw.line(corners, width=_BOX_WIDTH, fill="Red")
        text = labels[i] if labels is not None else None
        if text:
            left, top, right, bottom = font.getbbox(text)
            text_h = bottom - top
            margin = np.ceil(0.05 * text_h)
            # A label wholly outside the image changes no pixel, and Pillow's text renderer
            # fails on positions beyond its integer range (found by tests/test_fuzz.py).
            if not (x0 + right - left >= 0 and x0 < image.width and y1 >= 0
                    and y1 - text_h - 2 * margin < image.height):
                continue
            band = [(x0, y1 - text_h - 2 * margin), (x0 + right - left, y1)]
            draw.rectangle(band, fill="Red")
            draw.text((x0 + margin, y1 - text_h - margin), text, fill="black", font=font)
    return np.asarray(image).reshape(img.shape)


def _draw_boxes_numpy(img: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The outlines without Pillow: two-pixel bands centred on each edge, clipped to the image
    (close to Pillow's wide lines, not pixel-identical)."""
    out = img.copy()
    h, w, c = out.shape
    red = np.array(_RED[:c] if c >= 3 else (76, *_RED[3:][: c - 1]), dtype=np.uint8)
    for x0, y0, x1, y1 in (
        np.rint(np.nan_to_num(boxes.astype(np.float64))).astype(np.int64).tolist()
    ):
        xa, xb = sorted((x0, x1))
        ya, yb = sorted((y0, y1))
        for x in (xa, xb):
            out[max(ya - 1, 0) : max(min(yb + 1, h), 0), max(x - 1, 0) : max(min(x + 1, w), 0)] = (
                red
            )
        for y in (ya, yb):
            out[max(y - 1, 0) : max(min(y + 1, h), 0), max(xa - 1, 0) : max(min(xb + 1, w), 0)] = (
                red
            )
    return out
