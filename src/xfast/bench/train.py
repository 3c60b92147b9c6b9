# SPDX-License-Identifier: Apache-2.0
"""A training loop on CPU (MLP, random data, SGD): step time with and without histograms of
every parameter and gradient each step, as overhead over the bare step.

Bare and logged steps run in alternating blocks of `train_block_steps` steps, each logged block
ending with the writer's flush(), so the work a writer's background thread does for a block is
charged to that block rather than to the bare block after it. The order inside each pair flips
every pair, so a drift of the machine's speed hits both sides alike. The writer threads' CPU
time (torch's and tensorboardX's event writer threads, xfast's native writer thread) is counted
separately and added to the logged side in the "+ writer CPU" rows: on a machine with idle
cores that work costs no wall time, on a busy one it does."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from xfast.bench import progress, readback
from xfast.bench.config import Config
from xfast.bench.libs import open_writer
from xfast.bench.report import NOISY_SPREAD, Row, Section, is_noisy
from xfast.bench.timing import (
    cpu_ns,
    median,
    now_ns,
    scratch_dir,
    spread,
    thread_cpu_ns,
    writer_threads,
)


def _model(cfg: Config) -> tuple[Any, Callable[[], None]]:
    """The model and one training step (forward, backward, SGD) on fixed random data."""
    import torch

    torch.manual_seed(0)
    layers: list[Any] = []
    for _ in range(cfg.train_layers - 1):
        layers += [torch.nn.Linear(cfg.train_width, cfg.train_width), torch.nn.ReLU()]
    layers.append(torch.nn.Linear(cfg.train_width, cfg.train_width))
    model = torch.nn.Sequential(*layers)
    x = torch.randn(cfg.train_batch, cfg.train_width)
    y = torch.randn(cfg.train_batch, cfg.train_width)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()

    def step() -> None:
        opt.zero_grad(set_to_none=False)
        loss_fn(model(x), y).backward()
        opt.step()

    return model, step


# Both variants use add_histograms' tag layout, so one read-back check covers them.
def _log_loop(w: Any, model: Any, step_no: int) -> None:
    for name, p in model.named_parameters():
        w.add_histogram("parameters/" + name, p, step_no)
        w.add_histogram("gradients/" + name, p.grad, step_no)


def _log_batched(w: Any, model: Any, step_no: int) -> None:
    w.add_histograms(model.named_parameters(), step_no, grads=True)


@dataclass
class Blocks:
    """Per pair of blocks: seconds per step (wall) of the bare and the logged block, process
    CPU seconds per step of each, and the writer threads' CPU seconds per step in each."""

    bare: list[float] = field(default_factory=list)
    logged: list[float] = field(default_factory=list)
    bare_cpu: list[float] = field(default_factory=list)
    logged_cpu: list[float] = field(default_factory=list)
    bare_writer: list[float] = field(default_factory=list)
    logged_writer: list[float] = field(default_factory=list)

    def overheads(self) -> list[float]:
        """Wall-time overhead of each pair, in percent."""
        return [(lg / b - 1) * 100 for b, lg in zip(self.bare, self.logged)]

    def overheads_with_writer(self) -> list[float]:
        """Each pair's overhead with the writer threads' CPU time (beyond the bare block's)
        added to the logged side, in percent."""
        return [
            ((lg + wl - wb) / b - 1) * 100
            for b, lg, wb, wl in zip(self.bare, self.logged, self.bare_writer, self.logged_writer)
        ]

    def cpu_overheads(self) -> list[float]:
        """Process CPU time (every thread) overhead of each pair, in percent."""
        return [(lg / b - 1) * 100 for b, lg in zip(self.bare_cpu, self.logged_cpu)]


def _block(steps: int, body: Callable[[int], None], end: Callable[[], None]) -> tuple[float, ...]:
    """Runs body(0..steps-1) then end(); returns (wall, process CPU, writer threads' CPU), each
    in seconds per step. The writer threads are listed afterwards, so threads the block started
    count too (from zero)."""
    before = {t: thread_cpu_ns(t) for t in writer_threads()}
    s, c = now_ns(), cpu_ns()
    for i in range(steps):
        body(i)
    end()
    wall, cpu = now_ns() - s, cpu_ns() - c
    writer = sum(thread_cpu_ns(t) - before.get(t, 0) for t in writer_threads())
    return wall / steps / 1e9, cpu / steps / 1e9, writer / steps / 1e9


