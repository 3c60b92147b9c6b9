# SPDX-License-Identifier: Apache-2.0
"""TensorBoard's Custom Scalars dashboard: the layout ``add_custom_scalars`` writes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from xfast.encoding import proto as pb
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
