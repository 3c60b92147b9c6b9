# SPDX-License-Identifier: Apache-2.0
"""A tiny Hugging Face Trainer: a 2-layer GPT-2 of width 32 built from a config (no downloads),
on random token ids, logging every step."""

from __future__ import annotations

import os
from typing import Any

import torch

os.environ["HF_HUB_OFFLINE"] = "1"

STEPS = 4


def trainer(out: str, callbacks: list[Any], steps: int = STEPS, **args_kw: Any) -> Any:
    """The Trainer (not yet trained) of `steps` steps, 2 sequences of 16 tokens each."""
    import transformers

    torch.manual_seed(0)
    config = transformers.GPT2Config(
        vocab_size=64, n_positions=16, n_embd=32, n_layer=2, n_head=2
    )
    model = transformers.GPT2LMHeadModel(config)
    ids = torch.randint(0, 64, (steps * 2, 16))
    data = [{"input_ids": x, "labels": x} for x in ids]
    kw = dict(
        output_dir=out, max_steps=steps, per_device_train_batch_size=2, logging_steps=1,
        report_to="none", save_strategy="no", use_cpu=True, seed=0, disable_tqdm=True,
        dataloader_num_workers=0,
    )
    kw.update(args_kw)
    args = transformers.TrainingArguments(**kw)
    return transformers.Trainer(model=model, args=args, train_dataset=data, callbacks=callbacks)
