# SPDX-License-Identifier: Apache-2.0
"""The differential oracle: one script through torch's SummaryWriter and xfast's, both logdirs
read back by TensorBoard's two loaders and by a strict raw reader, compared value by value."""

from __future__ import annotations

import math
import os
from typing import Any, Callable

import numpy as np
import pytest
import torch
import torch.utils.tensorboard
from conftest import event_files, load_run, run_dirs
from record_reader import read_events, split_records
from tensorboard.backend.event_processing import plugin_event_accumulator as pea
from tensorboard.compat.proto import event_pb2
from tensorboard.util import tensor_util
from torch.utils.tensorboard import summary as tsummary

import xfast

TorchWriter = torch.utils.tensorboard.SummaryWriter
Script = Callable[[Any, str], None]  # (SummaryWriter class, logdir) -> None

pytestmark = pytest.mark.usefixtures("same_width_uids")


# --- comparison helpers -------------------------------------------------------------------------

# The sign of a zero min/max is not compared (x + 0.0 turns -0.0 into 0.0): numpy's min/max
# return either zero depending on order and SIMD path (min([-0., 0.]) is 0.0, min([0., -0.]) is
# -0.0), and TensorBoard shows both the same.


def _canon(x: Any) -> Any:
    """A comparable form of floats (hex keeps -0.0 and makes NaN equal to NaN), recursively."""
    if isinstance(x, float):
        return "nan" if math.isnan(x) else x.hex()
    if isinstance(x, (list, tuple)):
        return [_canon(v) for v in x]
    return x


def _sums_close(a: Any, b: Any) -> None:
    """Histogram sums to 1e-12 relative: sum against sqrt(num * sum_squares), which bounds
    sum |x| (so cancellation cannot blow the error up), sum_squares against itself."""
    scales = {"sum": math.sqrt(max(a.num, 1.0) * abs(a.sum_squares)),
              "sum_squares": abs(a.sum_squares)}
    for field, scale in scales.items():
        x, y = getattr(a, field), getattr(b, field)
        assert _canon(x) == _canon(y) or abs(x - y) <= 1e-12 * scale, (field, x, y)


def _compare_event_accumulators(t: Any, x: Any, walls: bool) -> None:
    assert t.Tags() == x.Tags()
    def head(e: Any) -> list:
        return [e.step] + ([_canon(e.wall_time)] if walls else [])
    for tag in t.Tags()["scalars"]:
        assert [[*head(e), _canon(e.value)] for e in x.Scalars(tag)] == \
               [[*head(e), _canon(e.value)] for e in t.Scalars(tag)], tag
    for tag in t.Tags()["histograms"]:
        th, xh = t.Histograms(tag), x.Histograms(tag)
        assert [head(e) for e in xh] == [head(e) for e in th], tag
        for te, xe in zip(th, xh):
            a, b = te.histogram_value, xe.histogram_value
            assert _canon([b.min + 0.0, b.max + 0.0, b.num]) == \
                   _canon([a.min + 0.0, a.max + 0.0, a.num]), tag
            assert _canon(list(b.bucket_limit)) == _canon(list(a.bucket_limit)), tag
            assert _canon(list(b.bucket)) == _canon(list(a.bucket)), tag
            _sums_close(a, b)
    for tag in t.Tags()["tensors"]:
        assert x.SummaryMetadata(tag) == t.SummaryMetadata(tag), tag
        assert [[*head(e), e.tensor_proto.SerializeToString()] for e in x.Tensors(tag)] == \
               [[*head(e), e.tensor_proto.SerializeToString()] for e in t.Tensors(tag)], tag


def _load_plugin_accumulator(run_dir: str) -> Any:
    acc = pea.EventAccumulator(run_dir, size_guidance=pea.STORE_EVERYTHING_SIZE_GUIDANCE,
                               tensor_size_guidance={})
    acc.Reload()
    return acc


