# SPDX-License-Identifier: Apache-2.0
"""tensorboardX's tag cleaning, computed once per distinct tag."""

from __future__ import annotations

import re
import warnings

# tensorboardX (summary._clean_tag) replaces what a TensorFlow node name may not hold.
_INVALID = re.compile(r"[^-/\w.]")


class TagCleaner:
    """Maps a tag to tensorboardX's cleaned form: characters outside ``[-/\\w.]`` become ``_``
    and leading ``/`` are dropped.

    Each distinct tag is cleaned (and, when it changes, warned about) once; later calls are one
    dict lookup, so the hot ``add_scalar`` path pays no regex.
    """

    def __init__(self) -> None:
        self._seen: dict[str, str] = {}

    def __call__(self, tag: str) -> str:
        try:
            return self._seen[tag]
        except KeyError:
            return self._first_sight(tag)

    def _first_sight(self, tag: str) -> str:
        if not isinstance(tag, str):
            raise TypeError(f"tag must be a str, got {type(tag).__name__}")
        clean = _INVALID.sub("_", tag).lstrip("/")
        if clean != tag:
            # tensorboardX logs this at INFO on every call; once per tag, as a warning, is
            # enough to be seen without flooding a training loop.
            warnings.warn(
                f"xfast.tensorboardX: summary name {tag!r} is illegal; using {clean!r} instead "
                "(warned once per tag)",
                UserWarning,
                stacklevel=4,
            )
        self._seen[tag] = clean
        return clean
