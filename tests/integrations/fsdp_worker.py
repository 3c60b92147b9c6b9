# SPDX-License-Identifier: Apache-2.0
"""One rank of the FSDP2 histogram check (gloo on CPU): python fsdp_worker.py RANK PORT OUT.
The HF callback's and the Lightning callback's optimizer-step hooks run on every rank over
DTensor parameters; rank 0 also writes the reference, add_histogram of the gathered tensors."""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

rank, port, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2",
                  MASTER_ADDR="127.0.0.1", MASTER_PORT=port)

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from lightning.fabric.utilities.rank_zero import rank_zero_only  # noqa: E402
from torch.distributed.device_mesh import init_device_mesh  # noqa: E402
from torch.distributed.fsdp import fully_shard  # noqa: E402
from transformers import TrainerState  # noqa: E402

import xfast  # noqa: E402
from xfast.integrations import lightning, transformers  # noqa: E402

dist.init_process_group("gloo")
rank_zero_only.rank = rank  # what Lightning's strategy sets
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(16, 10), torch.nn.ReLU(), torch.nn.Linear(10, 3))
mesh = init_device_mesh("cpu", (2,))
for layer in (model[0], model[2], model):
    fully_shard(layer, mesh=mesh)
torch.manual_seed(1 + rank)
model(torch.randn(8, 16)).pow(2).sum().backward()

state = TrainerState(global_step=1, is_world_process_zero=rank == 0)
hf = transformers.TensorBoardCallback(
    tb_writer=xfast.SummaryWriter(f"{out}/hf") if rank == 0 else None, histogram_steps=2)
hf.on_pre_optimizer_step(SimpleNamespace(output_dir=f"{out}/hf_out"), state, None, model=model)
hf.on_train_end(None, state, None)

logger = lightning.TensorBoardLogger(out, name="pl", version=0)
trainer = SimpleNamespace(loggers=[logger], is_global_zero=rank == 0, global_step=2)
callback = lightning.HistogramCallback(every_n_steps=2)
callback.on_before_optimizer_step(trainer, model, None)
callback.teardown(trainer, model, "fit")
logger.finalize("success")

fulls = [(n, p.full_tensor(), p.grad.full_tensor()) for n, p in model.named_parameters()]
if rank == 0:
    with xfast.SummaryWriter(f"{out}/ref", ranks="all") as ref:
        for name, p, g in fulls:
            ref.add_histogram("parameters/" + name, p, 2)
            ref.add_histogram("gradients/" + name, g, 2)
dist.destroy_process_group()
# Leave without interpreter finalization. mesh and model keep the gloo group alive past
# destroy_process_group, so its worker threads still run here. One of them may drop its last
# reference to a finished all-gather a moment later, and that needs the GIL. If the main thread
# is already finalizing, the thread exits through a noexcept destructor, and std::terminate
# aborts this rank: 2 runs in 12 here, with the torch 2.13 gloo runloop in the backtrace (see
# pytorch/pytorch#179291). Every writer is closed above, so nothing is left to flush.
sys.stdout.flush()
os._exit(0)
