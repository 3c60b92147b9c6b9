# SPDX-License-Identifier: Apache-2.0
"""The Hugging Face Trainer on a tiny GPT-2 (CPU, logging_steps=1): step time with no logging,
with the stock TensorBoardCallback (torch's writer) against xfast's, and with histograms of
every parameter and gradient each step (stock: a callback's add_histogram loop)."""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Callable

from xfast.bench import readback
from xfast.bench.config import Config
from xfast.bench.libs import open_writer
from xfast.bench.report import Row, Section
from xfast.bench.timing import cpu_ns, median, now_ns, scratch_dir

# Model size: a 2-layer GPT-2 of width 128 (0.4M parameters, 30 tensors), 4 x 64 tokens a step.
_WIDTH, _LAYERS, _SEQ, _BATCH = 128, 2, 64, 4


def _callbacks() -> tuple[Any, Any]:
    """(step timer class, stock histogram callback class), made once transformers is imported."""
    import transformers

    class StepTimer(transformers.TrainerCallback):  # type: ignore[misc]
        """(wall, CPU of all threads) seconds of each step, from one on_step_begin to the next
        (the Trainer's on_log for a step runs after its on_step_end)."""

        def __init__(self) -> None:
            self.samples: list[tuple[float, float]] = []
            self._start = (0, 0)

        def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            now = (now_ns(), cpu_ns())
            if self._start[0]:
                self.samples.append(((now[0] - self._start[0]) / 1e9,
                                     (now[1] - self._start[1]) / 1e9))
            self._start = now

    class StockHistograms(transformers.TrainerCallback):  # type: ignore[misc]
        """A user's per-step histograms through torch's writer: add_histogram per tensor."""

        def __init__(self, writer: Any) -> None:
            self.writer = writer

        def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            step = state.global_step + 1
            for name, p in kw["model"].named_parameters():
                self.writer.add_histogram("parameters/" + name, p, step)
                self.writer.add_histogram("gradients/" + name, p.grad, step)

    return StepTimer, StockHistograms


def _train(
    logdir: str, steps: int, make_callbacks: Callable[[str], list[Any]]
) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each step of one Trainer run (the first 3, warm-up, left out)."""
    import torch
    import transformers

    timer_cls, _ = _callbacks()
    timer = timer_cls()
    torch.manual_seed(0)
    # transformers' config advice (its loss type default) is not the benchmark's output: with
    # --json to a pipe, nothing but the JSON is printed.
    transformers.logging.set_verbosity_error()
    config = transformers.GPT2Config(
        vocab_size=256, n_positions=_SEQ, n_embd=_WIDTH, n_layer=_LAYERS, n_head=4,
        bos_token_id=0, eos_token_id=0,
    )
    model = transformers.GPT2LMHeadModel(config)
    ids = torch.randint(0, 256, (steps * _BATCH, _SEQ))
    args = transformers.TrainingArguments(
        output_dir=os.path.join(logdir, "out"), max_steps=steps, logging_steps=1,
        per_device_train_batch_size=_BATCH, report_to="none", save_strategy="no", use_cpu=True,
        disable_tqdm=True, seed=0,
    )
    data = [{"input_ids": x, "labels": x} for x in ids]
    trainer = transformers.Trainer(
        model=model, args=args, train_dataset=data, callbacks=[*make_callbacks(logdir), timer]
    )
    trainer.remove_callback(transformers.PrinterCallback)  # the same in every run: noise
    trainer.train()
    samples: list[tuple[float, float]] = timer.samples[3:]
    return samples


def _variants(libs: list[str]) -> dict[tuple[str, str], Callable[[str], list[Any]]]:
    """(library, "scalars" | "histograms") -> the callbacks of that run."""
    out: dict[tuple[str, str], Callable[[str], list[Any]]] = {}
    if "xfast" in libs:
        from xfast.integrations.transformers import TensorBoardCallback

        out["xfast", "scalars"] = lambda d: [TensorBoardCallback()]
        out["xfast", "histograms"] = lambda d: [TensorBoardCallback(histogram_steps=1)]
    if "torch" in libs:
        from torch.utils.tensorboard import SummaryWriter
        from transformers.integrations import TensorBoardCallback as Stock

        _, stock_hist = _callbacks()
        out["torch", "scalars"] = lambda d: [Stock()]

        def with_histograms(d: str) -> list[Any]:
            w = SummaryWriter(os.environ["TENSORBOARD_LOGGING_DIR"])
            return [Stock(tb_writer=w), stock_hist(w)]

        out["torch", "histograms"] = with_histograms
    return out


def _flush_cost(lib: str, calls: int) -> list[float]:
    """Seconds of each flush() after a log call's worth of scalars (what on_log does)."""
    samples = []
    with scratch_dir(f"hf-flush-{lib}") as d:
        w = open_writer(lib, d)
        for i in range(calls):
            for tag in ("train/loss", "train/grad_norm", "train/learning_rate", "train/epoch"):
                w.add_scalar(tag, 1.0 / (i + 1), i)
            start = now_ns()
            w.flush()
            samples.append((now_ns() - start) / 1e9)
        w.close()
    return samples


