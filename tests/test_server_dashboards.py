# SPDX-License-Identifier: Apache-2.0
"""The real TensorBoard server over an xfast logdir: PR curves, HParams, Custom Scalars, Mesh,
Graphs and Projector data read back through its HTTP API, with both loaders (the Rust data
server, --load_fast=true, and the Python one, --load_fast=false)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import torch
from test_rare_methods import LABELS, LAYOUT, PREDICTIONS, _Net

import xfast
from xfast import summary

VERTICES = np.arange(12, dtype=np.float32).reshape(1, 4, 3) / 10
FACES = np.array([[[0, 1, 2], [1, 2, 3]]])
EMBEDDING = np.arange(20, dtype=np.float32).reshape(4, 5) / 7
SESSION_GROUPS = {
    "experimentName": "", "startIndex": 0, "sliceSize": 10, "colParams": [],
    "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
}
LINE_CHART = "Training Loss Chart"
LINE_LOSSES = [1.0, 0.5, 0.25]


@pytest.fixture(scope="module")
def logdir(tmp_path_factory: Any) -> str:
    root = str(tmp_path_factory.mktemp("dashboards"))
    with xfast.SummaryWriter(root) as w:
        w.add_pr_curve("pr", LABELS, PREDICTIONS, 1, num_thresholds=21)
        w.add_custom_scalars(LAYOUT)
        for epoch, loss in enumerate(LINE_LOSSES):
            w.add_line_chart(["Epoch", "Training Loss"], [epoch, loss], LINE_CHART,
                             walltime=1_700_000_000.0 + epoch)
        w.add_mesh("m", VERTICES, faces=FACES, global_step=2)
        w.add_graph(_Net(), (torch.randn(5, 4), torch.randn(2)))
        w.add_embedding(EMBEDDING, metadata=["a", "b", "c", "d"], label_img=torch.rand(4, 3, 4, 4))
        w.add_hparams({"lr": 0.1, "opt": "adam"}, {"hp/acc": 0.9}, run_name="sub")
        w.add_hparams({"lr": 0.2, "opt": "sgd"}, {"hp/acc": None}, run_name=".")
        w.add_scalar("hp/acc", 0.75, 5)
    return root


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Server:
    def __init__(self, logdir: str, load_fast: str) -> None:
        self.port = _free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host", "127.0.0.1",
             "--port", str(self.port), f"--load_fast={load_fast}", "--reload_interval", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )

    def get(self, path: str, body: Any = None, raw: bool = False) -> Any:
        payload = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=payload,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            data = response.read()
        return data if raw else json.loads(data)

    def wait_for(self, path: str, ready: Any, body: Any = None, timeout: float = 90.0) -> Any:
        """Polls `path` until ready(reply) holds (the server loads the logdir in the background)."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.proc.poll() is None, "tensorboard exited"
            try:
                reply = self.get(path, body)
                if ready(reply):
                    return reply
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} not ready after {timeout} s")
            time.sleep(0.5)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)  # the server and its data-server child
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module", params=["true", "false"])
def server(request: Any, logdir: str) -> Iterator[_Server]:
    srv = _Server(logdir, request.param)
    try:
        srv.wait_for("/data/plugins_listing", lambda d: all(
            d[p]["enabled"] for p in ("pr_curves", "custom_scalars", "mesh", "graphs", "hparams")))
        # Both runs loaded: each session group has its metric.
        srv.wait_for("/data/plugin/hparams/session_groups", lambda r: len(r["sessionGroups"]) == 2
                     and all(g["metricValues"] for g in r["sessionGroups"]), SESSION_GROUPS)
        yield srv
    finally:
        srv.stop()


def test_runs(server: _Server) -> None:
    assert sorted(server.wait_for("/data/runs", lambda r: len(r) == 2)) == [".", "sub"]


def test_pr_curves(server: _Server) -> None:
    (entry,) = server.get("/data/plugin/pr_curves/pr_curves?run=.&tag=pr")["."]
    expected = summary.compute_curve(LABELS, PREDICTIONS, num_thresholds=21).astype(np.float32)
    assert entry["step"] == 1
    # The plugin leaves out the trailing thresholds that no prediction reaches.
    n = len(entry["precision"])
    assert 0 < n <= 21
    np.testing.assert_array_equal(np.float32(entry["precision"]), expected[4, :n])
    np.testing.assert_array_equal(np.float32(entry["recall"]), expected[5, :n])
    assert entry["true_positives"] == expected[0, :n].tolist()


