# SPDX-License-Identifier: Apache-2.0
"""Caller time per call of the common add_* methods, one representative call each: what the
training thread pays. Each timed call is followed by an untimed flush(), so the work a library
does later on its own threads (xfast's media encodes) neither spills into the next call's time
nor competes with it for the GIL, as when a training loop logs every few steps; one more row
times add_image back to back, where it does."""

from __future__ import annotations

from typing import Any, Callable

from xfast.bench import progress, readback
from xfast.bench.config import Config
from xfast.bench.libs import open_writer
from xfast.bench.report import Row, Section
from xfast.bench.timing import median, now_ns, scratch_dir, spread

# add_image's caller-side budget (issue 16): the copy of the data and a place in the queue.
IMAGE_BUDGET_S = 0.5e-3

Call = Callable[[Any, int], None]


def _calls() -> list[tuple[str, str, int, Call]]:
    """(method, tag, events each call writes, call(writer, step)) for every method measured."""
    import torch

    gen = torch.Generator().manual_seed(0)
    hist = torch.randn(10_000, generator=gen)
    image = torch.rand(3, 512, 512, generator=gen)
    images = torch.rand(16, 3, 64, 64, generator=gen)
    audio = torch.rand(1, 44_100, generator=gen) * 2 - 1
    labels = torch.randint(0, 2, (1000,), generator=gen)
    preds = torch.rand(1000, generator=gen)
    text = "step summary: " + "lorem ipsum " * 20
    pair = {"a": 0.5, "b": 0.25}
    return [
        ("add_scalar", "m/scalar", 1, lambda w, s: w.add_scalar("m/scalar", 0.5, s)),
        ("add_scalars", "m/scalars", 2, lambda w, s: w.add_scalars("m/scalars", pair, s)),
        ("add_text", "m/text", 1, lambda w, s: w.add_text("m/text", text, s)),
        ("add_histogram 1e4", "m/hist", 1, lambda w, s: w.add_histogram("m/hist", hist, s)),
        ("add_image 3x512x512", "m/image", 1, lambda w, s: w.add_image("m/image", image, s)),
        ("add_images 16x3x64x64", "m/images", 1, lambda w, s: w.add_images("m/images", images, s)),
        ("add_audio 1 s", "m/audio", 1, lambda w, s: w.add_audio("m/audio", audio, s)),
        ("add_pr_curve 1e3", "m/pr", 1, lambda w, s: w.add_pr_curve("m/pr", labels, preds, s)),
    ]


def _timed(
    lib: str, tag: str, per_call: int, call: Call, calls: int, spaced: bool = True
) -> tuple[list[float], str]:
    """Seconds each of `calls` calls took at the caller (with an untimed flush() after each
    when `spaced`), and the read-back problem ('' if every event arrived). Raises ImportError
    when the library needs a package that is not installed for this method (tensorboardX's
    add_audio: soundfile)."""
    with scratch_dir(f"methods-{lib}") as d:
        w = open_writer(lib, d)
        try:
            call(w, 0)  # warm-up: lazy imports, worker threads, first-tag bookkeeping
            w.flush()
        except ImportError:
            w.close()
            raise
        times = []
        for step in range(1, calls + 1):
            s = now_ns()
            call(w, step)
            times.append((now_ns() - s) / 1e9)
            if spaced:
                w.flush()
        w.close()
        found = readback.count_tagged(d, tag)
        want = (calls + 1) * per_call
        problem = "" if found == want else f"{tag}: {found} events read back, {want} logged"
    return times, problem


def run(libs: list[str], cfg: Config) -> Section:
    sec = Section("caller time per call, by method (median over calls, flush() between them)")
    calls = [(*c, True) for c in _calls()]
    image = next(c for c in calls if c[0].startswith("add_image "))
    calls.append((image[0] + ", back to back", *image[1:4], False))
    progress.stage("methods", len(calls) * len(libs))
    for method, tag, per_call, call, spaced in calls:
        row = Row(f"{method} caller time", "s")
        missing: list[str] = []
        for lib in libs:
            progress.step(f"{method}, {lib}")
            n = cfg.method_calls[0] if lib == "xfast" else cfg.method_calls[1]
            try:
                times, problem = _timed(lib, tag, per_call, call, n, spaced)
            except ImportError as e:  # the library's optional dependency, not a failure
                missing.append(f"{lib}: {e.name or e}")
                continue
            row.samples[lib], row.values[lib] = times, median(times)
            row.spread[lib] = spread(times)
            sec.verdict(lib, problem)
        if not spaced:
            row.note = "no flush() between calls: xfast's encodes of earlier calls hold the GIL"
        elif method.startswith("add_image ") and "xfast" in row.values:
            row.target = "<= 0.5 ms"
            row.met = row.values["xfast"] <= IMAGE_BUDGET_S
        if missing:
            row.note = "not measured for " + ", ".join(f"{m} is not installed" for m in missing)
        sec.rows.append(row)
    return sec
