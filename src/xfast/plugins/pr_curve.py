# SPDX-License-Identifier: Apache-2.0
"""TensorBoard's PR Curves dashboard: torch's ``summary.pr_curve``, ``pr_curve_raw`` and
``compute_curve``."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from xfast.encoding import proto as pb
from xfast.encoding.summaries import Summary, make_np, plugin_metadata, shape

# torch caps PR curves at 127 thresholds (its comment: "value > 127 breaks protobuf").
_MAX_PR_THRESHOLDS = 127


def _pr_curve_summary(tag: str, data: np.ndarray, num_thresholds: int) -> Any:
    content = pb.PrCurvePluginData(version=0, num_thresholds=num_thresholds)
    proto = pb.TensorProto(
        dtype=pb.DataType.Value("DT_FLOAT"),
        float_val=data.reshape(-1).tolist(),
        tensor_shape=shape(data.shape[:2]),
    )
    metadata = plugin_metadata("pr_curves", content.SerializeToString())
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=proto)])


def pr_curve_raw(
    tag: str,
    tp: Any,
    fp: Any,
    tn: Any,
    fn: Any,
    precision: Any,
    recall: Any,
    num_thresholds: int = 127,
    weights: Any = None,
) -> Any:
    """Outputs a PR-curve `Summary` from precomputed counts: a [6, N] float tensor with rows
    tp, fp, tn, fn, precision, recall (plugin "pr_curves").

    Args:
        tag: Data identifier.
        tp, fp, tn, fn, precision, recall: 1-D sequences of equal length N.
        num_thresholds: Recorded in the plugin data (capped at 127).
        weights: Unused (kept for torch's signature).

    Raises:
        ValueError: the six rows are not 1-D sequences of one length.
    """
    rows = [make_np(r).astype(np.float64) for r in (tp, fp, tn, fn, precision, recall)]
    if any(r.ndim != 1 for r in rows) or len({len(r) for r in rows}) != 1:
        raise ValueError(
            "the six PR-curve inputs must be 1-D and of one length, got shapes "
            + ", ".join(str(r.shape) for r in rows)
        )
    return _pr_curve_summary(tag, np.stack(rows), min(int(num_thresholds), _MAX_PR_THRESHOLDS))


def pr_curve(
    tag: str, labels: Any, predictions: Any, num_thresholds: int = 127, weights: Any = None
) -> Any:
    """Outputs a PR-curve `Summary` computed from binary `labels` and `predictions` in [0, 1].

    Args:
        tag: Data identifier.
        labels: Ground truth, one 0/1 (or bool) label per element.
        predictions: The probability that each element is true, in [0, 1].
        num_thresholds: Number of thresholds (capped at 127, as in torch).
        weights: Optional weight per element (or one weight).

    Raises:
        ValueError: labels and predictions differ in shape, or num_thresholds < 2.
    """
    num_thresholds = min(int(num_thresholds), _MAX_PR_THRESHOLDS)
    data = compute_curve(make_np(labels), make_np(predictions), num_thresholds, weights)
    return _pr_curve_summary(tag, data, num_thresholds)


def compute_curve(
    labels: Any, predictions: Any, num_thresholds: Optional[int] = None, weights: Any = None
) -> np.ndarray:
    """The [6, num_thresholds] PR table: predictions are bucketed by ``floor(p * (N - 1))``;
    tp and fp are reverse cumulative (weighted) counts, ``tn = fp[0] - fp``, ``fn = tp[0] - tp``,
    precision ``tp / max(1e-7, tp + fp)``, recall ``tp / max(1e-7, tp + fn)``."""
    if num_thresholds is None or num_thresholds < 2:
        raise ValueError(f"num_thresholds must be at least 2, got {num_thresholds}")
    labels = np.asarray(labels)
    predictions = np.asarray(predictions)
    if labels.shape != predictions.shape:
        raise ValueError(
            "labels and predictions must have one shape, "
            f"got {labels.shape} and {predictions.shape}"
        )
    minimum_count = 1e-7
    weights = 1.0 if weights is None else make_np(weights)
    buckets = np.int32(np.floor(predictions * (num_thresholds - 1)))
    positive = labels.astype(np.float64)
    bounds = (0, num_thresholds - 1)
    tp_buckets, _ = np.histogram(
        buckets, bins=num_thresholds, range=bounds, weights=positive * weights
    )
    fp_buckets, _ = np.histogram(
        buckets, bins=num_thresholds, range=bounds, weights=(1.0 - positive) * weights
    )
    tp = np.cumsum(tp_buckets[::-1])[::-1]
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(minimum_count, tp + fp)
    recall = tp / np.maximum(minimum_count, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))
