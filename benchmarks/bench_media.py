# SPDX-License-Identifier: Apache-2.0
"""Caller-side cost of add_image (3x256x256 random float32) in xfast vs torch.utils.tensorboard,
plus a pixel check that both wrote the same image.

    python benchmarks/bench_media.py [--rounds 30]

"spaced": one call per simulated training step (the writer is flushed, untimed, between calls,
so xfast's worker is idle when the call comes): the time the training thread loses per image.
With CUDA, a GPU tensor is measured too. "back-to-back": calls in a tight loop; once xfast's 32-item queue is full the caller waits for
the worker, so this shows the encoding throughput instead.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from typing import Any, Callable

import numpy as np
import torch
from PIL import Image
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import xfast
from xfast.media.worker import QUEUE_CAPACITY


def spaced(writer: Any, img: Any, rounds: int) -> list[float]:
    times = []
    for step in range(rounds):
        t0 = time.perf_counter()
        writer.add_image("img", img, step)
        times.append(time.perf_counter() - t0)
        writer.flush()
    return times


def back_to_back(writer: Any, img: Any, n: int) -> float:
    t0 = time.perf_counter()
    for step in range(n):
        writer.add_image("burst", img, step)
    caller = time.perf_counter() - t0
    writer.flush()
    return caller / n


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1e3:8.3f} ms   p90 {xs[int(0.9 * (len(xs) - 1))] * 1e3:8.3f} ms"


def last_png(logdir: str, tag: str) -> np.ndarray:
    from tensorboard.backend.event_processing import event_accumulator as ea

    acc = ea.EventAccumulator(logdir, size_guidance={ea.IMAGES: 0})
    acc.Reload()
    return np.asarray(Image.open(io.BytesIO(acc.Images(tag)[-1].encoded_image_string)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    img_np = rng.random((3, 256, 256), dtype=np.float32)
    inputs: dict[str, Any] = {"numpy": img_np, "torch cpu": torch.from_numpy(img_np.copy())}
    if torch.cuda.is_available():  # xfast: a non-blocking copy to pinned memory at the call
        inputs["torch cuda"] = torch.from_numpy(img_np.copy()).cuda()
    makers: dict[str, Callable[[str], Any]] = {"xfast": xfast.SummaryWriter, "torch": TorchWriter}
    pixels = {}
    print(f"add_image 3x256x256 float32, caller-side time per call ({args.rounds} rounds)")
    for name, make in makers.items():
        for kind, img in inputs.items():
            with tempfile.TemporaryDirectory() as d:
                w = make(d)
                spaced(w, img, 2)  # warm-up: imports, first file, worker thread
                sp = spaced(w, img, args.rounds)
                b2b = back_to_back(w, img, 2 * QUEUE_CAPACITY if name == "xfast" else 10)
                w.close()
                pixels[name] = last_png(d, "img")
            print(f"  {name:5s} {kind:10s} spaced: {ms(sp)}   back-to-back: {b2b * 1e3:8.3f} ms/call")
    same = np.array_equal(pixels["xfast"], pixels["torch"])
    print(f"decoded PNG pixels identical: {same}")


if __name__ == "__main__":
    main()