def _compare_plugin_accumulators(t: Any, x: Any, walls: bool) -> None:
    assert t.Tags() == x.Tags()
    assert sorted(t.ActivePlugins()) == sorted(x.ActivePlugins())
    for plugin in t.ActivePlugins():
        assert x.PluginTagToContent(plugin) == t.PluginTagToContent(plugin), plugin
    for tag in t.Tags()["tensors"]:
        assert x.SummaryMetadata(tag) == t.SummaryMetadata(tag), tag
        te, xe = t.Tensors(tag), x.Tensors(tag)
        assert [e.step for e in xe] == [e.step for e in te], tag
        if walls:
            assert _canon([e.wall_time for e in xe]) == _canon([e.wall_time for e in te]), tag
        for a, b in zip(te, xe):
            # Histograms come back as [k, 3] (left, right, count) rows: exact, as min, max,
            # limits and counts are; the sums are not part of them.
            np.testing.assert_array_equal(tensor_util.make_ndarray(b.tensor_proto),
                                          tensor_util.make_ndarray(a.tensor_proto), err_msg=tag)


def _normalized(ev: Any, walls: bool) -> bytes:
    """An Event's bytes without what legitimately differs between the two writers."""
    ev = event_pb2.Event.FromString(ev.SerializeToString())
    if not (walls and ev.HasField("summary")):
        ev.wall_time = 0.0  # taken from the clock unless the caller gave one
    ev.ClearField("source_metadata")  # "tensorboard.summary.writer..." vs "xfast"
    for v in ev.summary.value:
        if v.HasField("histo"):
            v.histo.sum = 0.0
            v.histo.sum_squares = 0.0
            v.histo.min += 0.0
            v.histo.max += 0.0
    return ev.SerializeToString(deterministic=True)


def _compare_raw(tdir: str, xdir: str, walls: bool) -> None:
    """Event by event, file by file: every record CRC-checked by the strict reader."""
    tfiles, xfiles = event_files(tdir), event_files(xdir)
    assert len(xfiles) == len(tfiles)
    for tf, xf in zip(tfiles, xfiles):
        tev, xev = read_events(tf), read_events(xf)
        assert len(xev) == len(tev), (tf, xf)
        assert xev[0].file_version == "brain.Event:2"
        for a, b in zip(tev, xev):
            for va, vb in zip(a.summary.value, b.summary.value):
                if va.HasField("histo"):
                    _sums_close(va.histo, vb.histo)
            assert _normalized(b, walls) == _normalized(a, walls)


def run_both(tmp_path: Any, script: Script, walls: bool = False) -> tuple[str, str]:
    """Runs script with torch's writer class and xfast's, then compares everything written."""
    tdir, xdir = str(tmp_path / "torch"), str(tmp_path / "xfast")
    script(TorchWriter, tdir)
    script(xfast.SummaryWriter, xdir)
    assert run_dirs(xdir) == run_dirs(tdir)
    for run in run_dirs(tdir):
        t_run, x_run = os.path.join(tdir, run), os.path.join(xdir, run)
        _compare_event_accumulators(load_run(t_run), load_run(x_run), walls)
        _compare_plugin_accumulators(_load_plugin_accumulator(t_run),
                                     _load_plugin_accumulator(x_run), walls)
        _compare_raw(t_run, x_run, walls)
    return tdir, xdir


# --- scalars ------------------------------------------------------------------------------------

def test_scalar_values_and_types(tmp_path: Any) -> None:
    def script(cls: Any, d: str) -> None:
        w = cls(d)
        values = [0.5, 1e-3, 7, -3, 0, 2**40, 1e300, -1e300, 1e-50, float("nan"), float("inf"),
                  -float("inf"), -0.0, np.float32(1.5), np.float64(2.25), np.float16(0.1),
                  np.int64(3), np.int32(-4), np.uint8(200), np.bool_(True), True,
                  torch.tensor(2.5), torch.tensor([4.5]), torch.tensor([[6.5]]),
                  torch.tensor(3, dtype=torch.int64), torch.tensor(1.5, dtype=torch.float16),
                  torch.tensor(1.5, dtype=torch.float64), np.array(2.0), np.array([1.25])]
        for i, v in enumerate(values):
            w.add_scalar("v", v, i)
            w.add_scalar(f"each/{i}", v, 0)
        w.close()
    run_both(tmp_path, script)


