# SPDX-License-Identifier: Apache-2.0
"""TensorBoard's Custom Scalars dashboard: the layout ``add_custom_scalars`` writes, and the
line charts of ``add_line_chart`` merged into it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from xfast.encoding import proto as pb
from xfast.encoding.convert import is_tensor, to_float, to_step
from xfast.encoding.summaries import Summary, plugin_metadata

# The tag the Custom Scalars plugin reads its layout from (tensorboard/plugins/custom_scalar).
CUSTOM_SCALARS_TAG = "custom_scalars__config__"


def custom_scalars(layout: Mapping[str, Mapping[str, Sequence[Any]]]) -> Any:
    """Outputs the Custom Scalars dashboard's layout as a `Summary` (tag
    ``custom_scalars__config__``).

    Args:
        layout: ``{category: {chart title: [kind, tags]}}`` where kind is ``"Multiline"`` (tags:
            any number of tag regexes) or ``"Margin"`` (tags: exactly [value, lower, upper]).

    Raises:
        TypeError: `layout` is not a mapping of mappings.
        ValueError: a chart is not a [kind, tags] pair, or a Margin chart has not 3 tags
            (torch raises AssertionError).
    """
    if not isinstance(layout, Mapping):
        raise TypeError(f"layout must be a dict, got {type(layout).__name__}")
    categories = []
    for category, charts in layout.items():
        if not isinstance(charts, Mapping):
            raise TypeError(f"layout[{category!r}] must be a dict of charts")
        protos = []
        for title, spec in charts.items():
            if isinstance(spec, (str, bytes)) or len(spec) != 2:
                raise ValueError(
                    f"chart {title!r} must be [kind, tags], e.g. ['Multiline', ['a', 'b']]"
                )
            kind, tags = spec
            tags = [tags] if isinstance(tags, str) else list(tags)
            if kind == "Margin":
                if len(tags) != 3:
                    raise ValueError(
                        f"Margin chart {title!r} needs exactly 3 tags (value, lower, upper), "
                        f"got {len(tags)}"
                    )
                series = pb.MarginChartContent.Series(
                    value=tags[0], lower=tags[1], upper=tags[2]
                )
                chart = pb.Chart(title=title, margin=pb.MarginChartContent(series=[series]))
            else:  # torch treats every other kind as Multiline
                chart = pb.Chart(title=title, multiline=pb.MultilineChartContent(tag=tags))
            protos.append(chart)
        categories.append(pb.Category(title=category, chart=protos))
    proto = pb.TensorProto(
        dtype=pb.DataType.Value("DT_STRING"),
        string_val=[pb.Layout(category=categories).SerializeToString()],
        tensor_shape=pb.TensorShapeProto(),
    )
    return Summary(
        value=[
            Summary.Value(
                tag=CUSTOM_SCALARS_TAG, tensor=proto, metadata=plugin_metadata("custom_scalars")
            )
        ]
    )


# The Custom Scalars category that holds add_line_chart's charts.
LINE_CHARTS_CATEGORY = "Line charts"
# Characters special in a regex, escaped one by one: the dashboard matches the chart's tags as
# regexes, in Python (the plugin's /scalars route) and JavaScript alike, where Python's
# re.escape would also escape characters (a space) that are not special.
_REGEX_SPECIALS = frozenset("\\.^$*+?()[]{}|")


def exact_tag_regex(tag: str) -> str:
    """A regex matching `tag` only."""
    return "^" + "".join("\\" + c if c in _REGEX_SPECIALS else c for c in tag) + "$"


def with_line_charts(
    layout: Mapping[str, Mapping[str, Sequence[Any]]], line_charts: Mapping[str, Sequence[str]]
) -> Mapping[str, Mapping[str, Sequence[Any]]]:
    """`layout` with a Multiline chart per ``{title: series}`` of add_line_chart over the tags
    ``<title>/<series>``, in the category LINE_CHARTS_CATEGORY (after the charts `layout` may
    hold there already). `layout` itself when there are no line charts."""
    if not line_charts:
        return layout
    merged = {category: dict(charts) for category, charts in layout.items()}
    charts = merged.setdefault(LINE_CHARTS_CATEGORY, {})
    for title, series in line_charts.items():
        charts.setdefault(title, ["Multiline", [exact_tag_regex(f"{title}/{s}") for s in series]])
    return merged


def line_chart_point(
    labels: Sequence[str], values: Sequence[Any], title: str
) -> tuple[list[str], int, list[Any]]:
    """add_line_chart's arguments checked: (series names, x as an int step, y values: floats,
    or one-element tensors left as they are so that a CUDA tensor is not synchronized on).

    Raises:
        TypeError: `title` or a label is not a str, `labels`/`values` is not a sequence, x is
            not an integer, or a y value is not a number.
        ValueError: fewer than two labels, a repeated series name, `values` not as long as
            `labels`, or a y value with several elements.
    """
    if not isinstance(title, str) or not title:
        raise TypeError(f"add_line_chart: title must be a non-empty str, got {title!r}")
    for name, seq in (("labels", labels), ("values", values)):
        if isinstance(seq, (str, bytes)) or not isinstance(seq, Sequence):
            raise TypeError(f"add_line_chart: {name} must be a list, got {type(seq).__name__}")
    if len(labels) < 2:
        raise ValueError(
            "add_line_chart needs at least two labels: the x axis, then one per series; "
            f"got {list(labels)!r}"
        )
    if not all(isinstance(label, str) for label in labels):
        raise TypeError(f"add_line_chart: labels must be str, got {list(labels)!r}")
    if len(set(labels[1:])) != len(labels) - 1:
        raise ValueError(f"add_line_chart: series names repeat in {list(labels[1:])!r}")
    if len(values) != len(labels):
        raise ValueError(
            f"add_line_chart: {len(labels)} labels but {len(values)} values "
            "(one x value, then one y value per series)"
        )
    x = values[0]
    x_is_int = isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))
    if is_tensor(x):
        x_is_int = x.numel() == 1 and not x.dtype.is_floating_point and not x.dtype.is_complex
    if not x_is_int:
        raise TypeError(
            f"add_line_chart: the x value (the step, {labels[0]!r}) must be an integer, got {x!r}"
        )
    ys = []
    for label, y in zip(labels[1:], values[1:]):
        if is_tensor(y):
            if y.numel() != 1:
                raise ValueError(f"add_line_chart: {label!r} must be one number, got shape "
                                 f"{tuple(y.shape)}")
            if y.dtype.is_complex:
                raise TypeError(f"add_line_chart: {label!r} must be a real number")
            ys.append(y)
        else:
            try:
                ys.append(to_float(y))
            except TypeError as e:
                raise TypeError(f"add_line_chart: {label!r} must be a number, got {y!r}") from e
    return list(labels[1:]), to_step(x), ys
