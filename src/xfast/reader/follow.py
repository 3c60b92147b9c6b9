# SPDX-License-Identifier: Apache-2.0
"""Following a live logdir: the values appended since the last look, file by file."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Optional

from xfast.reader import scan as _scan


def follow(
    path: str,
    *,
    interval: float = 1.0,
    idle_timeout: Optional[float] = None,
    tag_glob: Optional[str] = None,
    tag_regex: Optional[str] = None,
) -> Iterator[_scan.FileData]:
    """Yields a FileData with the new values of each event file under ``path`` as it grows.

    Every ``interval`` seconds the logdir is listed again (new runs and files are picked up) and
    each file that grew is scanned from where the last scan ended; an incomplete last record is
    read once it is whole. Only files that brought new values are yielded. Restarts are not
    purged here (a restarted run shows its steps going back). Runs until the caller stops
    iterating, or until nothing new arrived for ``idle_timeout`` seconds. The path may not
    exist yet. Raises ValueError for a non-positive interval or an invalid regex.
    """
    if interval <= 0:
        raise ValueError("interval must be positive")
    offsets: dict[str, int] = {}
    last_new = time.monotonic()
    while True:
        files = _scan.event_files(path) if os.path.exists(path) else []
        grown = [(run, p) for run, p in files if _size(p) > offsets.get(p, 0)]
        new = False
        if grown:
            found = _scan.scan(
                grown,
                tag_glob=tag_glob or "",
                tag_regex=tag_regex or "",
                purge_orphaned_data=False,
                start_offsets=[offsets.get(p, 0) for _r, p in grown],
            )
            for data in found:
                offsets[data.path] = data.end_offset
                if any(
                    len(t.scalars) or len(t.tensors) or len(t.histograms) or t.others
                    for t in data.tags.values()
                ):
                    new = True
                    yield data
        now = time.monotonic()
        if new:
            last_new = now
        elif idle_timeout is not None and now - last_new >= idle_timeout:
            return
        time.sleep(interval)


def _size(p: str) -> int:
    try:
        return os.path.getsize(p)
    except OSError:  # removed between the listing and now
        return 0
