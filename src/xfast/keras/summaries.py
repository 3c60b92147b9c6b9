# SPDX-License-Identifier: Apache-2.0
"""The two summaries Keras's TensorBoard callback writes through tf.summary that SummaryWriter
has no method for: the model's JSON (the Graphs dashboard's Keras view) and weight images."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from xfast.encoding import proto as pb
from xfast.encoding.summaries import Summary, plugin_metadata, shape
from xfast.media.png import encode_png

# tf.summary.image's default: the first three images of a batch are kept.
MAX_IMAGES = 3


def keras_model_summary(tag: str, model_json: str) -> Any:
    """The model's JSON as a rank-0 string tensor for the Graphs dashboard's Keras model view
    (plugin ``graph_keras_model``, content ``b"1"``: the version keras writes)."""
    tensor = pb.TensorProto(
        dtype=pb.DataType.Value("DT_STRING"),
        string_val=[model_json.encode("utf-8")],
        tensor_shape=pb.TensorShapeProto(),
    )
    value = Summary.Value(
        tag=tag, tensor=tensor, metadata=plugin_metadata("graph_keras_model", b"1")
    )
    return Summary(value=[value])


def weight_image_batch(weight: np.ndarray, channels_last: bool) -> Optional[np.ndarray]:
    """A weight reshaped into images (N, H, W, 1) as Keras's callback shapes it, or None where
    Keras skips the weight: squeezed, a vector is one 1-pixel-wide column image, a matrix one
    image (transposed to be wider than high), a 3-D kernel one image per output channel."""
    w = np.squeeze(weight)
    if w.ndim == 1:
        w = w.reshape(1, w.shape[0], 1, 1)
    elif w.ndim == 2:
        if w.shape[0] > w.shape[1]:
            w = w.T
        w = w.reshape(1, w.shape[0], w.shape[1], 1)
    elif w.ndim == 3:
        if channels_last:
            w = np.transpose(w, (2, 0, 1))
        w = w.reshape(w.shape[0], w.shape[1], w.shape[2], 1)
    if w.ndim != 4 or w.shape[-1] not in (1, 3, 4):
        return None
    return w


def image_summary(tag: str, images: np.ndarray) -> Any:
    """tf.summary.image's tensor: [width, height, PNG...] of the first MAX_IMAGES images of a
    (N, H, W, C) float batch, each value v stored as the uint8 min(max(v * 255.5, 0), 255)
    (tf.image.convert_image_dtype with saturate=True: raw weights are not rescaled)."""
    pixels = np.clip(images.astype(np.float64) * 255.5, 0, 255).astype(np.uint8)
    pngs = [encode_png(img) for img in pixels[:MAX_IMAGES]]
    height, width = images.shape[1], images.shape[2]
    tensor = pb.TensorProto(
        dtype=pb.DataType.Value("DT_STRING"),
        string_val=[str(width).encode(), str(height).encode(), *pngs],
        tensor_shape=shape([2 + len(pngs)]),
    )
    value = Summary.Value(tag=tag, tensor=tensor, metadata=plugin_metadata("images"))
    return Summary(value=[value])
