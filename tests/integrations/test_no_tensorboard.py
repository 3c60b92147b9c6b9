# SPDX-License-Identifier: Apache-2.0
"""The integrations need neither tensorboard nor tensorboardX, and `import xfast` imports no
framework: checked in a subprocess whose sys.meta_path refuses those imports."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

HERE = os.path.dirname(__file__)
# As if not installed: every finder on sys.meta_path finds neither the modules nor (for the
# frameworks' importlib.metadata checks) the distributions.
BLOCK = """
import sys
BLOCKED = ("tensorboard", "tensorboardX", "tensorboard-data-server")
class Hide:
    def __init__(self, finder):
        self.finder = finder
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            return None
        return self.finder.find_spec(name, path, target)
    def find_distributions(self, context=None):
        if context is not None and (context.name or "").replace("_", "-") in BLOCKED:
            return iter(())
        find = getattr(self.finder, "find_distributions", None)
        return iter(()) if find is None else (
            d for d in find(context) if d.metadata["Name"] not in BLOCKED)
sys.meta_path[:] = [Hide(f) for f in sys.meta_path if hasattr(f, "find_spec")]
import importlib.util
assert importlib.util.find_spec("tensorboard") is None
"""
SCRIPT = BLOCK + """
import xfast
frameworks = ("lightning", "pytorch_lightning", "transformers", "accelerate")
assert not [m for m in sys.modules if m.split(".")[0] in frameworks], "import xfast"
logdir = sys.argv[1]
from xfast.integrations import lightning, pytorch_lightning, transformers, accelerate
from lightning_run import fit
fit("lightning.pytorch", lightning.TensorBoardLogger(logdir + "/l"),
    [lightning.HistogramCallback()])
fit("pytorch_lightning", pytorch_lightning.TensorBoardLogger(logdir + "/p"), [])
import transformers as hf
from transformers.integrations import TensorBoardCallback as Stock
try:
    Stock()
    raise AssertionError("the stock callback started without tensorboard")
except RuntimeError:
    pass
from hf_run import trainer
trainer(logdir + "/t_out", [transformers.TensorBoardCallback(histogram_steps=1)]).train()
import accelerate as acc
a = acc.Accelerator(cpu=True, log_with=[accelerate.TensorBoardTracker("run", logdir + "/a")])
a.init_trackers("run", config={"lr": 0.1})
a.log({"loss": 1.0}, step=0)
a.end_training()
assert not [m for m in sys.modules if m.split(".")[0] in ("tensorboard", "tensorboardX")]
print("OK")
"""


def test_integrations_run_without_tensorboard(tmp_path: Any) -> None:
    env = dict(os.environ, PYTHONWARNINGS="ignore", HF_HUB_OFFLINE="1",
               PYTHONPATH=os.pathsep.join([HERE, os.path.dirname(HERE)]))
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0 and proc.stdout.endswith("OK\n"), proc.stdout + proc.stderr
    for run in ("l/lightning_logs/version_0", "p/lightning_logs/version_0", "a/run", "t_out/runs"):
        assert any("tfevents" in f for _, _, fs in os.walk(tmp_path / run) for f in fs), run
