# SPDX-License-Identifier: Apache-2.0
"""add_histogram of CPU float32 tensors (default bins): caller time, time to disk, and torch.sum
over the same tensor as the memory-bandwidth reference."""

from __future__ import annotations

from typing import Any

from xfast.bench import progress, readback
from xfast.bench.config import Config
from xfast.bench.libs import open_writer
from xfast.bench.report import NOISY_SPREAD, Row, Section, is_noisy
from xfast.bench.timing import cpu_ns, median, now_ns, scratch_dir, spread

TAG = "bench/hist"


def _size_name(n: int) -> str:
    exp = len(str(n)) - 1
    return f"1e{exp}" if n == 10**exp else str(n)


def _timed_run(lib: str, x: Any, repeats: int) -> tuple[list[float], list[float], float, str]:
    """`repeats` add_histogram calls on x, then close. Returns (caller seconds per call, CPU
    seconds per call (all threads), seconds per histogram until closed, correctness problem
    or '')."""
    import torch

    with scratch_dir(f"hist-{lib}") as d:
        w = open_writer(lib, d)
        w.add_histogram("bench/warmup", torch.ones(16), 0)
        times = []
        cpus = []
        t0 = now_ns()
        for step in range(repeats):
            s, c = now_ns(), cpu_ns()
            w.add_histogram(TAG, x, step)
            times.append((now_ns() - s) / 1e9)
            cpus.append((cpu_ns() - c) / 1e9)
        w.close()
        to_disk = (now_ns() - t0) / 1e9 / repeats
        problem = readback.check_histograms(
            readback.accumulator(d), TAG, repeats, x.numel(), float(x.min()), float(x.max())
        )
    return times, cpus, to_disk, problem


def _sum_times(x: Any, repeats: int) -> list[float]:
    import torch

    torch.sum(x)  # warm-up: first-call dispatch and thread start-up
    times = []
    for _ in range(repeats):
        s = now_ns()
        torch.sum(x)
        times.append((now_ns() - s) / 1e9)
    return times


def run(libs: list[str], cfg: Config) -> Section:
    import torch

    sec = Section("add_histogram (CPU float32 torch.randn, default bins)")
    gen = torch.Generator().manual_seed(0)
    progress.stage("histogram", len(cfg.hist_sizes) * len(libs))
    for n in cfg.hist_sizes:
        fast_reps, slow_reps = cfg.hist_repeats[n]
        x = torch.randn(n, generator=gen)
        name = _size_name(n)
        caller = Row(f"{name} caller time", "s")
        cpu = Row(f"{name} CPU time, all threads", "s")
        disk = Row(f"{name} time to disk", "s")
        for lib in libs:
            progress.step(f"{name} floats, {lib}")
            times, cpus, to_disk, problem = _timed_run(
                lib, x, fast_reps if lib == "xfast" else slow_reps
            )
            caller.samples[lib], caller.values[lib] = times, median(times)
            cpu.samples[lib], cpu.values[lib] = cpus, median(cpus)
            disk.samples[lib] = [to_disk]
            disk.values[lib] = to_disk
            sec.verdict(lib, problem)
        sums = _sum_times(x, fast_reps)
        ref = Row(f"{name} torch.sum (bandwidth reference)", "s", speedups=False)
        ref.samples["xfast"], ref.values["xfast"] = sums, median(sums)
        ref.spread["xfast"] = spread(sums)
        noisy = is_noisy(ref, "xfast")
        if noisy:
            ref.noisy.add("xfast")
            ref.note = (
                f"NOISY: interquartile range > {NOISY_SPREAD:.0%} of the median, so the "
                "xfast / torch.sum ratio is not meaningful"
            )
        if "xfast" in caller.values:
            ratio = caller.values["xfast"] / ref.values["xfast"]
            caller.note = f"xfast / torch.sum = {ratio:.2f}x"
            if noisy:
                caller.note += " (NOISY reference)"
            if n == 10**8:
                t = caller.values.get("torch")
                caller.target = ">= 20x torch (later <= 2x torch.sum)"
                caller.met = t is None or t / caller.values["xfast"] >= 20
                ref.target = "xfast <= 2x torch.sum"
                ref.met = None if noisy else ratio <= 2
                ref.note = (
                    f"xfast / torch.sum = {ratio:.2f}x (the 'xfast' column is torch.sum)"
                    + ("; NOISY reference: not judged" if noisy else "")
                )
        sec.rows += [caller, cpu, disk, ref]
        del x
    return sec
