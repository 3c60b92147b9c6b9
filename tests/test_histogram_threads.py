# SPDX-License-Identifier: Apache-2.0
"""Where the histogram kernel's parallel work runs: on torch's OpenMP team (main thread, libgomp
loaded) or on xfast's own pool (other threads, forked children, XFAST_NO_OPENMP_TEAM), with
identical results either way."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from typing import Any

import numpy as np
import pytest
import torch

from xfast import _core


def _libgomp_loaded() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    with open("/proc/self/maps") as f:
        return "libgomp" in f.read()


needs_libgomp = pytest.mark.skipif(not _libgomp_loaded(),
                                   reason="torch here does not run on GNU libgomp")

# Counts and moments of a 3M-element histogram (12 chunks: every worker takes several), as
# float64s, printed by a child process.
CHILD = (
    "import sys, numpy as np, torch\n"
    "from xfast import _core\n"
    "x = np.random.default_rng(1).standard_normal(3_000_000).astype(np.float32)\n"
    "x[::1000] = 0\n"
    "r = _core.testing.histogram_default(x, 0, False)\n"
    "print(_core.testing.openmp_team_available())\n"
    "np.save(sys.argv[1], np.concatenate([r['counts'].astype(np.float64),"
    " [r['min'], r['max'], r['sum'], r['sum_squares'], r['finite']]]))\n"
)


def run_child(tmp_path: Any, name: str, **env: str) -> tuple[str, np.ndarray]:
    out = str(tmp_path / f"{name}.npy")
    full = {k: v for k, v in os.environ.items() if k != "XFAST_NO_OPENMP_TEAM"}
    full.update(env)
    run = subprocess.run([sys.executable, "-c", CHILD, out], check=True, env=full,
                         capture_output=True, text=True, timeout=120)
    return run.stdout.strip(), np.load(out)


@needs_libgomp
def test_main_thread_borrows_torchs_team_and_other_threads_do_not() -> None:
    assert _core.testing.openmp_team_available() is (
        "XFAST_NO_OPENMP_TEAM" not in os.environ
    )
    seen: list[bool] = []
    t = threading.Thread(target=lambda: seen.append(_core.testing.openmp_team_available()))
    t.start()
    t.join()
    assert seen == [False]


@needs_libgomp
def test_team_and_own_pool_give_identical_results(tmp_path: Any) -> None:
    on_team, a = run_child(tmp_path, "team")
    on_pool, b = run_child(tmp_path, "pool", XFAST_NO_OPENMP_TEAM="1")
    assert (on_team, on_pool) == ("True", "False")
    np.testing.assert_array_equal(a[:-3], b[:-3])  # counts, min, max
    assert a[-1] == b[-1] == 3_000_000
    # Chunks may be summed in another order: float64 sums agree to rounding.
    np.testing.assert_allclose(a[-3:-1], b[-3:-1], rtol=1e-12)


def test_one_torch_thread_uses_own_pool_with_same_result() -> None:
    x = np.random.default_rng(2).standard_normal(1_500_000).astype(np.float32)
    before = torch.get_num_threads()
    want = _core.testing.histogram_default(x, 0, True)
    try:
        torch.set_num_threads(1)  # the team would be one thread: xfast's pool runs instead
        got = _core.testing.histogram_default(x, 0, False)
    finally:
        torch.set_num_threads(before)
    np.testing.assert_array_equal(got["counts"], want["counts"])
    assert got["finite"] == want["finite"]


@needs_libgomp
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_uses_own_pool_and_finishes() -> None:
    x = np.random.default_rng(3).standard_normal(1_500_000).astype(np.float32)
    want = _core.testing.histogram_default(x, 0, False)["counts"]  # the parent used the team
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: no pytest machinery, report through the pipe and leave at once
        try:
            ok = (not _core.testing.openmp_team_available()
                  and np.array_equal(_core.testing.histogram_default(x, 0, False)["counts"], want))
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    assert os.read(r, 1) == b"1"
    assert status == 0


# A torch process that has run parallel ops forks; the child must not borrow the team
# (libgomp's bookkeeping survives fork, its threads do not), whether xfast was imported before
# the fork without histogramming yet, or only in the child. Both children waited forever when
# only a pid recorded at the first lookup guarded this.
FORKED_CHILD = (
    "import os, sys, torch\n"
    "{import_before}\n"
    "x = torch.randn(3_000_000)\n"
    "float(x.sum())  # torch's team now exists\n"
    "a = x.numpy()\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    from xfast import _core\n"
    "    ok = (not _core.testing.openmp_team_available()\n"
    "          and _core.histogram_accumulate(a, 0)['finite'] == a.size)\n"
    "    os._exit(0 if ok else 1)\n"
    "_, status = os.waitpid(pid, 0)\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


@needs_libgomp
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
@pytest.mark.parametrize("import_before", ["from xfast import _core", "pass"],
                         ids=["imported-before-fork", "imported-in-child"])
def test_child_forked_from_a_torch_process_uses_own_pool(import_before: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "XFAST_NO_OPENMP_TEAM"}
    code = FORKED_CHILD.format(import_before=import_before)
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