def test_scalar_styles(tmp_path: Any) -> None:
    def script(cls: Any, d: str) -> None:
        w = cls(d)
        for i, v in enumerate([0.25, 1 / 3, 1e300, float("nan"), -0.0, np.float32(2.5),
                               torch.tensor(0.1, dtype=torch.float64)]):
            w.add_scalar("legacy", v, i)
            w.add_scalar("new", v, i, new_style=True)
            w.add_scalar("new_double", v, i, new_style=True, double_precision=True)
            w.add_scalar("double_only", v, i, double_precision=True)  # ignored without new_style
        w.close()
    run_both(tmp_path, script)


def test_scalar_steps(tmp_path: Any) -> None:
    def script(cls: Any, d: str) -> None:
        w = cls(d)
        steps = [None, 0, 1.7, -2.9, torch.tensor(8), np.int64(9), np.int32(10), np.float64(11.99),
                 -3, 2**40, 2**63 - 1, -(2**63)]
        for i, s in enumerate(steps):
            w.add_scalar("s", float(i), s)
        w.close()
    run_both(tmp_path, script)


def test_explicit_walltimes(tmp_path: Any) -> None:
    def script(cls: Any, d: str) -> None:
        w = cls(d)
        for i, wall in enumerate([0.0, 1.0, 1234.5678, 1.7e9 + 0.123456789, 1e12, -5.0]):
            w.add_scalar("a", i, i, walltime=wall)
            w.add_scalar("b", i, i, walltime=wall, new_style=True)
            w.add_scalars("g", {"x": i, "y": -i}, i, walltime=wall)
            w.add_text("t", f"text {i}", i, walltime=wall)
            w.add_histogram("h", np.arange(i + 1.0), i, walltime=wall)
            w.add_histogram("hb", np.arange(i + 1.0), i, bins=5, walltime=wall)
            w.add_histogram_raw("r", 0, 1, 2, 1, 1, [0.5, 1.0], [1, 1], i, walltime=wall)
        w.close()
    run_both(tmp_path, script, walls=True)


def test_add_scalars_layout(tmp_path: Any) -> None:
    def script(cls: Any, d: str) -> None:
        w = cls(d)
        w.add_scalar("main", 1.0, 0)
        w.add_scalars("loss/train", {"a": 1.0, "b/c": 2.0, "d": np.float32(3)}, 1, walltime=10.0)
        w.add_scalars("loss/train", {"a": 1.5, "d": torch.tensor(4.0)}, 2, walltime=11.0)
        w.add_scalars("acc", {"top1": 0.5, "top5": 0.9}, 3, walltime=12.0)
        w.add_scalars("ünï", {"ключ": 1.0}, 4, walltime=13.0)
        w.close()
    tdir, _ = run_both(tmp_path, script)
    assert "loss_train_b/c" in run_dirs(tdir) and "acc_top5" in run_dirs(tdir)


# --- text ---------------------------------------------------------------------------------------

def test_text(tmp_path: Any) -> None:
    texts = ["hello", "", "ünïcødé 损失 🚀",
             "# Title\n\n**bold** _it_ `code`\n\n| a | b |\n|---|---|\n| 1 | 2 |",
             "<script>alert(1)</script>", "x" * 100000]
    def script(cls: Any, d: str) -> None:
        w = cls(d)
        for i, s in enumerate(texts):
            w.add_text("notes", s, i)
            w.add_text(f"tag/ü/{i}", s)
        w.close()
    run_both(tmp_path, script)


# --- histograms ---------------------------------------------------------------------------------

