# SPDX-License-Identifier: Apache-2.0
"""xfast.tensorboardX's own options and checks: write_to_disk=False, comet_config, FileWriter,
use_metadata, tag cleaning, add_scalar's display_name, add_images of a list."""

from __future__ import annotations

import json
import os
import sys
import time
import types
import warnings
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from conftest import event_files, load_run
from record_reader import read_events
from tensorboard.compat.proto import event_pb2, summary_pb2

import xfast
from xfast.tensorboardX import FileWriter, SummaryWriter
from xfast.tensorboardX.tags import TagCleaner


def test_write_to_disk_false_writes_nothing(tmp_path: Any) -> None:
    d = str(tmp_path / "none")
    w = SummaryWriter(d, write_to_disk=False)
    w.add_scalar("a", 1.0, 0)
    w.add_image("i", "not even an image")  # no-ops check nothing, as cheap as can be
    w.add_histogram("h", np.arange(3.0))
    w.add_scalars("m", {"x": 1.0}, 2, walltime=5.0)
    with w.use_metadata(global_step=3):
        w.add_text("t", "x")
    w.export_scalars_to_json(str(tmp_path / "s.json"))
    w.flush()
    w.close()
    assert not os.path.exists(d)
    with open(tmp_path / "s.json") as f:
        assert json.load(f) == {os.path.join(d, "m", "x"): [[5.0, 2, 1.0]]}


def test_unknown_keyword_is_a_type_error(tmp_path: Any) -> None:
    with pytest.raises(TypeError, match="'foo'"):
        SummaryWriter(str(tmp_path), foo=1)
    with SummaryWriter(str(tmp_path), queue_capacity=64, on_error="warn") as w:
        w.add_scalar("a", 1.0)
        assert w.stats()["capacity"] == 64


def test_log_dir_and_logdir(tmp_path: Any) -> None:
    with SummaryWriter(log_dir=str(tmp_path / "b")) as w:
        assert w.logdir == str(tmp_path / "b")
    with SummaryWriter(str(tmp_path / "a"), log_dir=str(tmp_path / "b")) as w:
        assert w.get_logdir() == str(tmp_path / "a")


def test_comet_without_comet_ml(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "comet_ml", None)  # import comet_ml fails
    with pytest.raises(ImportError, match="pip install comet-ml"):
        SummaryWriter(str(tmp_path), comet_config={"disabled": False})
    with pytest.raises(TypeError, match="comet_config"):
        SummaryWriter(str(tmp_path), comet_config="on")
    SummaryWriter(str(tmp_path), comet_config={"disabled": True}).close()
    SummaryWriter(str(tmp_path), comet_config=None).close()


class _Experiment:
    calls: ClassVar[list[tuple[Any, ...]]] = []

    def __init__(self, **config: Any) -> None:
        self.calls.append(("Experiment", config))

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: self.calls.append((name, a, k))


def test_comet_receives_what_tensorboardx_sends(tmp_path: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("comet_ml")
    fake.Experiment = _Experiment  # type: ignore[attr-defined]
    fake.init = lambda: _Experiment.calls.append(("init",))  # type: ignore[attr-defined]
    fake.get_global_experiment = lambda: None  # type: ignore[attr-defined]
    fake.config = types.SimpleNamespace(experiment=None)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "comet_ml", fake)
    _Experiment.calls = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = SummaryWriter(str(tmp_path), comet_config={"disabled": False, "project_name": "p"})
        w.add_scalar("a b", 1.5, 3)
        w.add_scalar("c", 2.0, 4, display_name="Shown")
        w.add_scalars("m", {"x": 1.0}, 5)
        w.add_hparams({"lr": 0.1}, {"acc": 1.0}, name="h")
        w.add_text("t", "hello", 6)
        w.close()
    names = [c[0] for c in _Experiment.calls]
    assert names == ["init", "Experiment", "log_other", "log_metric", "log_metric",
                     "log_metrics", "log_parameters", "log_text", "end"]
    assert _Experiment.calls[1][1] == {"disabled": False, "project_name": "p"}
    assert _Experiment.calls[3][1] == ("a_b", 1.5, 3)
    assert _Experiment.calls[4][1] == ("Shown", 2.0, 4)
    assert _Experiment.calls[5][2] == {"prefix": "m", "step": 5}
    assert load_run(str(tmp_path)).Scalars("a_b")[0].value == 1.5  # still written to disk


def test_file_writer_logdir_keyword_and_metadata(tmp_path: Any) -> None:
    fw = FileWriter(logdir=str(tmp_path))
    assert fw.get_logdir() == str(tmp_path)
    value = summary_pb2.Summary.Value(tag="x", simple_value=1.0)
    with fw.use_metadata(global_step=4, walltime=9.0):
        fw.add_summary(summary_pb2.Summary(value=[value]))
        fw.add_event(event_pb2.Event(summary=summary_pb2.Summary(value=[value])), step=5)
        with pytest.raises(RuntimeError, match="nest"), fw.use_metadata(global_step=1):
            pass
    with pytest.raises(ValueError, match="global_step or walltime"), fw.use_metadata():
        pass
    fw.add_summary(summary_pb2.Summary(value=[value]), 6, 10.0)
    fw.close()
    events = read_events(fw.event_writer._ev_writer._file_name)
    assert [(e.step, e.wall_time) for e in events[1:]] == [(4, 9.0), (5, 9.0), (6, 10.0)]


