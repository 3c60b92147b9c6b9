# SPDX-License-Identifier: Apache-2.0
"""Benchmark results (rows of medians per library) and the printed table."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from xfast.bench.libs import ALL

ANCHORS = ("torch", "tensorboardX")
# A reference whose samples spread wider than this (interquartile range over median) makes the
# ratios taken against it meaningless: the row is flagged rather than trusted.
NOISY_SPREAD = 0.25
SHORT = {"xfast": "xfast", "torch": "torch", "tensorboardX": "tbX"}


@dataclass
class Row:
    """One measured quantity, its median per library and the target it is held to."""

    metric: str
    unit: str  # "us", "ms", "s", "/s" (throughput) or "%"
    values: dict[str, float] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)
    higher_is_better: bool = False
    target: str = ""
    met: Optional[bool] = None
    note: str = ""
    speedups: bool = True  # whether the ratio columns apply
    # Per library: the interquartile range of the samples, printed as +- half its width.
    spread: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Libraries whose samples scatter too widely for the row to mean much (flagged with "?").
    noisy: set[str] = field(default_factory=set)

    def speedup(self, anchor: str) -> Optional[float]:
        """How many times better xfast is than `anchor` on this row (None if not measured)."""
        x, a = self.values.get("xfast"), self.values.get(anchor)
        if not self.speedups or x is None or a is None or x <= 0 or a <= 0:
            return None
        return x / a if self.higher_is_better else a / x


@dataclass
class Section:
    """A scenario's rows plus, per library, whether what it wrote read back correctly."""

    title: str
    rows: list[Row] = field(default_factory=list)
    correct: dict[str, bool] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)

    def verdict(self, lib: str, problem: str) -> None:
        """Records one correctness check for lib ('' = passed)."""
        self.correct[lib] = self.correct.get(lib, True) and not problem
        if problem:
            self.problems.setdefault(lib, []).append(problem)


def is_noisy(row: Row, lib: str) -> bool:
    """Whether lib's samples on this row spread wider than NOISY_SPREAD of their median."""
    v = row.values.get(lib)
    if v is None or v == 0 or lib not in row.spread:
        return False
    lo, hi = row.spread[lib]
    return (hi - lo) / abs(v) > NOISY_SPREAD


def _fmt(v: Optional[float], unit: str) -> str:
    if v is None:
        return "-"
    if unit == "/s":
        for div, suffix in ((1e6, "M"), (1e3, "k")):
            if v >= div:
                return f"{v / div:.2f}{suffix}/s"
        return f"{v:.0f}/s"
    if unit == "%":
        return f"{v:+.1f}%"
    if unit == "s":
        # Picks a readable unit for a duration given in seconds.
        for scale, suffix in ((1.0, "s"), (1e-3, "ms"), (1e-6, "us")):
            if v >= scale:
                return f"{v / scale:.3g} {suffix}"
        return f"{v * 1e9:.3g} ns"
    return f"{v:.3g} {unit}"


def _cell(row: Row, lib: str) -> str:
    """A row's value for lib, with its spread when it has one: +- half the interquartile range
    in points for percentages, relative to the median otherwise."""
    v = row.values.get(lib)
    text = _fmt(v, row.unit)
    if v is None or lib not in row.spread:
        return text
    lo, hi = row.spread[lib]
    half = (hi - lo) / 2
    if row.unit == "%":
        text += f" +-{half:.1f}"
    elif v != 0:
        text += f" +-{abs(half / v):.0%}"
    return text + ("?" if lib in row.noisy else "")


def _ratio(r: Optional[float]) -> str:
    return "-" if r is None else f"{r:.3g}x"


def render(env_lines: list[str], sections: list[Section], libs: list[str]) -> str:
    """The report as text: header, one table per section, correctness and targets."""
    shown = [lib for lib in ALL if lib in libs]
    anchors = [a for a in ANCHORS if a in libs]
    head = ["metric"] + [SHORT[lib] for lib in shown] + [f"{SHORT[a]}/xfast" for a in anchors]
    head += ["target", "met"]
    out = list(env_lines)
    for sec in sections:
        table = [head]
        for row in sec.rows:
            cells = [row.metric] + [_cell(row, lib) for lib in shown]
            cells += [_ratio(row.speedup(a)) for a in anchors]
            met = "" if row.met is None else ("yes" if row.met else "NO")
            cells += [row.target, met]
            table.append(cells)
        table.append(
            ["correct"] + [_correct(sec, lib) for lib in shown] + [""] * (len(anchors) + 2)
        )
        widths = [max(len(r[i]) for r in table) for i in range(len(head))]
        out += ["", f"== {sec.title} =="]
        for r in table:
            out.append(
                "  ".join(
                    c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))
                )
            )
        out += [f"  note: {row.metric}: {row.note}" for row in sec.rows if row.note]
        for lib, problems in sec.problems.items():
            out += [f"  INCORRECT {lib}: {p}" for p in problems]
    out += [
        "",
        (
            "ratios: how many times better xfast is "
            "(anchor time / xfast time, or xfast rate / anchor rate)"
        ),
    ]
    return "\n".join(out)


def _correct(sec: Section, lib: str) -> str:
    if lib not in sec.correct:
        return "-"
    return "True" if sec.correct[lib] else "FALSE"


def to_json(env: dict[str, Any], sections: list[Section], config: dict[str, Any]) -> dict[str, Any]:
    """Everything measured, samples included, as plain JSON data."""
    return {
        "environment": env,
        "config": config,
        "sections": [
            {
                "title": s.title,
                "correct": s.correct,
                "problems": s.problems,
                "rows": [
                    {
                        "metric": r.metric,
                        "unit": r.unit,
                        "median": r.values,
                        "samples": r.samples,
                        "spread": {k: list(v) for k, v in r.spread.items()},
                        "noisy": sorted(r.noisy),
                        "higher_is_better": r.higher_is_better,
                        "speedup": {a: r.speedup(a) for a in ANCHORS},
                        "target": r.target,
                        "met": r.met,
                        "note": r.note,
                    }
                    for r in s.rows
                ],
            }
            for s in sections
        ],
    }
