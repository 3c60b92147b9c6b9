# SPDX-License-Identifier: Apache-2.0
"""The thinnest path: add_scalar -> ring -> writer thread -> file -> TensorBoard's loader."""

from __future__ import annotations

import os

from conftest import event_files, load_run

import xfast


def test_scalar_reaches_tensorboard_loader(logdir: str) -> None:
    w = xfast.SummaryWriter(logdir)
    assert os.path.getsize(event_files(logdir)[0]) > 0  # first record on disk at construction
    for i in range(100):
        w.add_scalar("loss", 1.0 / (i + 1), i)
    w.flush()
    acc = load_run(logdir)
    got = [(e.step, e.value) for e in acc.Scalars("loss")]
    assert got == [(i, float.fromhex(float(__import__("numpy").float32(1.0 / (i + 1))).hex()))
                   for i in range(100)]
    w.close()
