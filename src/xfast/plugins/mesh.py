# SPDX-License-Identifier: Apache-2.0
"""TensorBoard's Mesh dashboard: torch's ``summary.mesh`` (meshes and point clouds)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Optional

import numpy as np

from xfast.encoding import proto as pb
from xfast.encoding.convert import is_tensor
from xfast.encoding.summaries import Summary, SummaryMetadata, shape


def _mesh_array(x: Any) -> np.ndarray:
    """A mesh part as float64 (torch goes through torch.as_tensor(x).tolist(): exact values,
    bfloat16 included)."""
    if is_tensor(x):
        return np.asarray(x.detach().cpu().double().numpy())
    return np.asarray(x, dtype=np.float64)


_MESH_PARTS = (("vertices", "VERTEX"), ("faces", "FACE"), ("colors", "COLOR"))


def mesh(
    tag: str,
    vertices: Any,
    colors: Any,
    faces: Any,
    config_dict: Optional[Mapping[str, Any]],
    display_name: Optional[str] = None,
    description: Optional[str] = None,
) -> Any:
    """Outputs a merged `Summary` with a mesh or point cloud: one float tensor Value per part
    given (vertices, faces, colors, in that order), tagged ``<tag>_VERTEX`` and so on, each with
    ``MeshPluginData`` naming the mesh `tag` and the parts present.

    Args:
        tag: A name for this mesh.
        vertices: [B, N, 3] vertex coordinates.
        colors: [B, N, 3] colors (0-255), or None.
        faces: [B, F, 3] vertex indices of each triangle, or None.
        config_dict: Dictionary with ThreeJS classes names and configuration, or None.
        display_name: If set, the display name in TensorBoard.
        description: A longform readable description of the summary data (markdown).

    Raises:
        ValueError: a part is not of shape [B, N, 3].
    """
    json_config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    given = {"vertices": vertices, "faces": faces, "colors": colors}
    parts = [(name, kind) for name, kind in _MESH_PARTS if given[name] is not None]
    components = 0
    for _, kind in parts:
        components |= 1 << pb.MeshPluginData.ContentType.Value(kind)
    values = []
    for name, kind in parts:
        data = _mesh_array(given[name])
        if data.ndim != 3 or data.shape[-1] != 3:
            raise ValueError(f"add_mesh: {name} must have shape [B, N, 3], got {data.shape}")
        content = pb.MeshPluginData(
            version=0,
            name=tag,
            content_type=pb.MeshPluginData.ContentType.Value(kind),
            components=components,
            shape=data.shape,
            json_config=json_config,
        )
        metadata = SummaryMetadata(
            display_name=display_name,
            summary_description=description,
            plugin_data=SummaryMetadata.PluginData(
                plugin_name="mesh", content=content.SerializeToString()
            ),
        )
        proto = pb.TensorProto(
            dtype=pb.DataType.Value("DT_FLOAT"),
            float_val=data.reshape(-1).tolist(),
            tensor_shape=shape(data.shape),
        )
        values.append(Summary.Value(tag=f"{tag}_{kind}", tensor=proto, metadata=metadata))
    return Summary(value=values)
