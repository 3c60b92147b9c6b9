# SPDX-License-Identifier: Apache-2.0
"""matplotlib figures as image arrays (for add_figure); matplotlib is imported only here."""

from __future__ import annotations

from typing import Any

import numpy as np


def figure_to_chw(figure: Any, close: bool) -> np.ndarray:
    """The figure rendered by an Agg canvas, as a (3, H, W) uint8 array (alpha dropped)."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas: Any = FigureCanvasAgg(figure)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    chw = np.ascontiguousarray(rgba[:, :, :3].transpose(2, 0, 1))
    if close:
        plt.close(figure)
    return chw


def figures_to_array(figure: Any, close: bool) -> tuple[np.ndarray, str]:
    """A figure as (CHW array, "CHW"), or a list of figures as (NCHW array, "NCHW").

    Everything is checked before any figure is drawn or closed: an Agg canvas draws a new
    blank figure for anything that is not one, and pyplot's close(None) closes the current
    figure.
    """
    from matplotlib.figure import Figure

    figures = figure if isinstance(figure, list) else [figure]
    for f in figures:
        if not isinstance(f, Figure):
            raise TypeError(
                f"figure must be a matplotlib Figure or a list of them, got {type(f).__name__}"
            )
    if not figures:
        raise ValueError("figure is an empty list")
    if isinstance(figure, list):  # np.stack raises ValueError when the sizes differ
        return np.stack([figure_to_chw(f, close) for f in figures]), "NCHW"
    return figure_to_chw(figure, close), "CHW"
