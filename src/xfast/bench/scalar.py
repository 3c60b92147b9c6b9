# SPDX-License-Identifier: Apache-2.0
"""add_scalar: caller-side cost per call and sustained scalars/s until the file is closed."""

from __future__ import annotations

from typing import Any

from xfast.bench import progress, readback, tbx_flavour
from xfast.bench.config import Config
from xfast.bench.libs import open_writer
from xfast.bench.report import Row, Section
from xfast.bench.timing import cpu_ns, median, now_ns, scratch_dir

TAG = "bench/loss"
VALUE = 0.5  # exact in float32, so the read-back comparison is exact


def _timed_run(lib: str, calls: int) -> tuple[float, float, float, int, str]:
    """One writer, `calls` add_scalar calls, close. Returns (caller seconds per call, scalars/s
    until closed, CPU seconds per call until closed, writer high-water mark or -1, correctness
    problem or '')."""
    with scratch_dir(f"scalar-{lib}") as d:
        w = open_writer(lib, d)
        add = w.add_scalar
        add("bench/warmup", 0.0, 0)  # creates the file and any lazy state outside the timing
        c0 = cpu_ns()
        t0 = now_ns()
        for i in range(calls):
            add(TAG, VALUE, i)
        t1 = now_ns()
        high_water = w.stats()["high_water"] if lib == "xfast" else -1
        w.close()
        t2 = now_ns()
        c2 = cpu_ns()
        # file_version + warm-up + the timed calls.
        problem = readback.check_scalar_file(d, calls + 2, TAG, calls - 1, VALUE)
    return (
        (t1 - t0) / calls / 1e9,
        calls / ((t2 - t0) / 1e9),
        (c2 - c0) / calls / 1e9,
        high_water,
        problem,
    )


def _check_values(lib: str, calls: int) -> str:
    """Logs distinct values and reads every one back through TensorBoard's loader."""
    expected = [(i, i * 0.25 - 7.0) for i in range(calls)]  # all exact in float32
    with scratch_dir(f"scalar-check-{lib}") as d:
        w = open_writer(lib, d)
        for step, value in expected:
            w.add_scalar("bench/check", value, step)
        w.close()
        return readback.check_scalars(d, "bench/check", expected)


def run(libs: list[str], cfg: Config) -> Section:
    sec = Section("add_scalar (python float, int step)")
    caller = Row("caller time per call", "s", target="<= 1 us, >= 100x torch")
    disk = Row("sustained to disk", "/s", higher_is_better=True, target=">= 2M scalars/s")
    cpu = Row("CPU time per call, all threads, to disk", "s")
    high_waters: list[int] = []
    progress.stage("scalar", len(libs) * (cfg.scalar_repeats + 1))
    for lib in libs:
        calls = cfg.scalar_calls[lib]
        per_call: list[float] = []
        rates: list[float] = []
        cpus: list[float] = []
        for k in range(cfg.scalar_repeats):
            progress.step(f"{lib}, run {k + 1} of {cfg.scalar_repeats} ({calls} calls)")
            t, rate, c, hw, problem = _timed_run(lib, calls)
            per_call.append(t)
            rates.append(rate)
            cpus.append(c)
            if hw >= 0:
                high_waters.append(hw)
            sec.verdict(lib, problem)
        caller.samples[lib], caller.values[lib] = per_call, median(per_call)
        disk.samples[lib], disk.values[lib] = rates, median(rates)
        cpu.samples[lib], cpu.values[lib] = cpus, median(cpus)
        progress.step(f"{lib}, reading back {cfg.scalar_check_calls} values")
        sec.verdict(lib, _check_values(lib, cfg.scalar_check_calls))
    x = caller.values.get("xfast")
    if x is not None:
        t_torch = caller.values.get("torch")
        caller.met = x <= 1e-6 and (t_torch is None or t_torch / x >= 100)
        disk.met = disk.values["xfast"] >= 2e6
        disk.note = (
            f"xfast ring high-water {max(high_waters)} of {_capacity()} records "
            f"({cfg.scalar_calls['xfast']} calls per run)"
        )
    sec.rows += [caller, disk, cpu]
    if "xfast" in libs:
        face, problem = tbx_flavour.row(cfg)
        sec.rows.append(face)
        sec.verdict("xfast", problem)
    return sec


def _capacity() -> Any:
    from xfast.file_writer import DEFAULT_QUEUE_CAPACITY

    return DEFAULT_QUEUE_CAPACITY
