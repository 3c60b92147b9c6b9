# SPDX-License-Identifier: Apache-2.0
"""Reading a logdir back: xfast's native reader against tbparse, TensorBoard's EventAccumulator
and TensorBoard's Rust data server, all on the same files in one run, page cache warm.

Two logdirs, written by xfast: 4 runs x 10 tags x 50k steps of scalars (2M events) and one file
of 10k histograms. Each reader's rate is events returned per second of wall time (median of
several reads; tbparse and EventAccumulator are read once, they take minutes). The Rust server
keeps only a 1,000-point reservoir per scalar tag and checks CRCs only with --checksum; its time
is its own "Finished load cycle" report. The reader's peak memory is measured in a child
process by sampling its anonymous resident memory (the event files' page-cache pages are file
memory and do not count) against the bytes of the arrays it returns.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Callable

from xfast.bench.config import QUICK, Config
from xfast.bench.report import Row, Section
from xfast.bench.timing import median, now_ns, scratch_dir

# (runs, tags, steps a tag, histograms) for the full run and --quick.
SIZES = {"full": (4, 10, 50_000, 10_000), "quick": (4, 10, 5_000, 1_000)}
REPEATS = {"full": 5, "quick": 3}
# The goal (issue 22): the array API at least this many times the Rust server with --checksum.
GOAL_VS_RUST = 5.0
GOAL_PEAK = 2.0  # peak allocations / returned array bytes


def _write_scalars(d: str, runs: int, tags: int, steps: int) -> None:
    import xfast

    for r in range(runs):
        w = xfast.SummaryWriter(os.path.join(d, f"run{r}"))
        for s in range(steps):
            for k in range(tags):
                w.add_scalar(f"metric/{k}", s * 0.001 + k, s)
        w.close()


def _write_histograms(d: str, n: int) -> None:
    import numpy as np

    import xfast

    rng = np.random.default_rng(0)
    w = xfast.SummaryWriter(os.path.join(d, "hist"))
    for s in range(n):
        w.add_histogram("weights", rng.standard_normal(1000).astype(np.float32), s)
    w.close()


def _timed(fn: Callable[[], int], repeats: int) -> tuple[list[float], int]:
    """Seconds of each call, and the event count the last call returned."""
    times, n = [], 0
    for _ in range(repeats):
        t = now_ns()
        n = fn()
        times.append((now_ns() - t) / 1e9)
    return times, n


def _xfast_scalar_arrays(d: str) -> int:
    from xfast.reader import SummaryReader

    arrays = SummaryReader(d, event_types={"scalars"}).scalar_arrays_by_run()
    return sum(len(a) for tags in arrays.values() for a in tags.values())


def _xfast_histogram_arrays(d: str) -> int:
    from xfast.reader import SummaryReader

    arrays = SummaryReader(d, event_types={"histograms"}).histogram_arrays_by_run()
    return sum(len(a) for tags in arrays.values() for a in tags.values())


def _xfast_frame(d: str, kind: str) -> int:
    from xfast.reader import SummaryReader

    return len(getattr(SummaryReader(d, event_types={kind}), kind))


def _tbparse(d: str, kind: str) -> int:
    import tbparse

    return len(getattr(tbparse.SummaryReader(d, event_types={kind}), kind))


def _accumulator(d: str, kind: str) -> int:
    from tensorboard.backend.event_processing import event_accumulator as ea

    keep_all = {ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.TENSORS: 0, ea.COMPRESSED_HISTOGRAMS: 0}
    n = 0
    for run in sorted(os.listdir(d)):
        acc = ea.EventAccumulator(os.path.join(d, run), size_guidance=keep_all)
        acc.Reload()
        read = acc.Scalars if kind == "scalars" else acc.Histograms
        n += sum(len(read(tag)) for tag in acc.Tags()[kind])
    return n


_LOAD_CYCLE = re.compile(r"Finished load cycle \(([0-9.]+)(ns|µs|us|ms|s)\)")
_UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def _rust_load_cycle(d: str, checksum: bool) -> float:
    """Seconds of the Rust data server's first load cycle over d, from its own log line."""
    import tensorboard_data_server

    cmd = [
        tensorboard_data_server.server_binary(),
        "--logdir",
        d,
        "--reload",
        "once",
        "--port",
        "0",
        "-v",
    ] + (["--checksum"] if checksum else [])
    with subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as proc:  # the with closes the pipe
        try:
            assert proc.stderr is not None
            for line in proc.stderr:
                m = _LOAD_CYCLE.search(line)
                if m:
                    return float(m.group(1)) * _UNITS[m.group(2)]
            raise RuntimeError(f"the data server exited without a load cycle (rc {proc.wait()})")
        finally:
            proc.kill()


def _peak_child(d: str) -> tuple[int, int]:
    """In a fresh interpreter: (peak anonymous resident bytes the scalar read added, bytes of
    the arrays it returned)."""
    code = "import sys; from xfast.bench.read import _peak_here; print(*_peak_here(sys.argv[1]))"
    out = subprocess.run(
        [sys.executable, "-c", code, d], capture_output=True, text=True, check=True
    )
    peak, returned = out.stdout.split()
    return int(peak), int(returned)


