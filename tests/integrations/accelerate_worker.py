# SPDX-License-Identifier: Apache-2.0
"""One rank of the two-process Accelerate run (gloo on CPU): python accelerate_worker.py RANK
PORT LOGDIR. Every rank logs; only the main process may write."""

from __future__ import annotations

import os
import sys

rank, port, logdir = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2",
                  MASTER_ADDR="127.0.0.1", MASTER_PORT=port)

import torch  # noqa: E402
from accelerate import Accelerator  # noqa: E402

from xfast.integrations.accelerate import TensorBoardTracker  # noqa: E402

accelerator = Accelerator(cpu=True, log_with=[TensorBoardTracker("run", logdir)])
assert accelerator.num_processes == 2
accelerator.init_trackers("run", config={"lr": 0.1})
for step in range(3):
    loss = accelerator.reduce(torch.tensor(float(rank + step)), reduction="mean")
    accelerator.log({"loss": loss.item()}, step=step)
accelerator.end_training()
