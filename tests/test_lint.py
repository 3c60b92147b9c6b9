# SPDX-License-Identifier: Apache-2.0
"""Lint as tests: mypy --strict on src/xfast, stubtest of xfast._core against its stubs, ruff."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def _run(tool: str, *args: str) -> None:
    """Runs `python -m <tool> args` in the repository root; fails with its output."""
    if importlib.util.find_spec(tool.split(".")[0]) is None:
        pytest.skip(f"{tool} is not installed (pip install '.[test]')")
    if not (SRC / "xfast").is_dir():
        pytest.skip("needs the source tree (src/xfast)")
    # MYPYPATH: check the stubs in src/, not those of an installed copy.
    env = dict(os.environ, MYPYPATH=str(SRC))
    proc = subprocess.run(
        [sys.executable, "-m", tool, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if proc.returncode != 0:
        pytest.fail(f"{tool} {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}", pytrace=False)


def test_mypy_strict() -> None:
    # Settings (strict, files, cache under build/) come from pyproject.toml's [tool.mypy].
    _run("mypy", "--config-file", "pyproject.toml")


def test_core_stubs_match_the_extension() -> None:
    _run(
        "mypy.stubtest",
        "--mypy-config-file", "pyproject.toml",
        "--allowlist", "tests/stubtest-allowlist.txt",
        "xfast._core",
    )


def test_ruff() -> None:
    _run("ruff", "check", "--output-format", "concise", "src", "tests")