def _measure(
    lib: str, model: Any, step: Callable[[], None], cfg: Config, pairs: int,
    log: Callable[[Any, Any, int], None],
) -> tuple[Blocks, str]:
    """Alternating bare and logged blocks on one writer; returns them and the correctness
    problem ('' when what was logged reads back right)."""
    out = Blocks()
    n = cfg.train_block_steps
    with scratch_dir(f"train-{lib}") as d:
        w = open_writer(lib, d)
        logged_steps = 0
        last: dict[str, tuple[int, float, float]] = {}  # what the last logged step saw

        def bare() -> None:
            wall, cpu, writer = _block(n, lambda i: step(), lambda: None)
            out.bare.append(wall)
            out.bare_cpu.append(cpu)
            out.bare_writer.append(writer)

        def logged() -> None:
            nonlocal logged_steps
            first = logged_steps

            def body(i: int) -> None:
                step()
                log(w, model, first + i)

            wall, cpu, writer = _block(n, body, w.flush)
            logged_steps += n
            out.logged.append(wall)
            out.logged_cpu.append(cpu)
            out.logged_writer.append(writer)
            # A bare block may train on afterwards: keep what the last histograms counted.
            for name, p in model.named_parameters():
                for tag, t in (("parameters/" + name, p.detach()), ("gradients/" + name, p.grad)):
                    last[tag] = (t.numel(), float(t.min()), float(t.max()))

        for pair in range(pairs):
            progress.step(f"{lib}, {log.__name__.lstrip('_')}, block pair {pair + 1} of {pairs}")
            for run in (bare, logged) if pair % 2 == 0 else (logged, bare):
                run()
        w.close()
        acc = readback.accumulator(d)
        problem = ""
        for tag, (numel, lo, hi) in last.items():
            problem = problem or readback.check_histograms(acc, tag, logged_steps, numel, lo, hi)
    return out, problem


def _put(row: Row, lib: str, samples: list[float]) -> None:
    row.samples[lib], row.values[lib] = samples, median(samples)
    row.spread[lib] = spread(samples)


def run(libs: list[str], cfg: Config) -> Section:
    import xfast

    model, step = _model(cfg)
    params = sum(p.numel() for p in model.parameters())
    tensors = 2 * len(list(model.parameters()))
    sec = Section(
        f"training loop: MLP {cfg.train_layers}x{cfg.train_width}, {params / 1e6:.1f}M params, "
        f"batch {cfg.train_batch}, histograms of {tensors} tensors per step, "
        f"alternating blocks of {cfg.train_block_steps} bare and logged steps"
    )
    for _ in range(2):  # warm-up: allocator, autograd graph, thread pools
        step()
    bare_row = Row("bare step (fwd+bwd+SGD)", "s", speedups=False)
    rows: dict[str, tuple[Row, Row, Row]] = {}
    for kind, method in (("loop", "add_histogram loop"), ("batched", "add_histograms")):
        rows[kind] = (
            Row(f"step + {method}", "s"),
            Row(f"overhead, {method}", "%", target="<= +10%", speedups=False),
            Row(f"overhead + writer CPU, {method}", "%", speedups=False),
        )
    cpu_row = Row("overhead in process CPU time, add_histogram loop", "%", speedups=False)
    variants: list[tuple[str, str, Callable[[Any, Any, int], None]]] = [
        (lib, "loop", _log_loop) for lib in libs
    ]
    if "xfast" in libs and hasattr(xfast.SummaryWriter, "add_histograms"):
        variants.append(("xfast", "batched", _log_batched))
    noisy: list[str] = []
    progress.stage("train", sum(cfg.train_blocks[lib != "xfast"] for lib, _, _ in variants))
    for lib, kind, log in variants:
        pairs = cfg.train_blocks[0] if lib == "xfast" else cfg.train_blocks[1]
        blocks, problem = _measure(lib, model, step, cfg, pairs, log)
        sec.verdict(lib, problem)
        step_row, over_row, writer_row = rows[kind]
        _put(step_row, lib, blocks.logged)
        _put(over_row, lib, blocks.overheads())
        _put(writer_row, lib, blocks.overheads_with_writer())
        if kind == "loop":
            _put(bare_row, lib, blocks.bare)
            _put(cpu_row, lib, blocks.cpu_overheads())
            if is_noisy(bare_row, lib):
                noisy.append(lib)
    # torch and tensorboardX have no add_histograms: their loop is what a user of theirs runs.
    batched = rows["batched"]
    for lib in libs:
        if lib != "xfast":
            for source, target in zip(rows["loop"], batched):
                if lib in source.values:
                    _put(target, lib, source.samples[lib])
    batched[0].note = "torch and tbX have no add_histograms: their columns repeat their loop"
    for _, over_row, _ in rows.values():
        if "xfast" in over_row.values:
            over_row.met = over_row.values["xfast"] <= 10
    bare_row.note = (
        "median per step over the bare blocks; +- is half the interquartile range "
        "(points for %) over the block pairs"
    )
    if noisy:
        bare_row.noisy.update(noisy)
        bare_row.note += (
            f"; NOISY for {', '.join(noisy)} (interquartile range > {NOISY_SPREAD:.0%} of the "
            f"median, +- above {NOISY_SPREAD / 2:.1%}): their overheads are not meaningful"
        )
    sec.rows += [bare_row, *rows["loop"], *rows["batched"], cpu_row]
    return sec
