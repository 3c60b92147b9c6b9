# SPDX-License-Identifier: Apache-2.0
"""torch.utils.tensorboard.summary's functions: each builds a ``Summary`` message (xfast's own
classes, wire-identical to TensorBoard's) with the same content torch's builds. They live with
what they log (xfast.encoding.summaries, xfast.media, xfast.plugins); this module gathers them
under torch's import path."""

from __future__ import annotations

from xfast.encoding.summaries import (
    half_to_int,
    histogram,
    histogram_raw,
    int_to_half,
    make_histogram,
    scalar,
    tensor_proto,
)
from xfast.media.summaries import audio, image, image_boxes, video
from xfast.plugins.custom_scalars import CUSTOM_SCALARS_TAG, custom_scalars
from xfast.plugins.hparams import (
    EXPERIMENT_TAG,
    SESSION_END_INFO_TAG,
    SESSION_START_INFO_TAG,
    hparams,
)
from xfast.plugins.mesh import mesh
from xfast.plugins.pr_curve import compute_curve, pr_curve, pr_curve_raw
from xfast.plugins.text import text

__all__ = [
    "CUSTOM_SCALARS_TAG",
    "EXPERIMENT_TAG",
    "SESSION_END_INFO_TAG",
    "SESSION_START_INFO_TAG",
    "audio",
    "compute_curve",
    "custom_scalars",
    "half_to_int",
    "histogram",
    "histogram_raw",
    "hparams",
    "image",
    "image_boxes",
    "int_to_half",
    "make_histogram",
    "mesh",
    "pr_curve",
    "pr_curve_raw",
    "scalar",
    "tensor_proto",
    "text",
    "video",
]