def test_metadata_is_reset_after_an_error(tmp_path: Any) -> None:
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(KeyError), w.use_metadata(global_step=3):
            raise KeyError
        w.add_scalar("a", 1.0)
    assert load_run(str(tmp_path)).Scalars("a")[0].step == 0


def test_tags_cleaned_and_warned_once_per_tag(tmp_path: Any) -> None:
    with SummaryWriter(str(tmp_path)) as w, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(3):
            w.add_scalar("loss (train)", i, i)
            w.add_scalar("/lead", i, i)
            w.add_scalar("fine/tag-1.x", i, i)
        w.add_histogram("h h", np.arange(4.0))
        w.add_video("v v", np.zeros((1, 2, 3, 4, 4)))
        w.add_text("t t", "text tags are kept as they are")
    assert sorted(str(c.message).split("'")[1] for c in caught) == [
        "/lead", "h h", "loss (train)", "v v"]
    assert all(c.filename == __file__ for c in caught)
    tags = load_run(str(tmp_path)).Tags()
    assert sorted(tags["scalars"]) == ["fine/tag-1.x", "lead", "loss__train_"]
    assert tags["histograms"] == ["h_h"] and tags["images"] == ["v_v"]
    assert "t t/text_summary" in tags["tensors"]


def test_tag_cleaner_rules() -> None:
    clean = TagCleaner()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert clean("a b/c.d-e_f") == "a_b/c.d-e_f"
        assert clean("//x") == "x"
        assert clean("ü") == "ü"  # \w is Unicode, as in tensorboardX
    with pytest.raises(TypeError):
        clean(3)  # type: ignore[arg-type]


def test_display_name_and_description(tmp_path: Any) -> None:
    with SummaryWriter(str(tmp_path)) as w:
        w.add_scalar("a", 1.0, 0, display_name="Title", summary_description="what")
        w.add_scalar("a", torch.tensor(2.0), 1)
    first, second = read_events(event_files(str(tmp_path))[0])[1:]
    meta = first.summary.value[0].metadata
    assert (meta.display_name, meta.summary_description) == ("Title", "what")
    assert second.summary.value[0].simple_value == 2.0 and second.step == 1


def test_add_images_list_checks(tmp_path: Any) -> None:
    with SummaryWriter(str(tmp_path)) as w:
        with pytest.raises(ValueError, match="CHW' or 'HWC"):
            w.add_images("l", [np.zeros((3, 2, 2))], dataformats="NCHW")
        with pytest.raises(ValueError, match="empty"):
            w.add_images("l", [], dataformats="CHW")
        w.add_images("l", [np.zeros((2, 2, 3)), np.ones((2, 2, 3))], dataformats="hwc")
    (img,) = load_run(str(tmp_path)).Images("l")
    assert (img.width, img.height) == (4, 2)


def test_add_image_with_boxes_keywords(tmp_path: Any) -> None:
    with SummaryWriter(str(tmp_path)) as w:
        w.add_image_with_boxes("b", np.zeros((3, 8, 8)), np.array([[1, 1, 5, 5]]), 0,
                               labels="one", rescale=1)
        with pytest.raises(TypeError, match="'colour'"):
            w.add_image_with_boxes("b", np.zeros((3, 8, 8)), np.array([[1, 1, 5, 5]]),
                                   colour="red")
    assert len(load_run(str(tmp_path)).Images("b")) == 1


def test_torch_face_is_unchanged(tmp_path: Any) -> None:
    # xfast.SummaryWriter keeps torch's add_scalars layout and tags.
    with xfast.SummaryWriter(str(tmp_path)) as w:
        w.add_scalars("m/n", {"x y": 1.0}, 0)
        w.add_scalar("a b", 1.0)
    assert sorted(os.listdir(tmp_path))[-1] == "m_n_x y"
    assert load_run(str(tmp_path)).Tags()["scalars"] == ["a b"]


def test_metadata_step_only_stamps_the_call_time(tmp_path: Any) -> None:
    # tensorboardX writes wall time 0 here, and leaves add_scalars' step unset.
    before = time.time()
    with SummaryWriter(str(tmp_path)) as w, w.use_metadata(global_step=3):
        w.add_scalar("a", 1.0)
        w.add_scalars("m", {"x": 2.0})
    (a,) = load_run(str(tmp_path)).Scalars("a")
    (x,) = load_run(str(tmp_path / "m" / "x")).Scalars("m")
    assert a.step == x.step == 3
    assert before <= a.wall_time <= time.time() and before <= x.wall_time <= time.time()


def test_two_writers_in_one_second_lose_nothing(tmp_path: Any) -> None:
    # tensorboardX names both files alike within a second: the second overwrites the first.
    for step in (1, 2):
        with SummaryWriter(str(tmp_path)) as w:
            w.add_scalar("a", float(step), step)
    assert len(event_files(str(tmp_path))) == 2
    assert [e.step for e in load_run(str(tmp_path)).Scalars("a")] == [1, 2]


def test_non_writing_rank(tmp_path: Any) -> None:
    # What setup_ranks does on a rank that does not write (see xfast.distributed.ranks).
    from xfast.distributed.ranks import silent_class

    w = SummaryWriter(str(tmp_path / "r"), write_to_disk=False)
    w.__class__ = silent_class(SummaryWriter)
    w.file_writer = w.all_writers = None
    with w.use_metadata(global_step=2):
        w.add_scalar("a", 1.0)
        w.add_image("i", np.zeros((3, 2, 2)))
    w.close()
    assert not os.path.exists(tmp_path / "r")