def test_custom_scalars_layout(server: _Server) -> None:
    layout = server.get("/data/plugin/custom_scalars/layout")
    assert [c["title"] for c in layout["category"]] == ["Losses", "Other", "Line charts"]
    margin = layout["category"][0]["chart"][1]["margin"]["series"][0]
    assert margin == {"value": "acc", "lower": "acc_lo", "upper": "acc_hi"}
    assert layout["category"][2]["chart"] == [
        {"title": LINE_CHART, "multiline": {"tag": [f"^{LINE_CHART}/Training Loss$"]}}]


def test_line_chart_in_both_dashboards(server: _Server) -> None:
    tag = f"{LINE_CHART}/Training Loss"
    expected = [[1_700_000_000.0 + e, e, loss] for e, loss in enumerate(LINE_LOSSES)]
    query = urllib.parse.urlencode({"run": ".", "tag": tag})
    assert server.get(f"/data/plugin/scalars/scalars?{query}") == expected
    # The Custom Scalars chart asks for its regex's tags.
    query = urllib.parse.urlencode({"run": ".", "tag": f"^{LINE_CHART}/Training Loss$"})
    reply = server.get(f"/data/plugin/custom_scalars/scalars?{query}")
    assert reply == {"regex_valid": True, "tag_to_events": {tag: expected}}


def test_mesh(server: _Server) -> None:
    assert server.get("/data/plugin/mesh/tags") == {".": {"m": {"samples": 1}}}
    parts = server.get("/data/plugin/mesh/meshes?run=.&tag=m")
    assert sorted((p["content_type"], tuple(p["data_shape"]), p["components"]) for p in parts) == [
        (1, (1, 4, 3), 6), (2, (1, 2, 3), 6)]
    data = server.get("/data/plugin/mesh/data?run=.&tag=m&step=2&content_type=VERTEX", raw=True)
    np.testing.assert_array_equal(np.frombuffer(data, np.float32), VERTICES.reshape(-1))
    data = server.get("/data/plugin/mesh/data?run=.&tag=m&step=2&content_type=FACE", raw=True)
    np.testing.assert_array_equal(np.frombuffer(data, np.int32), FACES.reshape(-1))


def test_graph(server: _Server) -> None:
    info = server.get("/data/plugin/graphs/info")["."]
    assert info["run_graph"] and "step1" in info["tags"]
    text = server.get("/data/plugin/graphs/graph?run=.&conceptual=false", raw=True).decode()
    assert 'name: "input/x"' in text and 'name: "_Net/Sequential[head]/Linear[0]/input"' in text


def test_hparams(server: _Server) -> None:
    experiment = server.get("/data/plugin/hparams/experiment", {"experimentName": ""})
    assert {h["name"]: h["type"] for h in experiment["hparamInfos"]} == {
        "lr": "DATA_TYPE_FLOAT64", "opt": "DATA_TYPE_STRING"}
    groups = server.get("/data/plugin/hparams/session_groups", SESSION_GROUPS)["sessionGroups"]
    got = {g["name"]: (g["hparams"], [(m["value"], m["trainingStep"]) for m in g["metricValues"]])
           for g in groups}
    # "." is the writer's own run (run_name="."), its metric logged later with add_scalar.
    assert got == {".": ({"lr": 0.2, "opt": "sgd"}, [(0.75, 5)]),
                   "sub": ({"lr": 0.1, "opt": "adam"}, [(pytest.approx(0.9), 0)])}


def test_projector(server: _Server) -> None:
    assert server.get("/data/plugin/projector/runs") == ["."]
    info = server.get("/data/plugin/projector/info?run=.")
    (embedding,) = info["embeddings"]
    assert embedding["tensorName"] == "default:00000" and embedding["tensorShape"] == [4, 5]
    query = "run=.&name=default:00000"
    tensor = server.get(f"/data/plugin/projector/tensor?{query}", raw=True)
    np.testing.assert_array_equal(np.frombuffer(tensor, np.float32).reshape(4, 5), EMBEDDING)
    assert server.get(f"/data/plugin/projector/metadata?{query}", raw=True) == b"a\nb\nc\nd\n"
    sprite = server.get(f"/data/plugin/projector/sprite_image?{query}", raw=True)
    assert sprite.startswith(b"\x89PNG\r\n\x1a\n")