def _check(logdir: str, steps: int, histograms: bool) -> str:
    """'' if xfast's run reads back with a loss per step (and every histogram), else why not."""
    acc = readback.accumulator(logdir)
    tags = acc.Tags()
    if "train/loss" not in tags["scalars"] or len(acc.Scalars("train/loss")) != steps:
        return "train/loss missing steps"
    if histograms and (not tags["histograms"] or any(
            len(acc.Histograms(t)) != steps for t in tags["histograms"])):
        return "histograms missing steps"
    return ""


def run(libs: list[str], cfg: Config) -> Section:
    sec = Section(
        f"HF Trainer step, logging_steps=1: GPT-2 {_LAYERS}x{_WIDTH}, batch {_BATCH}x{_SEQ} "
        "tokens, CPU"
    )
    if importlib.util.find_spec("transformers") is None:
        sec.verdict("xfast", "transformers is not installed (pip install 'xfast[transformers]')")
        return sec
    steps = cfg.hf_trainer_steps
    saved = os.environ.get("TENSORBOARD_LOGGING_DIR")
    try:
        # No-logging runs before and after the others, pooled: machine load drifts.
        with scratch_dir("hf-none") as d:
            bare = _train(d, steps, lambda _: [])
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for (lib, kind), make in _variants(libs).items():
            with scratch_dir(f"hf-{lib}-{kind}") as d:
                os.environ["TENSORBOARD_LOGGING_DIR"] = os.path.join(d, "tb")
                times[lib, kind] = _train(d, steps, make)
                if lib == "xfast":
                    sec.verdict(lib, _check(os.path.join(d, "tb"), steps, kind == "histograms"))
        with scratch_dir("hf-none") as d:
            bare += _train(d, steps, lambda _: [])
    finally:
        if saved is None:
            os.environ.pop("TENSORBOARD_LOGGING_DIR", None)
        else:
            os.environ["TENSORBOARD_LOGGING_DIR"] = saved
    bare_wall, bare_cpu = [w for w, _ in bare], [c for _, c in bare]
    bare_row = Row("step, no logging", "s", speedups=False)
    bare_row.samples["xfast"], bare_row.values["xfast"] = bare_wall, median(bare_wall)
    bare_row.note = ("no TensorBoard callback, run first and last (shown in the xfast column); "
                     "the Trainer still computes its logs each step")
    sec.rows.append(bare_row)
    for kind, label, target in (("scalars", "scalars every step", "within noise"),
                                ("histograms", "+ every histogram each step", "<= +10%")):
        step_row = Row(f"step, {label}", "s")
        over_row = Row(f"overhead vs no logging, {label}", "%", target=target, speedups=False)
        cpu_row = Row(f"overhead vs no logging, {label}, CPU time", "%", speedups=False)
        for (lib, k), samples in times.items():
            if k != kind:
                continue
            wall, cpu = [w for w, _ in samples], [c for _, c in samples]
            step_row.samples[lib], step_row.values[lib] = wall, median(wall)
            for row, got, base in ((over_row, wall, bare_wall), (cpu_row, cpu, bare_cpu)):
                over = (median(got) / median(base) - 1) * 100
                row.samples[lib], row.values[lib] = [over], over
        if "xfast" in over_row.values and kind == "histograms":
            over_row.met = over_row.values["xfast"] <= 10
        sec.rows += [step_row, over_row, cpu_row]
    flush_row = Row("flush() after 4 scalars (each on_log)", "s")
    for lib in libs:
        flushes = _flush_cost(lib, 10 * steps)
        flush_row.samples[lib], flush_row.values[lib] = flushes, median(flushes)
    sec.rows.append(flush_row)
    return sec
