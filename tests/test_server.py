# SPDX-License-Identifier: Apache-2.0
"""The real TensorBoard server (Rust data server and Python loader) over an xfast logdir: its HTTP
API serves the same data for xfast's run as for torch's run written by the same script."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any, Callable

import numpy as np
import pytest
import torch
import torch.utils.tensorboard

import xfast

STEPS = 40
RUNS = ["torch", "torch/g_a", "torch/g_b/c", "xfast", "xfast/g_a", "xfast/g_b/c"]
SERVER_TIMEOUT_S = 45.0


def _write(cls: Any, logdir: str) -> None:
    """The logged script. Every walltime is explicit, so both runs serve identical JSON."""
    rng = np.random.default_rng(0)
    hist_inputs = [rng.standard_normal(2000) * 10.0 ** k for k in range(-3, 3)]
    w = cls(logdir)
    for i in range(STEPS):
        wall = 1_700_000_000.0 + i * 0.5
        w.add_scalar("loss", 1.0 / (i + 1), i, walltime=wall)
        w.add_scalar("train/new_style", i * 0.25, i, walltime=wall, new_style=True)
        # DT_DOUBLE scalars: the Rust data server drops them (compat-spec §5.3), both runs alike.
        w.add_scalar("train/double", i * 0.125, i, walltime=wall, new_style=True,
                     double_precision=True)
    w.add_scalars("g", {"a": 1.0, "b/c": 2.0}, 3, walltime=1_700_000_100.0)
    for s, values in enumerate(hist_inputs):
        wall = 1_700_000_200.0 + s
        w.add_histogram("weights", values, s, walltime=wall)
        w.add_histogram("ints", torch.arange(-s * 10, s * 10 + 1), s, walltime=wall)
        w.add_histogram("auto", values, s, bins="auto", walltime=wall)
    w.add_histogram_raw("raw", -1.0, 3.0, 4, 5.0, 11.0, [0.0, 1.0, 3.0], [1, 2, 1], 0,
                        walltime=1_700_000_300.0)
    for s, text in enumerate(["plain", "**bold** _it_ ü 🚀", "| a | b |\n|---|---|\n| 1 | 2 |"]):
        w.add_text("notes", text, s, walltime=1_700_000_400.0 + s)
    w.close()


@pytest.fixture(scope="module")
def served_logdir(tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("served")
    _write(torch.utils.tensorboard.SummaryWriter, str(root / "torch"))
    _write(xfast.SummaryWriter, str(root / "xfast"))
    return str(root)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A running `tensorboard` process and a JSON client for its HTTP API."""

    def __init__(self, logdir: str, load_fast: str, log_path: str) -> None:
        self.load_fast = load_fast == "true"
        self.port = _free_port()
        self._log = open(log_path, "wb")  # noqa: SIM115 - the server writes to it until stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host", "127.0.0.1",
             "--port", str(self.port), f"--load_fast={load_fast}", "--reload_interval=1"],
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        self.log_path = log_path

    def get(self, path: str, **params: str) -> Any:
        url = f"http://127.0.0.1:{self.port}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.loads(r.read().decode("utf-8"))

    def poll(self, ready: Callable[[], bool]) -> None:
        """Waits (bounded) until ready() holds; connection errors count as not ready yet."""
        deadline = time.monotonic() + SERVER_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"tensorboard exited:\n{self.log_tail()}"
            try:
                if ready():
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        pytest.fail(f"tensorboard served no data in {SERVER_TIMEOUT_S} s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        with open(self.log_path, "rb") as f:
            return f.read()[-3000:].decode("utf-8", "replace")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="module", params=["true", "false"], ids=["load_fast", "python_loader"])
def server(request: pytest.FixtureRequest, served_logdir: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log_path = str(tmp_path_factory.mktemp("tblog") / "tensorboard.log")
    srv = Server(served_logdir, request.param, log_path)
    try:
        def loaded() -> bool:
            tags = srv.get("/data/plugin/scalars/tags")
            if not all(r in tags for r in RUNS):
                return False
            points = [srv.get("/data/plugin/scalars/scalars", run=r, tag="loss") for r in RUNS[::3]]
            return all(len(p) == STEPS for p in points)
        srv.poll(loaded)
        yield srv
    finally:
        srv.stop()


def _pairs() -> list[tuple[str, str]]:
    return [(r, "xfast" + r[len("torch"):]) for r in RUNS if r.startswith("torch")]


def test_runs_listed(server: Server) -> None:
    runs = server.get("/data/runs")
    assert sorted(runs) == sorted(RUNS)


def test_scalars(server: Server) -> None:
    tags = server.get("/data/plugin/scalars/tags")
    for t_run, x_run in _pairs():
        assert tags[x_run] == tags[t_run]
        for tag in tags[t_run]:
            want = server.get("/data/plugin/scalars/scalars", run=t_run, tag=tag)
            got = server.get("/data/plugin/scalars/scalars", run=x_run, tag=tag)
            assert got == want, (x_run, tag)
    # Which loader served: the Rust data server drops DT_DOUBLE scalars, the Python one keeps them.
    want_tags = {"loss", "train/new_style"} | (set() if server.load_fast else {"train/double"})
    assert set(tags["xfast"]) == want_tags
    got = server.get("/data/plugin/scalars/scalars", run="xfast", tag="loss")
    assert got == [[1_700_000_000.0 + i * 0.5, i, float(np.float32(1.0 / (i + 1)))]
                   for i in range(STEPS)]
    assert server.get("/data/plugin/scalars/scalars", run="xfast/g_b/c", tag="g") == \
        [[1_700_000_100.0, 3, 2.0]]


def test_histograms(server: Server) -> None:
    tags = server.get("/data/plugin/histograms/tags")
    assert set(tags["xfast"]) == {"weights", "ints", "auto", "raw"}
    for tag in tags["torch"]:
        assert tags["xfast"][tag] == tags["torch"][tag]
        want = server.get("/data/plugin/histograms/histograms", run="torch", tag=tag)
        got = server.get("/data/plugin/histograms/histograms", run="xfast", tag=tag)
        assert got == want, tag
    raw = server.get("/data/plugin/histograms/histograms", run="xfast", tag="raw")
    assert len(raw) == 1 and raw[0][:2] == [1_700_000_300.0, 0]
    assert sum(row[2] for row in raw[0][2]) == 4.0


def test_text(server: Server) -> None:
    tags = server.get("/data/plugin/text/tags")
    assert tags["xfast"] == tags["torch"] == ["notes/text_summary"]
    want = server.get("/data/plugin/text/text", run="torch", tag="notes/text_summary")
    got = server.get("/data/plugin/text/text", run="xfast", tag="notes/text_summary")
    assert got == want
    assert [e["step"] for e in got] == [0, 1, 2]
    assert "<strong>bold</strong>" in got[1]["text"] and "🚀" in got[1]["text"]
