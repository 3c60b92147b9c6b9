# SPDX-License-Identifier: Apache-2.0
"""Training frameworks' TensorBoard logging through xfast, one module per framework, each an
optional extra imported only by its own module: ``lightning`` (``lightning.pytorch``, or
``pytorch_lightning``), ``pytorch_lightning``, ``transformers``, ``accelerate``."""
