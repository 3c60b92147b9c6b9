# SPDX-License-Identifier: Apache-2.0
"""The machine and software versions a benchmark ran on, for the report's header."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Any


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def _torch_threads() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch.get_num_threads()


def environment() -> dict[str, Any]:
    """CPU model, core counts, OS, and the versions of Python, compilers and each library."""
    from xfast import _core

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "python_compiler": platform.python_compiler(),
        "xfast": _version("xfast"),
        "xfast_compiler": getattr(_core, "compiler", "unknown"),
        "xfast_threads": _core.get_num_threads(),
        "torch": _version("torch"),
        "torch_threads": _torch_threads(),
        "tensorboard": _version("tensorboard"),
        "tensorboardX": _version("tensorboardX"),
        "numpy": _version("numpy"),
    }


def load_average() -> str:
    """The 1-minute load average: above the core count, other processes shared the CPUs."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "unknown"


def describe(env: dict[str, Any]) -> list[str]:
    """The header lines of the printed report."""
    return [
        f"machine: {env['cpu']}, {env['cores']} cores ({env['usable_cores']} usable), {env['os']}",
        (
            f"load average (1 min): {env['load_before']} before, {env['load_after']} after; "
            f"this process used {env['cpu_fraction']:.0%} of the wall time in CPU"
        ),
        (
            f"python {env['python']} ({env['python_compiler']}), torch {env['torch']} "
            f"({env['torch_threads']} threads), tensorboard {env['tensorboard']}, "
            f"tensorboardX {env['tensorboardX']}, numpy {env['numpy']}"
        ),
        (
            f"xfast {env['xfast']} built with {env['xfast_compiler']}, "
            f"{env['xfast_threads']} histogram threads"
        ),
    ]
