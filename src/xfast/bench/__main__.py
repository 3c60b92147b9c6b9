# SPDX-License-Identifier: Apache-2.0
"""python -m xfast.bench [--quick] [--only scalar|histogram|small|methods|train|hf_trainer|read]
[--libs ...] [--json PATH|-] [--plot PATH]"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from typing import Any, Callable, Optional

from xfast.bench import (
    env,
    hf_trainer,
    histogram,
    libs,
    methods,
    progress,
    read,
    scalar,
    small_tensors,
    train,
)
from xfast.bench.config import FULL, QUICK, Config
from xfast.bench.report import Section, render, to_json

SCENARIOS: dict[str, Callable[[list[str], Config], Section]] = {
    "scalar": scalar.run,
    "histogram": histogram.run,
    "small": small_tensors.run,
    "methods": methods.run,
    "train": train.run,
    "hf_trainer": hf_trainer.run,
    "read": read.run,
}
# What runs without --only: the read stage takes minutes (tbparse and EventAccumulator).
DEFAULT = ("scalar", "histogram", "small", "methods", "train", "hf_trainer")


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m xfast.bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes, few repeats (< 60 s)")
    p.add_argument("--only", choices=sorted(SCENARIOS), action="append",
                   help="run only this scenario (repeatable)")
    p.add_argument("--libs", nargs="+", choices=libs.ALL, default=list(libs.ALL),
                   help="libraries to measure (default: all installed)")
    p.add_argument("--json", metavar="PATH",
                   help="also write every sample as JSON here ('-': on stdout, not the table)")
    p.add_argument("--plot", metavar="PATH",
                   help="draw the results into this image (needs matplotlib: xfast[bench])")
    p.add_argument("--torch-threads", type=int, metavar="N",
                   help="torch.set_num_threads(N) first (default: torch's choice)")
    args = p.parse_args(argv)
    if args.plot and importlib.util.find_spec("matplotlib") is None:
        p.error('--plot needs matplotlib: pip install "xfast[bench]"')  # before a long run
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    cfg = QUICK if args.quick else FULL
    names = libs.available(tuple(args.libs))
    info = env.environment()
    info["load_before"] = env.load_average()
    started = time.time()
    cpu_started = time.process_time()
    keys = args.only or list(DEFAULT)
    sections = []
    progress.start(keys)  # on stderr, only when it is a terminal
    try:
        for key in keys:
            sections.append(SCENARIOS[key](names, cfg))
    finally:
        progress.stop()
    elapsed = time.time() - started
    info["load_after"] = env.load_average()
    info["cpu_fraction"] = (time.process_time() - cpu_started) / elapsed
    title = ("xfast benchmark" + (" (--quick)" if args.quick else "")
             + f", {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, {elapsed:.0f} s")
    header = [title, *env.describe(info)]
    data: dict[str, Any] = to_json(info, sections, cfg.as_dict())
    data["elapsed_s"] = elapsed
    data["quick"] = args.quick
    if args.json == "-":
        json.dump(data, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(render(header, sections, names))
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1)
    if args.plot:
        from xfast.bench import plot

        plot.write(data, args.plot)
    return 0 if all(s.correct.get("xfast", True) for s in sections) else 1


if __name__ == "__main__":
    sys.exit(main())
