# SPDX-License-Identifier: Apache-2.0
"""add_mesh's summary as tensorboardX writes it (torch's, with tensorboardX's tags and config)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from xfast.encoding import proto
from xfast.plugins import mesh as torch_mesh


def mesh(
    tag: str, vertices: Any, colors: Any, faces: Any, config_dict: Optional[Mapping[str, Any]]
) -> Any:
    """torch's mesh summary (same checks, same tensors) in tensorboardX's form: each part
    tagged ``<tag>_<content type number>`` (``mesh_1`` for the vertices; torch:
    ``mesh_VERTEX``), no ``components`` in its MeshPluginData, and the config written as
    ``json.dumps(config_dict)``, so "null" when there is none (torch: "{}").

    Raises:
        ValueError: a part is not of shape (B, N, 3).
    """
    summary = torch_mesh.mesh(tag, vertices, colors, faces, config_dict)
    for value in summary.value:
        content = proto.MeshPluginData.FromString(value.metadata.plugin_data.content)
        content.ClearField("components")
        if config_dict is None:
            content.json_config = "null"
        value.tag = f"{tag}_{content.content_type}"
        value.metadata.plugin_data.content = content.SerializeToString()
    return summary
