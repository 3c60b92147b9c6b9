# SPDX-License-Identifier: Apache-2.0
"""Summary-building functions with torch.utils.tensorboard.summary's names and arguments."""

from xfast._media_summary import audio, image, image_boxes, video

__all__ = ["audio", "image", "image_boxes", "video"]
