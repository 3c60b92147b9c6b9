# SPDX-License-Identifier: Apache-2.0
"""Builds the C++ unit tests (tests/cpp) with warnings as errors and runs them through ctest.

The build tree build/cpp-pytest is kept between runs, so only the first run compiles everything.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "cpp-pytest"


def _tool(name: str) -> str | None:
    """`name` from PATH, else from this interpreter's environment (pip's cmake/ninja)."""
    return shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))


def _run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_cpp_unit_tests_pass_under_ctest() -> None:
    cmake = _tool("cmake")
    ctest = _tool("ctest")
    compiler = os.environ.get("CXX") or _tool("c++") or _tool("g++") or _tool("clang++")
    if cmake is None or ctest is None or compiler is None:
        pytest.skip("needs cmake, ctest and a C++ compiler")
    env = dict(os.environ)
    ninja = _tool("ninja")
    if ninja is not None and not (BUILD / "CMakeCache.txt").exists():
        env["CMAKE_GENERATOR"] = "Ninja"
        env["CMAKE_MAKE_PROGRAM"] = ninja
    configure = _run(
        [cmake, "-S", str(ROOT), "-B", str(BUILD), "-DCMAKE_BUILD_TYPE=Debug",
         "-DXFAST_BUILD_TESTS=ON", "-DXFAST_BUILD_PYTHON=OFF", "-DXFAST_WERROR=ON"],
        env,
    )
    assert configure.returncode == 0, configure.stdout + configure.stderr
    build = _run([cmake, "--build", str(BUILD), "-j", str(os.cpu_count() or 2)], env)
    assert build.returncode == 0, build.stdout + build.stderr
    tests = _run([ctest, "--test-dir", str(BUILD), "--output-on-failure"], env)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "100% tests passed" in tests.stdout


def test_isa_specific_objects_define_no_weak_code() -> None:
    # Files built with -mavx2/-mavx512f must not emit weak (inline or template) functions: the
    # linker keeps one copy of each for the whole module, and an AVX-512 copy handed to the
    # baseline path would crash CPUs without AVX-512. The Debug tree of the test above inlines
    # nothing, so any such function shows up here. (Weak data, like kPoly's "u", is harmless.)
    nm = _tool("nm")
    objects = sorted((BUILD / "CMakeFiles" / "xfast_core.dir" / "csrc").glob("histogram_avx*.o"))
    if nm is None or not objects:
        pytest.skip("needs nm and the x86-64 Debug build of the test above")
    for obj in objects:
        syms = _run([nm, "-C", str(obj)], dict(os.environ)).stdout.splitlines()
        weak_code = [s for s in syms if " W " in s]
        assert weak_code == [], f"{obj.name}: {weak_code}"
