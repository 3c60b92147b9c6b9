# SPDX-License-Identifier: Apache-2.0
"""Rank-aware writing, cross-rank scalars and sharded histograms, on 2 and 4 gloo processes.

The ranks run tests/dist_worker.py; these tests read what they wrote with TensorBoard's loader.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from typing import Any

import numpy as np
import pytest
import torch
from conftest import event_files, load_run, run_dirs

import xfast
from xfast.distributed import histogram_stats, process_group, write_histogram_stats, writing_ranks

WORKER = os.path.join(os.path.dirname(__file__), "dist_worker.py")
# Generous: four processes importing torch on a loaded 2-core machine take ~10-30 s. A deadlock
# shows up as this timeout, not as a hung test session.
TIMEOUT_S = 150


def _run_ranks(scenario: str, world: int, tmp: Any) -> str:
    out = str(tmp / "out")
    os.makedirs(out)
    store = str(tmp / "store")
    env = dict(os.environ, GLOO_SOCKET_IFNAME="lo", OMP_NUM_THREADS="1")
    procs = [
        subprocess.Popen(
            [sys.executable, WORKER, scenario, str(r), str(world), store, out],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        )
        for r in range(world)
    ]
    failures = []
    for r, p in enumerate(procs):
        try:
            output, _ = p.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            for q in procs:
                q.kill()
            output, _ = p.communicate()
            failures.append(f"rank {r} timed out (deadlock?)\n{output.decode()[-3000:]}")
            continue
        if p.returncode != 0:
            failures.append(f"rank {r} exited with {p.returncode}\n{output.decode()[-3000:]}")
    if failures:
        pytest.fail("\n".join(failures))
    return out


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory: Any) -> str:
    return _run_ranks("basic", 2, tmp_path_factory.mktemp("dist2"))


@pytest.fixture(scope="module")
def four_ranks(tmp_path_factory: Any) -> str:
    return _run_ranks("fsdp", 4, tmp_path_factory.mktemp("dist4"))


def _scalars(run: Any, tag: str) -> list[tuple[int, float]]:
    return [(e.step, e.value) for e in run.Scalars(tag)]


def _assert_same_histograms(run: Any, ref: Any, tags: list[str]) -> None:
    for tag in tags:
        (got,) = run.Histograms(tag)
        (want,) = ref.Histograms(tag)
        g, w = got.histogram_value, want.histogram_value
        assert list(g.bucket_limit) == list(w.bucket_limit), tag
        assert list(g.bucket) == list(w.bucket), tag
        assert (g.min, g.max, g.num) == (w.min, w.max, w.num), tag
        # float64 sums over shards instead of over the whole: equal up to rounding.
        assert g.sum == pytest.approx(w.sum, rel=1e-9, abs=1e-9), tag
        assert g.sum_squares == pytest.approx(w.sum_squares, rel=1e-9), tag


def test_only_chosen_ranks_write(two_ranks: str) -> None:
    assert run_dirs(two_ranks) == ["all/rank0", "all/rank1", "default", "one", "ref"]
    for d, _, files in os.walk(two_ranks):
        assert all("tfevents" in f for f in files), (d, files)  # no projector files either
    # One file per run: the non-writing rank created none.
    for run in ("default", "one", "ref"):
        assert len(event_files(os.path.join(two_ranks, run))) == 1
    assert _scalars(load_run(os.path.join(two_ranks, "one")), "who") == [(0, 1.0)]
    for k in (0, 1):
        run = load_run(os.path.join(two_ranks, f"all/rank{k}"))
        assert _scalars(run, "who") == [(0, float(k))]
        assert _scalars(run, "mean") == [(0, 0.5)]


def test_non_writing_rank_logs_nothing(two_ranks: str) -> None:
    run = load_run(os.path.join(two_ranks, "default"))
    # Rank 1 logged 6 'local' events per step, a text and a histogram: none of it appears.
    assert _scalars(run, "local") == [(s * 10, 0.0) for s in range(4)]
    assert "only_rank1/text_summary" not in run.Tags()["tensors"]
    assert "local_hist" not in run.Tags()["histograms"]


def test_reduced_scalars(two_ranks: str) -> None:
    run = load_run(os.path.join(two_ranks, "default"))
    steps = range(4)
    assert _scalars(run, "loss") == [(s, np.float32((0 + 1 + 2 * s * 0.5) / 2)) for s in steps]
    assert _scalars(run, "max") == [(s, float(3 - s)) for s in steps]
    assert _scalars(run, "min") == [(s, float(-s)) for s in steps]
    assert _scalars(run, "sum/a") == [(s, 3.0) for s in steps]
    assert _scalars(run, "sum/b") == [(s, 2.5) for s in steps]


def test_sharded_histograms_equal_whole(two_ranks: str) -> None:
    run = load_run(os.path.join(two_ranks, "default"))
    ref = load_run(os.path.join(two_ranks, "ref"))
    tags = ["sharded/f32", "sharded/bf16", "sharded/maxbins", "sharded/empty_on_1"]
    assert sorted(run.Tags()["histograms"]) == sorted(tags)
    _assert_same_histograms(run, ref, tags)
    # A tensor empty on every rank raises on every rank, like an empty add_histogram.
    assert _scalars(run, "raised_on_empty") == [(0, 1.0)]


def test_fsdp2_parameter_and_gradient_histograms(four_ranks: str) -> None:
    run = load_run(os.path.join(four_ranks, "fsdp"))
    ref = load_run(os.path.join(four_ranks, "fsdp_ref"))
    tags = sorted(ref.Tags()["histograms"])
    # Parameters, gradients, the batched form and add_histograms' parameters/ and gradients/
    # tags; 2.weight/2.bias have an empty shard on rank 3.
    assert len(tags) == 20 and sorted(run.Tags()["histograms"]) == tags
    _assert_same_histograms(run, ref, tags)
    stat_tags = sorted(
        t for t in ref.Tags()["scalars"] if t.startswith(("parameters/", "gradients/"))
    )
    assert len(stat_tags) == 24 and stat_tags == sorted(
        t for t in run.Tags()["scalars"] if t.startswith(("parameters/", "gradients/")))
    for tag in stat_tags:
        (got,), (want,) = run.Scalars(tag), ref.Scalars(tag)
        assert got.step == want.step == 3
        assert got.value == pytest.approx(want.value, rel=1e-5, nan_ok=True), tag
    # Each of the 4 ranks put a NaN and an inf into its first row: left out of num.
    assert run.Histograms("0.weight")[0].histogram_value.num == 160 - 8


def test_hsdp_counts_each_element_once(four_ranks: str) -> None:
    run = load_run(os.path.join(four_ranks, "hsdp"))
    ref = load_run(os.path.join(four_ranks, "hsdp_ref"))
    _assert_same_histograms(run, ref, ["weight"])
    assert run.Histograms("weight")[0].histogram_value.num == 16 * 7


def test_four_ranks_reduce_and_choose(four_ranks: str) -> None:
    assert run_dirs(four_ranks) == [
        "fsdp", "fsdp_ref", "hsdp", "hsdp_ref", "r03/rank0", "r03/rank3"
    ]
    assert _scalars(load_run(os.path.join(four_ranks, "fsdp")), "rank_mean") == [(0, 1.5)]
    for k in (0, 3):
        run = load_run(os.path.join(four_ranks, f"r03/rank{k}"))
        assert _scalars(run, "who") == [(0, float(k))]
        assert _scalars(run, "sum") == [(0, float(k)), (1, 6.0)]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (nccl)")
def test_cuda_reduced_scalars_do_not_sync(tmp_path: Any) -> None:
    out = _run_ranks("cuda", 1, tmp_path)
    run = load_run(os.path.join(out, "cuda"))
    assert _scalars(run, "loss") == [(s, 6.0 * s) for s in range(3)]
    assert _scalars(run, "a") == [(s, 6.0 * s) for s in range(3)]
    assert _scalars(run, "b") == [(s, 1.5) for s in range(3)]
    assert _scalars(run, "c") == [(s, 2.0) for s in range(3)]


# Outside a process group (this pytest process never initializes one): nothing changes.


def test_writing_ranks_spec() -> None:
    assert writing_ranks("zero", 4) == {0}
    assert writing_ranks("all", 3) == {0, 1, 2}
    assert writing_ranks(2, 4) == {2}
    assert writing_ranks([0, 3], 4) == {0, 3}
    for bad in ("first", [4], [-1], [], [True], ["0"]):
        with pytest.raises(ValueError):
            writing_ranks(bad, 4)


def test_reduce_outside_process_group_writes_values(logdir: str) -> None:
    assert process_group() is None
    with xfast.SummaryWriter(logdir, ranks=[3]) as w:  # ranks is ignored too
        w.add_scalar("loss", 2.5, 1, reduce="mean")
        w.add_scalar_dict({"a": 1, "b": np.float64(0.25)}, 2, reduce="max")
        w.add_scalar_dict({"a": 3.0}, 3)
        with pytest.raises(ValueError, match="reduce must be one of"):
            w.add_scalar("loss", 1.0, 2, reduce="avg")
    run = load_run(logdir)
    assert _scalars(run, "loss") == [(1, 2.5)]
    assert _scalars(run, "a") == [(2, 1.0), (3, 3.0)]
    assert _scalars(run, "b") == [(2, 0.25)]


def test_histogram_stats_outside_process_group(logdir: str) -> None:
    data = np.concatenate([np.linspace(-5, 5, 101), [np.nan, np.inf]]).astype(np.float32)
    (stats,) = histogram_stats([data])
    assert (stats.numel, stats.num, stats.nan, stats.pos_inf) == (103, 101, 1, 1)
    assert stats.counts.sum() == 101 and (stats.min, stats.max) == (-5.0, 5.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the NaN/inf notice, on both paths
        with xfast.SummaryWriter(logdir) as w:
            write_histogram_stats(w, "stats", stats, 0)
            w.add_histogram("direct", data, 0)
            with pytest.raises(ValueError, match="default bins"):
                w.add_histogram("custom", data, 0, bins=10, sharded=True)
    run = load_run(logdir)
    assert run.Histograms("stats")[0].histogram_value == run.Histograms("direct")[0].histogram_value
