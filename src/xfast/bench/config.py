# SPDX-License-Identifier: Apache-2.0
"""Benchmark sizes: the full run (aims at < 10 min on 2 cores) and --quick (< 60 s)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Config:
    # add_scalar: calls per timed run, per library (torch/tensorboardX take ~100 us a call).
    scalar_calls: dict[str, int] = field(default_factory=dict)
    scalar_repeats: int = 5
    # Calls in the run whose every value is read back through TensorBoard's loader.
    scalar_check_calls: int = 2000
    # add_histogram: tensor sizes and, per size, repeats for (xfast and torch.sum, the others).
    hist_sizes: tuple[int, ...] = ()
    hist_repeats: dict[int, tuple[int, int]] = field(default_factory=dict)
    # Training loop: an MLP of `train_layers` Linear(width, width) layers, batch rows of data.
    train_width: int = 1024
    train_layers: int = 9
    train_batch: int = 64
    # Caller-time scenario: calls per method (xfast, the others).
    method_calls: tuple[int, int] = (20, 5)
    # Steps per block, and pairs of (bare, logged) blocks per library (xfast, the others).
    train_block_steps: int = 4
    train_blocks: tuple[int, int] = (10, 3)
    # HF Trainer row: optimizer steps per run (each variant, and the no-logging runs).
    hf_trainer_steps: int = 10

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hist_repeats"] = {str(k): v for k, v in self.hist_repeats.items()}
        return d


FULL = Config(
    scalar_calls={"xfast": 1_000_000, "torch": 20_000, "tensorboardX": 20_000},
    scalar_repeats=7,
    scalar_check_calls=5000,
    hist_sizes=(10**4, 10**5, 10**6, 10**7, 10**8),
    hist_repeats={10**4: (100, 30), 10**5: (50, 15), 10**6: (20, 7), 10**7: (7, 3), 10**8: (3, 2)},
    method_calls=(50, 10),
    train_width=1024,
    train_layers=9,
    train_batch=64,
    train_block_steps=4,
    train_blocks=(10, 3),  # xfast: 40 logged steps, so its median overhead holds to ~1 point
    hf_trainer_steps=40,
)

QUICK = Config(
    scalar_calls={"xfast": 100_000, "torch": 2_000, "tensorboardX": 2_000},
    scalar_repeats=3,
    scalar_check_calls=500,
    hist_sizes=(10**4, 10**5, 10**6),
    hist_repeats={10**4: (10, 5), 10**5: (5, 3), 10**6: (3, 2)},
    method_calls=(10, 3),
    train_width=256,
    train_layers=4,
    train_batch=32,
    train_block_steps=3,
    train_blocks=(4, 2),
    hf_trainer_steps=10,
)
