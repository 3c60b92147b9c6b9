# SPDX-License-Identifier: Apache-2.0
"""Reading event files back: a native scan to numpy arrays, tbparse-style DataFrames on top.

``SummaryReader`` (summary_reader) over ``scan`` (the native ``_core.scan_event_files``, per-file
and per-tag numpy columns) and ``frames`` (pandas, imported on first use); ``follow`` yields the
new values of a growing logdir; ``cli`` is ``python -m xfast.read``.
"""

from xfast.reader.follow import follow
from xfast.reader.scan import HistogramArrays, ScalarArrays
from xfast.reader.summary_reader import SummaryReader, read_scalars

__all__ = ["HistogramArrays", "ScalarArrays", "SummaryReader", "follow", "read_scalars"]
