# SPDX-License-Identifier: Apache-2.0
"""Embedding layers' weights as files TensorBoard's Projector reads: tensors.tsv under
``<log_dir>/<epoch:05d>/<layer name>/`` and projector_config.pbtxt in ``log_dir`` (the run "."),
where Keras 3 saves a ``.weights.h5`` checkpoint the Projector cannot open
(keras-team/keras#20210)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Optional, Union

import numpy as np

from xfast.encoding import proto
from xfast.plugins import projector

MetadataSpec = Optional[Union[str, Mapping[str, str]]]


def metadata_paths(layer_names: list[str], embeddings_metadata: MetadataSpec) -> dict[str, str]:
    """The metadata file (relative to log_dir) of each Embedding layer: a str applies to every
    layer, a mapping names them.

    Raises:
        ValueError: the mapping names a layer that is not an Embedding layer of the model (as
            Keras raises; unlike Keras, the caller's mapping is not emptied).
    """
    if embeddings_metadata is None:
        return {}
    if isinstance(embeddings_metadata, str):
        return dict.fromkeys(layer_names, embeddings_metadata)
    unknown = sorted(set(embeddings_metadata) - set(layer_names))
    if unknown:
        raise ValueError(
            "embeddings_metadata names layers that are not Embedding layers of the model: "
            f"{unknown} (Embedding layers: {layer_names})"
        )
    return {name: embeddings_metadata[name] for name in layer_names if name in embeddings_metadata}


class EmbeddingLog:
    """The projector config of one log_dir, one entry per (layer, epoch) written."""

    def __init__(self, log_dir: str, metadata: dict[str, str]) -> None:
        self._log_dir = log_dir
        self._metadata = metadata
        self._entries: dict[str, Any] = {}

    def write(self, layer_name: str, weights: np.ndarray, epoch: int) -> None:
        """Writes the layer's (vocabulary, dim) weights of this epoch and rewrites the config
        (a second write of the same layer and epoch, as a second fit() makes, replaces it)."""
        subdir = f"{str(epoch).zfill(5)}/{projector.encode_tag(layer_name)}"
        path = os.path.join(self._log_dir, subdir)
        os.makedirs(path, exist_ok=True)
        projector.write_tensors(weights.reshape(weights.shape[0], -1), path)
        info = projector.embedding_info(subdir, epoch, layer_name, False, None)
        if layer_name in self._metadata:
            info.metadata_path = self._metadata[layer_name]
        self._entries[info.tensor_name] = info
        projector.write_config(
            self._log_dir, proto.ProjectorConfig(embeddings=list(self._entries.values()))
        )
