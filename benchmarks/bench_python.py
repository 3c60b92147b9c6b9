# SPDX-License-Identifier: Apache-2.0
"""pytest-benchmark versions of the hot paths, for statistics and --benchmark-compare across
commits. Not collected by the default test run (testpaths = ["tests"]); run with
    python -m pytest benchmarks/bench_python.py --benchmark-only
(needs `pip install pytest-benchmark`). The cross-library table is `python -m xfast.bench`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch

import xfast
from xfast.bench.libs import available, open_writer

LIBS = available(("xfast", "torch", "tensorboardX"))


@pytest.fixture(params=LIBS)
def writer(request: Any, tmp_path: Any) -> Iterator[Any]:
    w = open_writer(request.param, str(tmp_path))
    yield w
    w.close()


def test_add_scalar(benchmark: Any, writer: Any) -> None:
    step = iter(range(10**9))
    benchmark(lambda: writer.add_scalar("loss", 0.5, next(step)))


@pytest.mark.parametrize("n", [10**4, 10**6])
def test_add_histogram(benchmark: Any, writer: Any, n: int) -> None:
    x = torch.randn(n)
    step = iter(range(10**9))
    benchmark(lambda: writer.add_histogram("h", x, next(step)))


def test_engine_add_scalar(benchmark: Any, tmp_path: Any) -> None:
    """The native entry point alone, without SummaryWriter's Python wrapper."""
    w = xfast.SummaryWriter(str(tmp_path))
    fw = w._get_file_writer()
    tid = fw._tag_id("loss")
    add = fw._engine.add_scalar
    benchmark(lambda: add(tid, 0.5, 1, None, 0))
    w.close()
