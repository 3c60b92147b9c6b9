# SPDX-License-Identifier: Apache-2.0
"""tensorboardX's face of xfast: ``from xfast.tensorboardX import SummaryWriter``.

``SummaryWriter``, ``FileWriter`` and ``GlobalSummaryWriter`` with tensorboardX 2.6.5's
signatures, defaults and output, over xfast's engine (``xfast.SummaryWriter`` stays torch's).
The real tensorboardX package is never imported. Layers: ``global_writer`` over ``writer``
over ``file_writer``, ``comet``, ``openvino`` and ``tags``.
"""

from xfast.tensorboardX.file_writer import FileWriter
from xfast.tensorboardX.global_writer import GlobalSummaryWriter
from xfast.tensorboardX.writer import SummaryWriter

__all__ = ["FileWriter", "GlobalSummaryWriter", "SummaryWriter"]
