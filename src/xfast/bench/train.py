# SPDX-License-Identifier: Apache-2.0
"""A training loop on CPU (MLP, random data, SGD): step time with and without histograms of
every parameter and gradient each step, as overhead over the bare step."""

from __future__ import annotations

from typing import Any, Callable

from xfast.bench import readback
from xfast.bench.config import Config
from xfast.bench.libs import open_writer
from xfast.bench.report import Row, Section
from xfast.bench.timing import cpu_ns, median, now_ns, scratch_dir


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


def _timed(fn: Callable[[], None]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of all threads) one call of fn takes."""
    s, c = now_ns(), cpu_ns()
    fn()
    return (now_ns() - s) / 1e9, (cpu_ns() - c) / 1e9


def _measure(
    lib: str, model: Any, step: Callable[[], None], steps: int, log: Callable[[Any, Any, int], None]
) -> tuple[list[tuple[float, float]], list[tuple[float, float]], str]:
    """((wall, CPU) of each bare step, (wall, CPU) of each logged step, correctness problem)
    with bare and logged steps alternating, so both see the same machine load."""
    bare: list[tuple[float, float]] = []
    logged: list[tuple[float, float]] = []
    with scratch_dir(f"train-{lib}") as d:
        w = open_writer(lib, d)

        for i in range(steps):
            bare.append(_timed(step))

            def logged_step(i: int = i) -> None:
                step()
                log(w, model, i)

            logged.append(_timed(logged_step))
        w.close()
        acc = readback.accumulator(d)
        problem = ""
        for name, p in model.named_parameters():
            for tag, t in (("parameters/" + name, p.detach()), ("gradients/" + name, p.grad)):
                problem = problem or readback.check_histograms(
                    acc, tag, steps, t.numel(), float(t.min()), float(t.max())
                )
    return bare, logged, problem


def run(libs: list[str], cfg: Config) -> Section:
    import xfast

    model, step = _model(cfg)
    params = sum(p.numel() for p in model.parameters())
    tensors = 2 * len(list(model.parameters()))
    sec = Section(
        f"training loop: MLP {cfg.train_layers}x{cfg.train_width}, {params / 1e6:.1f}M params, "
        f"batch {cfg.train_batch}, histograms of {tensors} tensors per step"
    )
    for _ in range(2):  # warm-up: allocator, autograd graph, thread pools
        step()
    bare_row = Row("bare step (fwd+bwd+SGD)", "s", speedups=False)
    step_row = Row("step + histograms", "s")
    over_row = Row("overhead vs bare step", "%", target="<= +10%")
    cpu_row = Row("overhead vs bare step, CPU time", "%", speedups=False)
    variants: list[tuple[str, str, Callable[[Any, Any, int], None]]] = [
        (lib, lib, _log_loop) for lib in libs
    ]
    if "xfast" in libs and hasattr(xfast.SummaryWriter, "add_histograms"):
        variants.append(("xfast", "xfast add_histograms", _log_batched))
    extra: list[str] = []
    all_bare: list[float] = []
    for lib, label, log in variants:
        steps = cfg.train_steps[0] if lib == "xfast" else cfg.train_steps[1]
        bare, logged, problem = _measure(lib, model, step, steps, log)
        sec.verdict(lib, problem)
        bare_wall, logged_wall = [t for t, _ in bare], [t for t, _ in logged]
        all_bare += bare_wall
        overhead = (median(logged_wall) / median(bare_wall) - 1) * 100
        cpu_overhead = (median([c for _, c in logged]) / median([c for _, c in bare]) - 1) * 100
        if label == lib:
            step_row.samples[lib], step_row.values[lib] = logged_wall, median(logged_wall)
            over_row.samples[lib], over_row.values[lib] = [overhead], overhead
            cpu_row.samples[lib], cpu_row.values[lib] = [cpu_overhead], cpu_overhead
        else:
            extra.append(
                f"{label}: step {median(logged_wall) * 1e3:.1f} ms, overhead {overhead:+.1f}% "
                f"(CPU {cpu_overhead:+.1f}%)"
            )
    bare_row.samples["xfast"], bare_row.values["xfast"] = all_bare, median(all_bare)
    bare_row.note = "median over all bare steps (shown in the xfast column)"
    over_row.speedups = False
    if "xfast" in over_row.values:
        over_row.met = over_row.values["xfast"] <= 10
    if extra:
        over_row.note = "; ".join(extra)
    sec.rows += [bare_row, step_row, over_row, cpu_row]
    return sec
