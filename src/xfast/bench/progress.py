# SPDX-License-Identifier: Apache-2.0
"""Progress of a benchmark run on stderr, when stderr is a terminal: the stage, how far it is,
and an estimate of the time it has left, rewritten in place. Scenarios call stage() and step();
both do nothing unless __main__ turned the display on."""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO


class Progress:
    """One status line, rewritten for each step of each stage."""

    def __init__(self, out: TextIO, stages: list[str]) -> None:
        self._out = out
        self._stages = stages
        self._name = ""
        self._total = 0
        self._done = 0
        self._started = 0.0
        self._run_started = time.monotonic()

    def stage(self, name: str, total: int) -> None:
        """Starts stage `name`, made of `total` steps."""
        self._name, self._total, self._done = name, max(total, 1), 0
        self._started = time.monotonic()
        self._show("starting")

    def step(self, what: str) -> None:
        """Starts the next step of the current stage, described by `what`."""
        self._show(what)
        self._done += 1

    def _show(self, what: str) -> None:
        now = time.monotonic()
        where = f"[{self._stages.index(self._name) + 1}/{len(self._stages)}]" if (
            self._name in self._stages) else ""
        left = ""
        if self._done:
            rate = (now - self._started) / self._done
            left = f", ~{rate * (self._total - self._done):.0f} s left in {self._name}"
        line = (
            f"{where} {self._name}: {self._done}/{self._total} {what}"
            f" ({now - self._run_started:.0f} s so far{left})"
        )
        self._out.write("\r\x1b[2K" + line[:200])
        self._out.flush()

    def finish(self) -> None:
        """Clears the status line."""
        self._out.write("\r\x1b[2K")
        self._out.flush()


_current: Optional[Progress] = None


def start(stages: list[str], out: TextIO = sys.stderr) -> Optional[Progress]:
    """Turns the display on when `out` is a terminal; returns it (None when it stays off)."""
    global _current
    _current = Progress(out, stages) if out.isatty() else None
    return _current


def stop() -> None:
    """Clears the line and turns the display off."""
    global _current
    if _current is not None:
        _current.finish()
    _current = None


def stage(name: str, total: int) -> None:
    """Starts a stage of `total` steps (no-op when the display is off)."""
    if _current is not None:
        _current.stage(name, total)


def step(what: str) -> None:
    """Starts the next step of the current stage (no-op when the display is off)."""
    if _current is not None:
        _current.step(what)
