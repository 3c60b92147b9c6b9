# SPDX-License-Identifier: Apache-2.0
"""Files for TensorBoard's Projector (add_embedding): tensors.tsv, metadata.tsv, sprite.png and
projector_config.pbtxt, laid out as torch.utils.tensorboard writes them."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from xfast.encoding import proto
from xfast.encoding.convert import to_step
from xfast.encoding.summaries import make_np
from xfast.media.png import encode_png


def encode_tag(tag: str) -> str:
    """The tag as a directory name: '%', '/' and '\\' percent-encoded (torch's _encode)."""
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def write_tensors(mat: np.ndarray, save_path: str) -> None:
    """tensors.tsv: one row per data point, values as Python prints them, tab-separated."""
    rows = ("\t".join(map(str, row)) + "\n" for row in mat.tolist())
    with open(os.path.join(save_path, "tensors.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.writelines(rows)


def write_metadata(
    metadata: Sequence[Any], save_path: str, metadata_header: Optional[Sequence[Any]] = None
) -> None:
    """metadata.tsv: one label per line, or with `metadata_header` a header row and then one
    tab-separated row per data point.

    Raises:
        ValueError: a row's length differs from the header's.
    """
    if not metadata_header:
        lines = [str(x) for x in metadata]
    else:
        for row in metadata:
            if isinstance(row, str) or len(row) != len(metadata_header):
                raise ValueError(
                    "add_embedding: each metadata row must have one value per metadata_header "
                    f"column ({len(metadata_header)}), got {row!r}"
                )
        lines = ["\t".join(str(e) for e in row) for row in [metadata_header, *metadata]]
    with open(os.path.join(save_path, "metadata.tsv"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def sprite_pixels(label_img: np.ndarray) -> np.ndarray:
    """The sprite as torch builds it: images (N, C, H, W), C 1 or 3, values in [0, 1], tiled
    ceil(sqrt(N)) per row into a square canvas as wide as a row of images, scaled by 255,
    clipped and truncated to uint8 (H, W, 3).

    Raises:
        ValueError: the images are not (N, 1 or 3, H, W), or the rows of images are taller
            than the canvas is wide (torch fails on this too).
    """
    if label_img.ndim != 4 or label_img.shape[1] not in (1, 3):
        raise ValueError(
            f"label_img must have shape (N, C, H, W) with C 1 or 3, got {label_img.shape}"
        )
    if label_img.shape[1] == 1:
        label_img = np.repeat(label_img, 3, axis=1)
    n, _, h, w = label_img.shape
    cols = math.ceil(n**0.5)
    rows = math.ceil(n / cols)
    side = w * cols
    if h * rows > side:
        raise ValueError(
            f"add_embedding: {rows} rows of {h}-pixel-high images do not fit the {side}-pixel "
            "square sprite; use square (or wider than high) label images"
        )
    tiles = np.zeros((rows * cols, 3, h, w), dtype=np.float64)
    tiles[:n] = label_img
    grid = tiles.reshape(rows, cols, 3, h, w).transpose(0, 3, 1, 4, 2).reshape(rows * h, side, 3)
    canvas = np.zeros((side, side, 3), dtype=np.float64)
    canvas[:rows * h] = grid
    return (canvas * 255).clip(0, 255).astype(np.uint8)


def write_sprite(label_img: np.ndarray, save_path: str) -> None:
    """sprite.png from the label images (see sprite_pixels)."""
    with open(os.path.join(save_path, "sprite.png"), "wb") as f:
        f.write(encode_png(sprite_pixels(label_img)))


def embedding_info(
    subdir: str, global_step: int, tag: str, has_metadata: bool, image_hw: Optional[tuple[int, int]]
) -> Any:
    """The EmbeddingInfo entry for one add_embedding call (paths relative to the logdir)."""
    info = proto.EmbeddingInfo(
        tensor_name=f"{tag}:{str(global_step).zfill(5)}",
        tensor_path=f"{subdir}/tensors.tsv",
    )
    if has_metadata:
        info.metadata_path = f"{subdir}/metadata.tsv"
    if image_hw is not None:
        info.sprite.image_path = f"{subdir}/sprite.png"
        info.sprite.single_image_dim.extend([image_hw[1], image_hw[0]])
    return info


def write_config(log_dir: str, config: Any) -> None:
    """projector_config.pbtxt in `log_dir`: the whole config in text format, rewritten."""
    from google.protobuf import text_format

    with open(os.path.join(log_dir, "projector_config.pbtxt"), "w", encoding="utf-8") as f:
        f.write(text_format.MessageToString(config))


def write_embedding(
    log_dir: str,
    config: Optional[Any],
    mat: Any,
    metadata: Optional[Sequence[Any]],
    label_img: Any,
    global_step: Any,
    tag: str,
    metadata_header: Optional[Sequence[Any]],
) -> Any:
    """add_embedding: checks the arguments, writes ``<log_dir>/<step:05d>/<tag>/`` files, and
    rewrites projector_config.pbtxt with this embedding appended to `config` (a
    ProjectorConfig, or None for the writer's first). Returns the config.

    Raises:
        ValueError: `mat` is not 2-D, or `metadata`/`label_img` do not have one entry per
            data point.
        NotADirectoryError: the embedding's directory exists as a file.
    """
    mat = make_np(mat)
    if mat.ndim != 2:
        raise ValueError(
            f"mat should be 2D, where mat.size(0) is the number of data points; got {mat.shape}"
        )
    if metadata is not None and len(metadata) != mat.shape[0]:
        raise ValueError(f"#labels ({len(metadata)}) should equal #data points ({mat.shape[0]})")
    images = None
    if label_img is not None:
        images = make_np(label_img)
        if images.ndim != 4 or images.shape[0] != mat.shape[0]:
            raise ValueError(
                f"label_img must be (N, C, H, W) with N = #data points ({mat.shape[0]}), "
                f"got {images.shape}"
            )
    step = 0 if global_step is None else to_step(global_step)
    subdir = f"{str(step).zfill(5)}/{encode_tag(tag)}"
    save_path = os.path.join(log_dir, subdir)
    if os.path.isdir(save_path):
        print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
    elif os.path.exists(save_path):
        raise NotADirectoryError(f"Path: `{save_path}` exists, but is a file. Cannot proceed.")
    os.makedirs(save_path, exist_ok=True)
    if metadata is not None:
        write_metadata(metadata, save_path, metadata_header)
    if images is not None:
        write_sprite(images, save_path)
    write_tensors(mat, save_path)
    if config is None:
        config = proto.ProjectorConfig()
    hw = None if images is None else (int(images.shape[2]), int(images.shape[3]))
    config.embeddings.append(embedding_info(subdir, step, tag, metadata is not None, hw))
    write_config(log_dir, config)
    return config
