# SPDX-License-Identifier: Apache-2.0
"""xfast's benchmark against torch.utils.tensorboard and tensorboardX (python -m xfast.bench).

Each scenario module (scalar, histogram, train) measures all libraries in the same process and
returns report rows; report.py prints them as one table. See benchmarks/README.md.
"""
