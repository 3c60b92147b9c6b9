# SPDX-License-Identifier: Apache-2.0
"""Runs a worker script as two ranks on this machine: python WORKER RANK PORT ARGS..."""

from __future__ import annotations

import os
import socket
import subprocess
import sys


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_two_ranks(worker: str, *args: str) -> None:
    """Starts ranks 0 and 1 of `worker` (in this directory) and waits for both; fails with
    their output unless both exit 0."""
    path = os.path.join(os.path.dirname(__file__), worker)
    port = str(_free_port())
    env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    procs = [
        subprocess.Popen([sys.executable, path, str(r), port, *args], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for r in range(2)
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
