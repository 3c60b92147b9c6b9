# SPDX-License-Identifier: Apache-2.0
"""xfast.patch(): unmodified stock-logging scripts of each framework write through xfast; what
patch() sets, where, and what unpatch() restores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from typing import Any

import pytest
from conftest import event_files, run_dirs
from readback import scalars

# A module-level name bound to torch's class before any patch(): patch() must rebind it.
from torch.utils.tensorboard import SummaryWriter as _bound_before  # noqa: F401

import xfast
import xfast.patching

HERE = os.path.dirname(__file__)
# Each stock script's main run, under its log directory.
SCRIPTS = {"lightning": "lightning_logs/version_0", "transformers": ".", "accelerate": "run",
           "torch_writer": ".", "tensorboardx_writer": "."}
# Runs the stock scripts after xfast.patch() (in one process: their imports take most of the
# time), recording every event file an xfast writer opens, per script.
RUNNER = """
import json, os, sys
import xfast, xfast.file_writer
xfast.patch()
import stock_scripts
made = {}
path_of = xfast.file_writer._event_file_path
def recording(*a, **k):
    made[script].append(os.path.abspath(path_of(*a, **k)))
    return made[script][-1]
xfast.file_writer._event_file_path = recording
for script in sys.argv[2:]:
    made[script] = []
    getattr(stock_scripts, script)(os.path.join(sys.argv[1], script))
print("XFAST_FILES=" + json.dumps(made))
"""


def test_stock_scripts_write_through_xfast(tmp_path: Any) -> None:
    env = dict(os.environ, PYTHONWARNINGS="ignore", HF_HUB_OFFLINE="1",
               PYTHONPATH=os.pathsep.join([HERE, os.path.dirname(HERE)]))
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(tmp_path), *SCRIPTS], env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    made = json.loads(proc.stdout.rsplit("XFAST_FILES=", 1)[1])
    for script, run in SCRIPTS.items():
        logdir = str(tmp_path / script)
        files = [os.path.abspath(f)
                 for r in run_dirs(logdir) for f in event_files(os.path.join(logdir, r))]
        assert files and sorted(files) == sorted(made[script]), script
        assert scalars(os.path.join(logdir, run)), script


def test_patch_sets_imported_modules_references_and_later_imports() -> None:
    import tensorboardX
    import torch.utils.tensorboard as tb
    from torch.utils.tensorboard import SummaryWriter as Earlier

    originals = (tb.SummaryWriter, tensorboardX.SummaryWriter)
    sys.modules.pop("tensorboardX.writer", None)
    try:
        xfast.patch()
        assert xfast.patching.is_patched()
        assert tb.SummaryWriter is xfast.SummaryWriter
        assert tensorboardX.SummaryWriter is xfast.tensorboardX.SummaryWriter
        assert tensorboardX.FileWriter is xfast.tensorboardX.FileWriter
        assert tensorboardX.GlobalSummaryWriter is xfast.tensorboardX.GlobalSummaryWriter
        # A name another module bound before the call (this test module's global).
        assert globals().get("_bound_before") is xfast.SummaryWriter
        assert Earlier is originals[0]  # a local: out of reach, by design
        import tensorboardX.writer  # imported again after the call: patched as it loads

        assert tensorboardX.writer.SummaryWriter is xfast.tensorboardX.SummaryWriter
        xfast.patch()  # a second call does nothing
    finally:
        xfast.unpatch()
    assert not xfast.patching.is_patched()
    assert (tb.SummaryWriter, tensorboardX.SummaryWriter) == originals
    assert globals()["_bound_before"] is originals[0]
    xfast.unpatch()  # when not patched: nothing


def test_patch_warns_once_about_subclasses() -> None:
    from torch.utils.tensorboard import SummaryWriter

    class Mine(SummaryWriter):  # type: ignore[misc]
        pass

    xfast.patching._warned = False
    try:
        with pytest.warns(RuntimeWarning, match="Mine"):
            xfast.patch()
        xfast.unpatch()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            xfast.patch()
    finally:
        xfast.unpatch()

