# SPDX-License-Identifier: Apache-2.0
"""xfast's benchmark against torch.utils.tensorboard and tensorboardX (python -m xfast.bench).

Each scenario module (scalar, histogram, train) measures all libraries in the same process and
returns report rows; report.py prints them as one table. See benchmarks/README.md. The top
layer: it imports xfast's public API (and _core, file_writer for build facts and defaults),
torch.utils.tensorboard and tensorboardX; nothing in xfast imports it.
"""
