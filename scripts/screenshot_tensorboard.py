# SPDX-License-Identifier: Apache-2.0
"""Looks at xfast's output as a person would: logs with every SummaryWriter method, serves the
logdir with the real ``tensorboard`` on 127.0.0.1 and saves headless-Chromium screenshots of
its dashboards.

    python scripts/screenshot_tensorboard.py OUT_DIR

Needs ``tensorboard`` (pip), ``chromium`` (Debian: ``apt-get install -y chromium``), Pillow
and matplotlib. Prints the PNG paths, one per dashboard.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import numpy as np

import xfast

# (screenshot name, URL fragment). The images dashboard opens only its first two tag groups, so
# a second shot filters to the others.
DASHBOARDS = (
    ("scalars", "scalars"),
    ("images", "images"),
    ("images_more", "images&tagFilter=video%7Cfigure%7Cgradient"),
    ("histograms", "histograms"),
    ("distributions", "distributions"),
    ("audio", "audio"),
    ("text", "text"),
    ("pr_curves", "pr_curves"),
    ("custom_scalars", "custom_scalars"),
    ("hparams", "hparams"),
    ("graphs", "graphs"),
    ("mesh", "mesh"),
)


def log_everything(logdir: str) -> None:
    """One run (plus its add_scalars and add_hparams sub-runs) using every SummaryWriter method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:64, 0:64] / 63.0
    with xfast.SummaryWriter(logdir) as w:
        for step in range(5):
            w.add_scalar("loss", 1.0 / (step + 1), step)
            w.add_scalars("lr", {"a": 0.1 * step, "b": 0.2}, step)
            w.add_histogram("weights", rng.normal(step, 1, 1000), step)
            w.add_text("note", f"step **{step}**", step)
        w.add_histogram_raw("raw", 0, 3, 6, 9, 19, [1, 2, 3], [1, 2, 3], 0)
        w.add_image("gradient", np.stack([x, y, 1 - x]), 0)
        w.add_images("batch", rng.random((10, 3, 16, 16)), 0)
        w.add_image_with_boxes("boxes", np.stack([x, x, y]), np.array([[8, 8, 40, 30]]), 0, labels=["box"])
        fig = plt.figure(figsize=(3, 2), dpi=60)
        plt.plot([0, 1, 2, 3], [0, 1, 0, 2])
        w.add_figure("figure", fig, 0)
        frames = np.stack([np.roll(np.stack([x, y, x * y]), 8 * t, axis=2) for t in range(6)])
        w.add_video("video", frames[None], 0, fps=3)
        w.add_audio("tone", np.sin(np.linspace(0, 2 * np.pi * 440, 8000))[None], 0, sample_rate=8000)
        _rare_methods(w, rng)


def _rare_methods(w: Any, rng: Any) -> None:
    """The remaining methods (tensors, graphs, PR curves, layouts, meshes, hparams, embeddings)."""
    import torch

    w.add_tensor("tensor", torch.arange(6.0).reshape(2, 3), 0)
    w.add_graph(torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU()), torch.zeros(1, 4))
    for step in range(3):
        w.add_pr_curve("pr", rng.integers(0, 2, 100), rng.random(100), step)
    counts = np.array([10, 8, 5, 2], dtype=float)
    w.add_pr_curve_raw("pr_raw", counts, counts[::-1], counts[::-1], counts, counts / 10, counts / 12, 0,
                       num_thresholds=4)
    # Each layout call replaces the previous layout (as in torch), so the full one goes last.
    w.add_custom_scalars_multilinechart(["loss"], category="more", title="loss only")
    w.add_custom_scalars_marginchart(["loss", "loss", "loss"], category="more", title="margin")
    w.add_custom_scalars({
        "group": {"loss and lr": ["Multiline", ["loss", "lr"]]},
        "margins": {"loss band": ["Margin", ["loss", "loss", "loss"]]},
    })
    w.add_mesh("mesh", rng.random((1, 4, 3)), colors=rng.integers(0, 255, (1, 4, 3)),
               faces=np.array([[[0, 1, 2], [0, 2, 3]]]), global_step=0)
    w.add_hparams({"lr": 0.1, "opt": "sgd"}, {"hp/acc": 0.9}, run_name="hparams")
    w.add_embedding(rng.random((10, 5)), metadata=list(range(10)), label_img=torch.rand(10, 3, 8, 8))
    if importlib.util.find_spec("onnx") is not None:
        w.add_onnx_graph(_tiny_onnx_model())


def _tiny_onnx_model() -> Any:
    import onnx
    from onnx import helper

    node = helper.make_node("Relu", ["x"], ["y"])
    io = [helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, [1]) for n in ("x", "y")]
    return helper.make_model(helper.make_graph([node], "g", io[:1], io[1:]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, timeout: float) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            if time.time() > deadline:
                raise
        time.sleep(0.3)


def screenshots(logdir: str, out_dir: str) -> list[str]:
    """Serves `logdir` and saves one screenshot per dashboard under `out_dir`."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise FileNotFoundError("chromium not found (Debian: apt-get install -y chromium)")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host", "127.0.0.1",
         "--port", str(port), "--reload_interval", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    paths = []
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/data/runs", 60)
        _wait_for(base + "/data/plugin/images/tags", 60)
        time.sleep(3)  # let the loader read the whole run
        for name, fragment in DASHBOARDS:
            path = os.path.join(out_dir, f"{name}.png")
            subprocess.run(
                [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 "--window-size=1400,1100", "--virtual-time-budget=15000",
                 f"--screenshot={path}", f"{base}/#{fragment}"],
                check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
            )
            paths.append(path)
    finally:
        server.terminate()
        server.wait(10)
    return paths


def main() -> None:
    out_dir = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "tb_screenshots")
    logdir = os.path.join(out_dir, "logs")
    os.makedirs(out_dir, exist_ok=True)
    log_everything(os.path.join(logdir, "xfast_run"))
    for path in screenshots(logdir, out_dir):
        print(path)


if __name__ == "__main__":
    main()
