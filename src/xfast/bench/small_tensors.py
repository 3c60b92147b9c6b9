# SPDX-License-Identifier: Apache-2.0
"""Histograms of a model's realistic mix of tensor sizes: the parameters and gradients of a small
GPT-2-shaped model (hundreds of norm weights and biases beside a few large matrices), per-tensor
add_histogram against add_histograms, and the fixed cost a small tensor pays.

As in the methods section, each timed call is followed by an untimed flush(): the writer
thread's encode and write of one call's events (its own row here, on another core) would
otherwise land in the next call's time, as it does not when a training step separates the
calls. Back to back, 21 calls of ~200 histograms each kept the writer behind, and the caller's
time moved by 2x between runs with the page faults and malloc contention that backlog causes."""

from __future__ import annotations

from typing import Any, Callable

from xfast.bench import readback
from xfast.bench.config import Config
from xfast.bench.libs import open_writer
from xfast.bench.report import Row, Section
from xfast.bench.timing import median, now_ns, scratch_dir, thread_cpu_ns, writer_threads

# GPT-2's layout (transformers' GPT2Model parameter names and shapes), scaled down.
LAYERS, WIDTH, VOCAB, CONTEXT = 12, 256, 4096, 256
# Tensors of at most this many values count as small (norm weights and biases here).
SMALL = 4096


def gpt2_like_tensors() -> list[tuple[str, Any]]:
    """(name, tensor) of every parameter and its gradient, float32 on the CPU: 148 parameters,
    10.5M values, and as many gradients (small magnitudes)."""
    import torch

    g = torch.Generator().manual_seed(0)
    shapes: list[tuple[str, tuple[int, ...]]] = [("wte.weight", (VOCAB, WIDTH)),
                                                  ("wpe.weight", (CONTEXT, WIDTH))]
    layer: list[tuple[str, tuple[int, ...]]] = [
        ("ln_1.weight", (WIDTH,)), ("ln_1.bias", (WIDTH,)),
        ("attn.c_attn.weight", (WIDTH, 3 * WIDTH)), ("attn.c_attn.bias", (3 * WIDTH,)),
        ("attn.c_proj.weight", (WIDTH, WIDTH)), ("attn.c_proj.bias", (WIDTH,)),
        ("ln_2.weight", (WIDTH,)), ("ln_2.bias", (WIDTH,)),
        ("mlp.c_fc.weight", (WIDTH, 4 * WIDTH)), ("mlp.c_fc.bias", (4 * WIDTH,)),
        ("mlp.c_proj.weight", (4 * WIDTH, WIDTH)), ("mlp.c_proj.bias", (WIDTH,)),
    ]
    for i in range(LAYERS):
        shapes += [(f"h.{i}.{name}", shape) for name, shape in layer]
    shapes += [("ln_f.weight", (WIDTH,)), ("ln_f.bias", (WIDTH,))]
    out = []
    for name, shape in shapes:
        p = torch.nn.Parameter(torch.randn(shape, generator=g) * 0.02)
        p.grad = torch.randn(shape, generator=g) * 1e-4
        out.append((name, p))
    return out


def _loop(w: Any, named: list[tuple[str, Any]], step: int) -> None:
    for name, p in named:
        w.add_histogram("parameters/" + name, p, step)
        w.add_histogram("gradients/" + name, p.grad, step)


def _batched(w: Any, named: list[tuple[str, Any]], step: int) -> None:
    w.add_histograms(named, step, grads=True)


Log = Callable[[Any, list[tuple[str, Any]], int], None]


def _caller_times(lib: str, named: list[tuple[str, Any]], repeats: int,
                  log: Log) -> tuple[list[float], list[float], str]:
    """Caller seconds of `repeats` calls of log, the writer threads' CPU seconds for each call's
    events, and the read-back check's problem ('' = ok)."""
    with scratch_dir(f"small-{lib}") as d:
        w = open_writer(lib, d)
        log(w, named, 0)  # warm-up: tag interning, thread start-up
        w.flush()
        times, writer_cpu = [], []
        for step in range(1, repeats + 1):
            threads = writer_threads()
            cpu = sum(thread_cpu_ns(t) for t in threads)
            s = now_ns()
            log(w, named, step)
            times.append((now_ns() - s) / 1e9)
            w.flush()
            writer_cpu.append((sum(thread_cpu_ns(t) for t in threads) - cpu) / 1e9)
        w.close()
        acc = readback.accumulator(d)
        problem = ""
        for name, p in named[:3] + named[-3:]:
            t = p.detach()
            problem = problem or readback.check_histograms(
                acc, "parameters/" + name, repeats + 1, t.numel(), float(t.min()), float(t.max())
            )
    return times, writer_cpu, problem


def run(libs: list[str], cfg: Config) -> Section:
    import torch

    named = gpt2_like_tensors()
    small = [(n, p) for n, p in named if p.numel() <= SMALL]
    values = sum(p.numel() for _, p in named)
    sec = Section(
        f"histograms of a GPT-2-shaped model's {2 * len(named)} parameters and gradients "
        f"({2 * values / 1e6:.1f}M float32; {2 * len(small)} of them <= {SMALL} values)"
    )
    repeats = 3 * cfg.scalar_repeats
    rows = []
    for subset, label in ((named, "all tensors"), (small, "small tensors only")):
        tensors = 2 * len(subset)
        loop = Row(f"{label}: add_histogram loop, per tensor", "s")
        batch = Row(f"{label}: add_histograms, per tensor", "s", speedups=False)
        for lib in libs:
            if lib != "xfast" and subset is named:
                continue  # the others take ~1 s a call on the large tensors
            times, _, problem = _caller_times(lib, subset, repeats if lib == "xfast" else 3, _loop)
            sec.verdict(lib, problem)
            loop.samples[lib] = [t / tensors for t in times]
            loop.values[lib] = median(times) / tensors
        rows += [loop, batch]
        if "xfast" not in libs:
            continue
        times, writer_cpu, problem = _caller_times("xfast", subset, repeats, _batched)
        sec.verdict("xfast", problem)
        batch.samples["xfast"] = [t / tensors for t in times]
        batch.values["xfast"] = median(times) / tensors
        if subset is small:
            writer = Row(f"{label}: xfast's writer thread CPU, per tensor", "s", speedups=False)
            writer.samples["xfast"] = [t / tensors for t in writer_cpu]
            writer.values["xfast"] = median(writer_cpu) / tensors
            writer.note = "encode, CRC and write() of each event, off the caller's thread"
            rows.append(writer)
    sums = []
    flat = [t for _, p in small for t in (p.detach(), p.grad)]
    for _ in range(repeats):
        s = now_ns()
        for t in flat:
            torch.sum(t)
        sums.append((now_ns() - s) / 1e9 / len(flat))
    ref = Row("small tensors only: torch.sum, per tensor (reference)", "s", speedups=False)
    ref.samples["xfast"], ref.values["xfast"] = sums, median(sums)
    for row in rows[2:4]:
        row.target = "<= 2 us"
        row.met = row.values.get("xfast", float("inf")) <= 2e-6
    sec.rows += [*rows, ref]
    return sec
