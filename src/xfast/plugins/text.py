# SPDX-License-Identifier: Apache-2.0
"""TensorBoard's Text dashboard: the Summary of ``add_text`` (torch's ``summary.text``)."""

from __future__ import annotations

from typing import Any

from xfast.encoding import proto as pb
from xfast.encoding.summaries import Summary, plugin_metadata, shape


def text(tag: str, text: str) -> Any:
    """Outputs a `Summary` with a text tensor (plugin "text"); the tag gets "/text_summary"."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    proto = pb.TensorProto(
        dtype=pb.DataType.Value("DT_STRING"),
        string_val=[text.encode("utf-8")],
        tensor_shape=shape([1]),
    )
    metadata = plugin_metadata("text", pb.TextPluginData(version=0).SerializeToString())
    return Summary(
        value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata, tensor=proto)]
    )
