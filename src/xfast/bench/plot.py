# SPDX-License-Identifier: Apache-2.0
"""The benchmark as a figure (python -m xfast.bench --plot PATH; needs matplotlib, the `bench`
extra): caller-time ratios against torch and tensorboardX per method on a log axis, and the
training loop's overheads with their spread, titled with the machine and the versions."""

from __future__ import annotations

from typing import Any

ANCHOR_COLORS = {"torch": "#ee4c2c", "tensorboardX": "#4c72b0"}
LIB_COLORS = {"xfast": "#2ca02c", **ANCHOR_COLORS}


def _caller_ratios(data: dict[str, Any]) -> list[tuple[str, dict[str, float]]]:
    """(label, {anchor: how many times less caller time xfast takes}) for every caller-time
    row of the report."""
    out = []
    for sec in data["sections"]:
        for row in sec["rows"]:
            if "caller time" not in row["metric"]:
                continue
            ratios = {a: r for a, r in row["speedup"].items() if r}
            if ratios:
                label = row["metric"].replace(" caller time", "")
                if sec["title"].startswith("add_scalar"):
                    label = "add_scalar, a loop of calls"
                elif sec["title"].startswith("add_histogram"):
                    label = f"add_histogram {label}, one call"
                out.append((label, ratios))
    return out


def _overheads(data: dict[str, Any]) -> list[tuple[str, dict[str, tuple[float, float, float]]]]:
    """(row, {lib: (median, 25th, 75th percentile)}) for the training loop's overhead rows."""
    out = []
    for sec in data["sections"]:
        if not sec["title"].startswith("training"):
            continue
        for row in sec["rows"]:
            if row["unit"] != "%" or not row["metric"].startswith("overhead"):
                continue
            libs = {
                lib: (v, *row.get("spread", {}).get(lib, (v, v)))
                for lib, v in row["median"].items()
            }
            label = row["metric"].replace("overhead in process CPU time", "process CPU")
            label = label.replace("overhead + writer CPU", "wall + writer CPU")
            label = label.replace("overhead", "wall").replace(", ", "\n")
            out.append((label, libs))
    return out


def _title(data: dict[str, Any]) -> str:
    env = data["environment"]
    run = "python -m xfast.bench" + (" --quick" if data.get("quick") else "")
    return (
        f"{run}: xfast {env['xfast']} vs torch {env['torch']} "
        f"(tensorboard {env['tensorboard']}) and tensorboardX {env['tensorboardX']}\n"
        f"{env['cpu']}, {env['usable_cores']} usable cores, "
        f"python {env['python']}, load {env['load_before']} -> {env['load_after']}"
    )


def write(data: dict[str, Any], path: str) -> None:
    """Draws the report `data` (report.to_json's form) into the image file `path`.

    Raises:
        ImportError: matplotlib is not installed (pip install "xfast[bench]").
    """
    try:
        import matplotlib as mpl
    except ImportError as e:
        raise ImportError('--plot needs matplotlib: pip install "xfast[bench]"') from e
    mpl.use("Agg")
    import matplotlib.pyplot as plt

    ratios = _caller_ratios(data)
    overheads = _overheads(data)
    panels = [p for p in (ratios, overheads) if p]
    rows = max(len(ratios), 2 * len(overheads), 4)
    fig, axes = plt.subplots(
        1, max(len(panels), 1), figsize=(8 * max(len(panels), 1), 1.5 + 0.4 * rows),
        squeeze=False,
    )
    col = 0
    if ratios:
        _draw_ratios(axes[0][col], ratios)
        col += 1
    if overheads:
        _draw_overheads(axes[0][col], overheads)
    fig.suptitle(_title(data), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _draw_ratios(ax: Any, ratios: list[tuple[str, dict[str, float]]]) -> None:
    height = 0.8 / len(ANCHOR_COLORS)
    for k, (anchor, color) in enumerate(ANCHOR_COLORS.items()):
        ys = [i + (k - 0.5) * height for i in range(len(ratios))]
        xs = [r.get(anchor, 0.0) for _, r in ratios]
        bars = ax.barh(ys, xs, height=height, color=color, label=f"{anchor} / xfast")
        for bar, x in zip(bars, xs):
            if x:
                ax.text(x, bar.get_y() + height / 2, f" {x:.3g}x", va="center", fontsize=7)
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(ratios)))
    ax.set_yticklabels([label for label, _ in ratios], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("caller time of the other library / xfast's (log scale; > 1: xfast faster)",
                  fontsize=8)
    ax.set_title("caller time per call", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _draw_overheads(
    ax: Any, overheads: list[tuple[str, dict[str, tuple[float, float, float]]]]
) -> None:
    libs = [lib for lib in LIB_COLORS if any(lib in o for _, o in overheads)]
    height = 0.8 / max(len(libs), 1)
    for k, lib in enumerate(libs):
        ys, xs, lo, hi = [], [], [], []
        for i, (_, by_lib) in enumerate(overheads):
            if lib in by_lib:
                v, q1, q3 = by_lib[lib]
                ys.append(i + (k - (len(libs) - 1) / 2) * height)
                xs.append(v)
                lo.append(max(v - q1, 0.0))
                hi.append(max(q3 - v, 0.0))
        ax.barh(ys, xs, height=height, color=LIB_COLORS[lib], label=lib,
                xerr=[lo, hi], error_kw={"elinewidth": 0.8, "capsize": 2})
    ax.axvline(10.0, color="gray", linestyle="--", linewidth=0.8, label="+10% target")
    ax.set_yticks(range(len(overheads)))
    ax.set_yticklabels([label for label, _ in overheads], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("overhead over the bare step, % (median; bars: interquartile range)",
                  fontsize=8)
    ax.set_title("training loop, histograms of every tensor each step", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