def _rss_anon() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return 0


def _peak_here(d: str) -> tuple[int, int]:
    """(peak anonymous resident bytes added while reading d's scalars into arrays, returned
    array bytes), sampled every 0.5 ms on a thread (the scan runs with the GIL released)."""
    from xfast.reader import SummaryReader

    SummaryReader(d, event_types={"scalars"}).scalar_arrays_by_run()  # imports, first-use caches
    base = _rss_anon()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_anon())
            time.sleep(0.0005)

    t = threading.Thread(target=sample)
    t.start()
    arrays = SummaryReader(d, event_types={"scalars"}).scalar_arrays_by_run()
    peak[0] = max(peak[0], _rss_anon())
    done.set()
    t.join()
    returned = sum(
        a.step.nbytes + a.value.nbytes + a.wall_time.nbytes
        for tags in arrays.values()
        for a in tags.values()
    )
    return peak[0] - base, returned


def _row(metric: str, n: int, times: Sequence[float], note: str = "") -> Row:
    rates = [n / t for t in times if t > 0]
    return Row(
        metric,
        "/s",
        values={"xfast": median(rates)},
        samples={"xfast": rates},
        higher_is_better=True,
        speedups=False,
        note=f"{median(list(times)):.3g} s for {n} events" + (f"; {note}" if note else ""),
    )


def _readers(d: str, kind: str, total: int, repeats: int, sec: Section) -> None:
    label = f"{total // 1000}k {kind}"
    arrays = _xfast_scalar_arrays if kind == "scalars" else _xfast_histogram_arrays
    arrays(d)  # warm the page cache and first-use imports (pandas for the frame)
    _xfast_frame(d, kind)
    t_arr, n_arr = _timed(lambda: arrays(d), repeats)
    t_df, n_df = _timed(lambda: _xfast_frame(d, kind), max(1, repeats - 2))
    rust = {ck: [_rust_load_cycle(d, ck) for _ in range(repeats)] for ck in (False, True)}
    t_tbp, n_tbp = _timed(lambda: _tbparse(d, kind), 1)
    t_acc, n_acc = _timed(lambda: _accumulator(d, kind), 1)
    for name, n in (
        ("arrays", n_arr),
        ("DataFrame", n_df),
        ("tbparse", n_tbp),
        ("EventAccumulator", n_acc),
    ):
        sec.verdict(
            "xfast" if name in ("arrays", "DataFrame") else name,
            "" if n == total else f"{label}: {name} returned {n} events, expected {total}",
        )
    rust_ck = median(rust[True])
    arr_row = _row(f"{label}: xfast arrays", n_arr, t_arr)
    arr_row.target = f">= {GOAL_VS_RUST:g}x Rust --checksum"
    arr_row.met = median(t_arr) * GOAL_VS_RUST <= rust_ck
    arr_row.note += f"; {rust_ck / median(t_arr):.2f}x Rust --checksum"
    df_row = _row(f"{label}: xfast .{kind} DataFrame", n_df, t_df)
    df_row.target = "> Rust --checksum"
    df_row.met = median(t_df) < rust_ck
    sec.rows += [
        arr_row,
        df_row,
        _row(
            f"{label}: Rust data server", total, rust[False], "1,000-point reservoirs, CRCs skipped"
        ),
        _row(f"{label}: Rust data server --checksum", total, rust[True], "1,000-point reservoirs"),
        _row(f"{label}: tbparse", n_tbp, t_tbp),
        _row(f"{label}: EventAccumulator (keep all)", n_acc, t_acc),
    ]


def run(libs: list[str], cfg: Config) -> Section:
    """The read stage (python -m xfast.bench --only read). ``libs`` does not apply: the rows are
    readers of files xfast wrote."""
    del libs
    size = "quick" if cfg is QUICK else "full"
    runs, tags, steps, hists = SIZES[size]
    repeats = REPEATS[size]
    sec = Section(f"read back (rows are readers, rate in the first column), {size} sizes")
    with scratch_dir("read-scalars") as d:
        _write_scalars(d, runs, tags, steps)
        _readers(d, "scalars", runs * tags * steps, repeats, sec)
        peak, returned = _peak_child(d)
        ratio = peak / returned
        sec.rows.append(
            Row(
                f"{runs * tags * steps // 1000}k scalars: xfast arrays peak / returned bytes",
                "x",
                values={"xfast": ratio},
                speedups=False,
                target=f"<= {GOAL_PEAK:g}",
                met=ratio <= GOAL_PEAK,
                note=f"peak {peak / 2**20:.1f} MiB, arrays {returned / 2**20:.1f} MiB",
            )
        )
    with scratch_dir("read-histograms") as d:
        _write_histograms(d, hists)
        _readers(d, "histograms", hists, repeats, sec)
    return sec
