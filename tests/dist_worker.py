# SPDX-License-Identifier: Apache-2.0
"""One rank of the multi-process checks in test_distributed.py (run as a script, gloo on CPU).

Usage: dist_worker.py SCENARIO RANK WORLD_SIZE STORE_FILE OUT_DIR
Each scenario writes runs under OUT_DIR; the test reads them back with TensorBoard's loader.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import torch
import torch.distributed as dist

import xfast
from xfast.distributed import histogram_stats, write_histogram_stats

warnings.simplefilter("ignore")  # NaN/inf warnings are expected here; the test checks the data


def full_tensor(seed: int, n: int) -> torch.Tensor:
    """The same tensor on every rank: values over many decades, NaN, +-inf, zeros, negatives."""
    g = torch.Generator().manual_seed(seed)
    decades = torch.randint(-8, 9, (n,), generator=g).float()
    t = torch.randn(n, generator=g) * torch.pow(10.0, decades)
    t[::17] = 0.0
    t[3] = float("nan")
    t[5] = float("inf")
    t[7] = -float("inf")
    return t


def scenario_basic(rank: int, world: int, out: str) -> None:
    # Default: only rank 0 writes. Ranks log different numbers of local events between the
    # collective ones, which must not deadlock.
    w = xfast.SummaryWriter(f"{out}/default")
    for step in range(4):
        for i in range(1 + 5 * rank):
            w.add_scalar("local", float(rank), step * 10 + i)
        if rank == 1:
            w.add_text("only_rank1", "text", step)
            w.add_histogram("local_hist", torch.randn(100), step)
            # Methods that create runs or files of their own create nothing here either.
            w.add_hparams({"lr": 0.1}, {"hp/metric": 1.0})
            w.add_embedding(torch.randn(5, 3), global_step=step)
        w.add_scalar("loss", torch.tensor(rank + step * 0.5), step, reduce="mean")
        w.add_scalar("max", float(rank * 3 - step), step, reduce="max")
        w.add_scalar("min", np.float32(rank * 3 - step), step, reduce="min")
        values = {"sum/a": rank + 1, "sum/b": torch.tensor([2.5 * rank])}
        w.add_scalar_dict(values, step, reduce="sum")
    # Sharded plain tensors: rank k holds a contiguous, uneven slice of one tensor.
    t = full_tensor(0, 1001)
    bounds = [0, 600, 1001]
    mine = slice(bounds[rank], bounds[rank + 1])
    w.add_histogram("sharded/f32", t[mine], 1, sharded=True)
    w.add_histogram("sharded/bf16", t.bfloat16()[mine], 1, sharded=True)
    w.add_histogram("sharded/maxbins", t[mine], 1, sharded=True, max_bins=30)
    w.add_histogram("sharded/empty_on_1", t if rank == 0 else t[:0], 1, sharded=True)
    try:
        w.add_histogram("sharded/all_empty", t[:0], 1, sharded=True)
    except ValueError:
        w.add_scalar("raised_on_empty", 1.0, 0)
    w.close()
    ref = xfast.SummaryWriter(f"{out}/ref")
    ref.add_histogram("sharded/f32", t, 1)
    ref.add_histogram("sharded/bf16", t.bfloat16(), 1)
    ref.add_histogram("sharded/maxbins", t, 1, max_bins=30)
    ref.add_histogram("sharded/empty_on_1", t, 1)
    ref.close()

    every = xfast.SummaryWriter(f"{out}/all", ranks="all")
    every.add_scalar("who", float(rank), 0)
    every.add_scalar("mean", float(rank), 0, reduce="mean")
    every.close()
    one = xfast.SummaryWriter(f"{out}/one", ranks=[1])
    one.add_scalar("who", float(rank), 0)
    one.close()


def scenario_fsdp(rank: int, world: int, out: str) -> None:
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(16, 10), torch.nn.ReLU(), torch.nn.Linear(10, 3))
    mesh = init_device_mesh("cpu", (world,))
    for layer in (model[0], model[2], model):
        fully_shard(layer, mesh=mesh)
    torch.manual_seed(1 + rank)  # each rank its own batch: gradients are averaged over ranks
    model(torch.randn(8, 16)).pow(2).sum().backward()
    with torch.no_grad():  # after backward, so that the gradients stay finite
        local = model[0].weight.to_local()
        if local.shape[0]:
            local[0, :3] = torch.tensor([float("nan"), float("inf"), 1e15])

    w = xfast.SummaryWriter(f"{out}/fsdp")
    ref = xfast.SummaryWriter(f"{out}/fsdp_ref")
    named = list(model.named_parameters())
    for name, p in named:
        w.add_histogram(name, p, 3)  # a DTensor: sharded by default
        w.add_histogram(name + "/grad", p.grad, 3)
        # The reference gathers the whole tensor (test only) and histograms it in one process.
        full, full_grad = p.full_tensor(), p.grad.full_tensor()
        ref.add_histogram(name, full, 3)
        ref.add_histogram(name + "/grad", full_grad, 3)
        ref.add_histogram("batched/" + name, full, 3)
    # The model-wide form: every parameter's statistics in one pair of collectives.
    for (name, _), stats in zip(named, histogram_stats([p for _, p in named])):
        write_histogram_stats(w, "batched/" + name, stats, 3)
    # The model-wide call on DTensor parameters and grads, against the gathered tensors.
    w.add_histograms(model.named_parameters(), 3, grads=True, stats=("norm", "mean", "nonfinite"))
    fulls = [(n, p.full_tensor()) for n, p in named]
    full_grads = [(n, p.grad.full_tensor()) for n, p in named]
    ref.add_histograms(fulls, 3, stats=("norm", "mean", "nonfinite"))
    ref.add_histograms(
        full_grads, 3, stats=("norm", "mean", "nonfinite"), param_prefix="gradients/"
    )
    w.add_scalar("rank_mean", torch.tensor(float(rank)), 0, reduce="mean")
    w.close()
    ref.close()

    some = xfast.SummaryWriter(f"{out}/r03", ranks=[0, 3])
    some.add_scalar_dict({"who": rank, "sum": rank}, 0)
    some.add_scalar("sum", rank, 1, reduce="sum")
    some.close()

    # HSDP: replicated over the first mesh dimension, sharded over the second. Counts must be
    # summed over the shard group only.
    if world == 4:
        mesh2 = init_device_mesh("cpu", (2, 2), mesh_dim_names=("replicate", "shard"))
        torch.manual_seed(0)
        hsdp = torch.nn.Linear(16, 7)
        fully_shard(hsdp, mesh=mesh2)
        hw = xfast.SummaryWriter(f"{out}/hsdp")
        hw.add_histogram("weight", hsdp.weight, 0)
        hw.close()
        ref2 = xfast.SummaryWriter(f"{out}/hsdp_ref")
        ref2.add_histogram("weight", hsdp.weight.full_tensor(), 0)
        ref2.close()


def scenario_cuda(rank: int, world: int, out: str) -> None:
    # nccl (one rank per GPU): reduced CUDA scalars must not sync the host on the caller path.
    dev = torch.device("cuda", rank)
    torch.cuda.set_device(dev)
    w = xfast.SummaryWriter(f"{out}/cuda")
    w.add_scalar("warmup", torch.ones((), device=dev), 0, reduce="sum")  # communicator setup
    w.flush()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for step in range(3):
            loss = (torch.arange(4.0, device=dev) * step).sum()  # 6 * step
            w.add_scalar("loss", loss, step, reduce="mean")
            w.add_scalar_dict({"a": loss, "b": 1.5, "c": torch.tensor(2.0)}, step, reduce="max")
    finally:
        torch.cuda.set_sync_debug_mode("default")
    w.close()


SCENARIOS = {"basic": scenario_basic, "fsdp": scenario_fsdp, "cuda": scenario_cuda}


def main() -> None:
    scenario, rank, world, store, out = sys.argv[1:6]
    dist.init_process_group(
        "nccl" if scenario == "cuda" else "gloo",
        init_method=f"file://{store}", rank=int(rank), world_size=int(world),
    )
    try:
        SCENARIOS[scenario](int(rank), int(world), out)
        dist.barrier()
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
