# SPDX-License-Identifier: Apache-2.0
"""The GraphDef tensorboardX draws from an OpenVINO IR file (``.xml``), without openvino."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from typing import Any, Union

from xfast.encoding import proto

# The GraphDef version tensorboardX stamps on the graphs it builds.
_PRODUCER_VERSION = 22


def openvino_graph(xmlname: Union[str, os.PathLike[str]]) -> Any:
    """One NodeDef per edge of the IR's ``<edges>``: named after the edge's target layer, op
    "op", input the source layer's name, an empty "parameters" attribute (tensorboardX's
    layout; layers without an incoming edge get no node).

    Args:
        xmlname: Path of the IR's ``.xml`` file.

    Raises:
        OSError: the file cannot be read.
        ValueError: it is not XML, or not an IR (no ``<layers>``/``<edges>``, an edge naming an
            unknown layer, a layer without id or name).
    """
    try:
        root = ET.parse(os.fspath(xmlname)).getroot()
    except ET.ParseError as e:
        raise ValueError(f"add_openvino_graph: {xmlname!r} is not XML: {e}") from e
    layers = root.find("layers")
    edges = root.find("edges")
    if layers is None or edges is None:
        raise ValueError(f"add_openvino_graph: {xmlname!r} has no <layers> and <edges>")
    try:
        names = {layer.attrib["id"]: layer.attrib["name"] for layer in layers}
        pairs = [(e.attrib["from-layer"], e.attrib["to-layer"]) for e in edges]
        nodes = [
            proto.NodeDef(
                name=names[dst], op="op", input=[names[src]],
                attr={"parameters": proto.AttrValue(s=b"")},
            )
            for src, dst in pairs
        ]
    except KeyError as e:
        raise ValueError(f"add_openvino_graph: {xmlname!r}: missing or unknown {e}") from e
    return proto.GraphDef(node=nodes, versions=proto.VersionDef(producer=_PRODUCER_VERSION))