def _histogram_inputs() -> list[Any]:
    """Inputs of every kind (made once per test: both writers must see the same values)."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    mixed = rng.standard_normal(5000) * 10.0 ** rng.uniform(-14, 19.9, 5000)
    return [
        np.zeros(10), np.full(7, 3.0), np.array([-0.0, 0.0]), np.array([1e-13, -1e-13]),
        np.array([9.9e19, -9.9e19, 1.0]), np.array([1e30, 1.0]), mixed,
        mixed.astype(np.float32), torch.from_numpy(mixed).float(), torch.randn(1000, 10),
        torch.arange(-50, 50, dtype=torch.int64), torch.randint(0, 255, (300,), dtype=torch.uint8),
        torch.randint(-100, 100, (300,), dtype=torch.int8),
        torch.randint(-1000, 1000, (300,), dtype=torch.int16),
        torch.randint(-10**6, 10**6, (300,), dtype=torch.int32),
        torch.randn(500).half(), torch.tensor([1.0, 2.0, 0.5, -4.0], dtype=torch.bfloat16),
        torch.tensor([True, False, True]), np.arange(20, dtype=np.uint16),
        torch.randn(64, 3, 3, 3)[:, 1],  # non-contiguous
        np.float64(2.5), np.array([-1e30, -5.0, 2.0]), torch.tensor([-1e30, 1e30, 0.5]),
    ]


def test_histograms_default_bins(tmp_path: Any) -> None:
    inputs = _histogram_inputs()
    def script(cls: Any, d: str) -> None:
        w = cls(d)
        for i, values in enumerate(inputs):
            w.add_histogram(f"h{i}", values, i)
            w.add_histogram("all", values, i)
        w.close()
    run_both(tmp_path, script)


@pytest.mark.parametrize("max_bins", [1, 2, 10, 64, 100, 1000])
def test_histograms_max_bins(tmp_path: Any, max_bins: int) -> None:
    inputs = _histogram_inputs()[:10]
    def script(cls: Any, d: str) -> None:
        w = cls(d)
        for i, values in enumerate(inputs):
            w.add_histogram("h", values, i, max_bins=max_bins)
            w.add_histogram("auto", values, i, bins="auto", max_bins=max_bins)
        w.close()
    run_both(tmp_path, script)


@pytest.mark.parametrize("bins", ["auto", "fd", "doane", "sturges", 1, 7, 200,
                                  [-3.0, -1.0, 0.0, 0.5, 2.0, 10.0], np.linspace(-2, 2, 9)],
                         ids=str)
def test_histograms_numpy_bins(tmp_path: Any, bins: Any) -> None:
    rng = np.random.default_rng(1)
    torch.manual_seed(1)
    inputs = [rng.standard_normal(1000), torch.randn(300), np.full(5, 2.0),
              torch.arange(10, dtype=torch.int32), torch.randn(100).half()]
    def script(cls: Any, d: str) -> None:
        w = cls(d)
        for i, values in enumerate(inputs):
            w.add_histogram("h", values, i, bins=bins)
        w.close()
    run_both(tmp_path, script)


def test_histogram_raw(tmp_path: Any) -> None:
    def script(cls: Any, d: str) -> None:
        w = cls(d)
        w.add_histogram_raw("r", -1.0, 3.0, 4, 5.0, 11.0, [0.0, 1.0, 3.0], [1, 2, 1], 0)
        w.add_histogram_raw("r", 0, 10, 100, 500, 3000, np.linspace(1, 10, 10),
                            np.arange(10) * 2, 1)
        w.add_histogram_raw("r", 0.5, 2.5, 3, 4.5, 7.75, torch.tensor([1.0, 2.0, 2.5]),
                            torch.tensor([1, 1, 1]), 2)
        # Unchecked, as in torch: min > max, unsorted limits, fractional counts.
        w.add_histogram_raw("odd", 5, -5, 0, 0, 0, [3.0, 1.0], [0.5, 0.25], 3)
        w.close()
    run_both(tmp_path, script)


# --- purge_step, raw protos, close/reopen -------------------------------------------------------

def test_purge_step(tmp_path: Any) -> None:
    def script(cls: Any, d: str) -> None:
        w = cls(d)
        for s in range(10):
            w.add_scalar("loss", float(s), s)
            w.add_text("t", f"first {s}", s)
        w.close()
        w = cls(d, purge_step=5)  # first resume: the legacy loader purges, the plugin one not
        for s in range(5, 8):
            w.add_scalar("loss", 100.0 + s, s)
            w.add_histogram("h", np.arange(s), s)
        w.close()
        w = cls(d, purge_step=6)  # second resume: both loaders purge steps >= 6
        for s in range(6, 9):
            w.add_scalar("loss", 200.0 + s, s)
        w.close()
    _, xdir = run_both(tmp_path, script)
    acc = load_run(xdir)
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == \
        [(s, float(s)) for s in range(5)] + [(5, 105.0)] + [(s, 200.0 + s) for s in range(6, 9)]
    # compat-spec §5.6: the plugin loader ignores the first START, so step 5 is there twice.
    tensors = _load_plugin_accumulator(xdir).Tensors("loss")
    assert [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in tensors] == \
        [(s, float(s)) for s in range(6)] + [(5, 105.0)] + [(s, 200.0 + s) for s in range(6, 9)]
    files = event_files(xdir)
    assert len(files) == 3
    purge = read_events(files[1])[1:3]
    assert purge[0].file_version == "brain.Event:2" and purge[0].step == 5
    assert purge[1].session_log.status == event_pb2.SessionLog.START and purge[1].step == 5


def test_raw_protos_through_file_writer(tmp_path: Any) -> None:
    # What PyTorch Lightning does for hparams, plus add_event with a real Event message.
    def script(cls: Any, d: str) -> None:
        w = cls(d)
        exp, ssi, sei = tsummary.hparams({"lr": 0.1, "bs": 32, "opt": "adam", "flag": True},
                                         {"hp/metric": 0})
        fw = w._get_file_writer()
        for s in (exp, ssi, sei):
            fw.add_summary(s)
        w.add_scalar("hp/metric", 0.9, 5)
        fw.add_summary(tsummary.text("note", "from a proto"), global_step=2, walltime=98.0)
        fw.add_summary(tsummary.scalar("raw", 3.0, new_style=True), 7)
        fw.add_event(event_pb2.Event(summary=tsummary.scalar("ev", 4.0)), step=4, walltime=99.0)
        raw = tsummary.histogram_raw("hr", 0, 1, 1, 1, 1, [1.0], [1])
        fw.add_event(event_pb2.Event(summary=raw), step=1.9)
        w.file_writer.add_summary(tsummary.scalar("via_attr", 1.0), 3)
        w.close()
    run_both(tmp_path, script)


def test_close_then_log_again(tmp_path: Any) -> None:
    def script(cls: Any, d: str) -> None:
        w = cls(d)
        w.add_scalar("a", 1.0, 0)
        w.add_scalars("g", {"x": 1.0}, 0)
        w.close()
        w.add_scalar("a", 2.0, 1)  # opens a new file
        w.add_text("t", "after close", 1)
        w.add_scalars("g", {"x": 2.0}, 1)
        w.flush()
        w.close()
        w.close()
    _, xdir = run_both(tmp_path, script)
    assert len(event_files(xdir)) == 2
    assert len(event_files(os.path.join(xdir, "g_x"))) == 2


def test_context_manager(tmp_path: Any) -> None:
    def script(cls: Any, d: str) -> None:
        with cls(d, filename_suffix=".sfx") as w:
            w.add_scalar("a", 1.0, 0)
            w.add_histogram("h", np.arange(10.0), 0)
            w.add_scalars("g", {"x": 1.0}, 0)
    _, xdir = run_both(tmp_path, script)
    assert all(f.endswith(".sfx") for f in event_files(xdir))
    assert all(f.endswith(".sfx") for f in event_files(os.path.join(xdir, "g_x")))


# --- raw files ----------------------------------------------------------------------------------

def test_first_record_on_disk_at_construction(tmp_path: Any) -> None:
    w = xfast.SummaryWriter(str(tmp_path), purge_step=3)
    try:
        (path,) = event_files(str(tmp_path))
        with open(path, "rb") as f:
            records = split_records(f.read())  # whole records only, CRCs valid
        events = [event_pb2.Event.FromString(r) for r in records]
        assert len(events) == 3  # the header and the purge pair, before any logging
        assert events[0].file_version == "brain.Event:2" and events[0].step == 0
        assert events[0].wall_time > 0
        assert [e.step for e in events[1:]] == [3, 3]
    finally:
        w.close()
