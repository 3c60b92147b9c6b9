# SPDX-License-Identifier: Apache-2.0
"""add_line_chart (xfast only): each series is the scalar torch's add_scalar writes at
``<title>/<series>``, and the Custom Scalars layout is torch's custom_scalars of the merged layout
(add_custom_scalars' plus one Multiline chart per title)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
import torch
import torch.utils.tensorboard
from conftest import event_files, load_run
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
from tensorboard.plugins.custom_scalar import layout_pb2
from test_rare_methods import LAYOUT
from torch.utils.tensorboard import summary as torch_summary

import xfast
from xfast.plugins.custom_scalars import exact_tag_regex

WALL = 1_700_000_000.0
TITLE = "Acc (%) [val]"


def layouts(run_dir: str) -> list[Any]:
    """Every Custom Scalars layout of the run, in file order."""
    out = []
    for path in event_files(run_dir):
        for event in EventFileLoader(path).Load():
            for v in event.summary.value:
                if v.tag == "custom_scalars__config__":
                    out.append(layout_pb2.Layout.FromString(v.tensor.string_val[0]))
    return out


def torch_layout(layout: Any) -> Any:
    value = torch_summary.custom_scalars(layout).value[0]
    return layout_pb2.Layout.FromString(value.tensor.string_val[0])


def test_series_are_add_scalar(tmp_path: Any) -> None:
    points = [(e, 1.0 / (e + 1), np.float32(e / 3), torch.tensor(0.5 + e)) for e in range(4)]
    with xfast.SummaryWriter(str(tmp_path / "xfast")) as w:
        for e, loss, acc, val in points:
            w.add_line_chart(["Epoch", "loss", "acc", "val acc"], [e, loss, acc, val], TITLE,
                             walltime=WALL + e)
    with torch.utils.tensorboard.SummaryWriter(str(tmp_path / "torch")) as t:
        for e, loss, acc, val in points:
            for name, y in (("loss", loss), ("acc", acc), ("val acc", val)):
                t.add_scalar(f"{TITLE}/{name}", y, e, walltime=WALL + e)
    mine, theirs = load_run(str(tmp_path / "xfast")), load_run(str(tmp_path / "torch"))
    assert sorted(mine.Tags()["scalars"]) == sorted(theirs.Tags()["scalars"])
    assert len(mine.Tags()["scalars"]) == 3
    for tag in theirs.Tags()["scalars"]:
        assert mine.Scalars(tag) == theirs.Scalars(tag)


def test_layout_merged_with_add_custom_scalars(tmp_path: Any) -> None:
    with xfast.SummaryWriter(str(tmp_path)) as w:
        w.add_line_chart(["Epoch", "Training Loss"], [0, 1.0], "Training Loss Chart")
        w.add_custom_scalars(LAYOUT)
        w.add_line_chart(["Epoch", "Training Loss"], [1, 0.5], "Training Loss Chart")
        w.add_line_chart(["Epoch", "acc"], [0, 0.25], TITLE)
        w.add_line_chart(["Epoch", "acc", "val"], [1, 0.5, 0.4], TITLE)  # a new series
    loss_chart = {"Training Loss Chart": ["Multiline", ["^Training Loss Chart/Training Loss$"]]}
    acc_regexes = [r"^Acc \(%\) \[val\]/acc$", r"^Acc \(%\) \[val\]/val$"]
    expected = [
        {"Line charts": loss_chart},
        {**LAYOUT, "Line charts": loss_chart},
        {**LAYOUT, "Line charts": {**loss_chart, TITLE: ["Multiline", acc_regexes[:1]]}},
        {**LAYOUT, "Line charts": {**loss_chart, TITLE: ["Multiline", acc_regexes]}},
    ]
    # One layout per change: the first call of a title, add_custom_scalars, a new series.
    assert layouts(str(tmp_path)) == [torch_layout(e) for e in expected]


@pytest.mark.parametrize("tag", ["Training Loss Chart/Training Loss", f"{TITLE}/a.b", "x+y/z|w"])
def test_regex_matches_the_tag_only(tag: str) -> None:
    regex = exact_tag_regex(tag)
    assert re.match(regex, tag)
    assert not re.match(regex, tag + "2") and not re.match(regex, "a" + tag)


@pytest.mark.parametrize(("labels", "values", "title", "error", "match"), [
    (["Epoch"], [1], "t", ValueError, "at least two labels"),
    (["Epoch", "a"], [1], "t", ValueError, "2 labels but 1 values"),
    (["Epoch", "a"], [1, 2, 3], "t", ValueError, "2 labels but 3 values"),
    (["Epoch", "a", "a"], [1, 2, 3], "t", ValueError, "repeat"),
    (["Epoch", "a"], [1.5, 2], "t", TypeError, "must be an integer"),
    (["Epoch", "a"], [2.0, 2], "t", TypeError, "must be an integer"),
    (["Epoch", "a"], [True, 2], "t", TypeError, "must be an integer"),
    (["Epoch", "a"], [torch.tensor(1.0), 2], "t", TypeError, "must be an integer"),
    (["Epoch", "a"], [1, "x"], "t", TypeError, "'a' must be a number"),
    (["Epoch", "a"], [1, None], "t", TypeError, "'a' must be a number"),
    (["Epoch", "a"], [1, torch.ones(2)], "t", ValueError, "one number"),
    (["Epoch", "a"], [1, np.ones(2)], "t", ValueError, "exactly one element"),
    (["Epoch", 3], [1, 2], "t", TypeError, "labels must be str"),
    ("Ea", [1, 2], "t", TypeError, "labels must be a list"),
    (["Epoch", "a"], [1, 2], "", TypeError, "title"),
])
def test_errors(tmp_path: Any, labels: Any, values: Any, title: Any, error: Any,
                match: str) -> None:
    with xfast.SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(error, match=match):
            w.add_line_chart(labels, values, title)
        w.add_line_chart(["Epoch", "a"], [np.int64(3), torch.tensor(2)], "ok")  # still usable
    run = load_run(str(tmp_path))
    assert run.Tags()["scalars"] == ["ok/a"] and run.Scalars("ok/a")[0].step == 3
    assert len(layouts(str(tmp_path))) == 1  # a refused call wrote nothing
