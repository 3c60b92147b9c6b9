# SPDX-License-Identifier: Apache-2.0
"""The command line of ``python -m xfast.read``: a summary of a logdir, or an export of it."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional, TextIO

from xfast.reader.summary_reader import SummaryReader

_TYPES = ("scalars", "tensors", "histograms", "text", "hparams")
_EXPORTS = (".csv", ".json", ".parquet")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m xfast.read",
        description="Summarize an event file, a run or a logdir of runs (runs, tags, event "
        "counts, last values), or export its events as a table.",
    )
    p.add_argument("path", help="an event file, a run directory or a logdir")
    p.add_argument("--tag", metavar="GLOB", help="only tags matching this glob (fnmatch)")
    p.add_argument(
        "--regex", metavar="RE", help="only tags in which this POSIX extended regex matches"
    )
    p.add_argument(
        "--type",
        dest="types",
        action="append",
        choices=_TYPES,
        help="only this event type (repeatable; default: all)",
    )
    p.add_argument(
        "--run",
        dest="runs",
        action="append",
        metavar="RUN",
        help="only this run (directory relative to PATH; repeatable)",
    )
    p.add_argument(
        "--to",
        metavar="OUT",
        help="export to OUT (.csv, .json or .parquet): the "
        "first --type (default scalars) with wall_time and dir_name columns",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar on a terminal")
    return p


class _Bar:
    """A one-line progress bar on a terminal (bytes of event files read)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, done: int, total: int) -> None:
        frac = done / total if total else 1.0
        filled = int(frac * 30)
        self.out.write(
            f"\rreading [{'#' * filled}{'.' * (30 - filled)}] "
            f"{done / 2**20:.0f}/{total / 2**20:.0f} MiB"
        )
        if done >= total:
            self.out.write("\n")
        self.out.flush()


def main(argv: Optional[list[str]] = None, out: TextIO = sys.stdout) -> int:
    """Runs the command line; returns the exit status (2 for bad arguments or a missing path)."""
    p = _parser()
    args = p.parse_args(argv)
    if args.to and not args.to.endswith(_EXPORTS):
        p.error(f"--to must end with one of {', '.join(_EXPORTS)}")
    if not os.path.exists(args.path):
        p.error(f"no such file or directory: {args.path}")
    types = set(args.types or _TYPES)
    show_bar = sys.stderr.isatty() and not args.no_progress
    try:
        reader = SummaryReader(
            args.path,
            event_types=types,
            extra_columns={"wall_time", "dir_name"},
            tag_glob=args.tag,
            tag_regex=args.regex,
            runs=args.runs,
            progress=_Bar(sys.stderr) if show_bar else None,
        )
    except ValueError as e:
        p.error(str(e))
    if args.to:
        return _export(reader, (args.types or ["scalars"])[0], args.to, out)
    _summary(reader, types, out)
    return 0


def _export(reader: SummaryReader, kind: str, path: str, out: TextIO) -> int:
    df = getattr(reader, kind)
    if path.endswith(".csv"):
        df.to_csv(path, index=False)
    elif path.endswith(".json"):
        df.to_json(path, orient="records")
    else:
        try:
            df.to_parquet(path, index=False)
        except ImportError as e:
            print(f"xfast.read: parquet export needs pyarrow or fastparquet ({e})", file=sys.stderr)
            return 1
    print(f"wrote {len(df)} {kind} rows to {path}", file=out)
    return 0


def _summary(reader: SummaryReader, types: set[str], out: TextIO) -> None:
    files = reader.files
    events = sum(f.records for f in files)
    print(
        f"{reader.log_path}: {len(reader.runs)} runs, {len(files)} event files, {events} records",
        file=out,
    )
    for run in reader.runs:
        print(f"run {run or '.'}", file=out)
        rows: dict[tuple[str, str], list[object]] = {}  # (tag, kind) -> [count, last step, last]
        for f in files:
            if f.run != run:
                continue
            for t in f.tags.values():
                for kind, series in (
                    ("scalars", t.scalars),
                    ("tensors", t.tensors),
                    ("histograms", t.histograms),
                ):
                    if kind in types and len(series):
                        last = getattr(series, "value", None)
                        row = rows.setdefault((t.name, kind), [0, 0, ""])
                        row[0] = int(row[0]) + len(series)  # type: ignore[call-overload]
                        row[1] = int(series.step[-1])
                        row[2] = f"{float(last[-1]):.6g}" if last is not None else ""
                if t.others:
                    kind = t.plugin_name or "other"
                    row = rows.setdefault((t.name, kind), [0, 0, ""])
                    row[0] = int(row[0]) + len(t.others)  # type: ignore[call-overload]
                    row[1] = t.others[-1].step
        width = max((len(tag) for tag, _k in rows), default=0)
        for (tag, kind), (count, step, last) in sorted(rows.items()):
            print(
                f"  {tag.ljust(width)}  {kind:<10} {count:>10} events  last step {step}"
                + (f"  last value {last}" if last else ""),
                file=out,
            )
    for path, d in reader.damage.items():
        print(
            f"damaged: {path}: {d['corrupt']} corrupt records skipped, "
            f"{d['skipped_bytes']} bytes skipped, {d['truncated_bytes']} bytes of an "
            "incomplete last record",
            file=out,
        )
