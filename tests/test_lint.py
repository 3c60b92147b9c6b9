# SPDX-License-Identifier: Apache-2.0
"""Lint as tests: mypy --strict on src/xfast, stubtest of xfast._core against its stubs, ruff, and
the import contracts (lint-imports)."""

from __future__ import annotations

import ast
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

from xfast import _core

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


def test_import_contracts() -> None:
    # pyproject.toml's [tool.importlinter]: the layers, no circle, no TensorBoard at run time.
    # PYTHONPATH: check src/xfast, not an installed copy.
    if importlib.util.find_spec("importlinter") is None:
        pytest.skip("import-linter is not installed (pip install '.[test]')")
    if not (SRC / "xfast").is_dir():
        pytest.skip("needs the source tree (src/xfast)")
    lint = Path(sys.executable).with_name("lint-imports")
    env = dict(os.environ, PYTHONPATH=str(SRC))
    proc = subprocess.run(
        [str(lint), "--no-logo", "--cache-dir", "build/import_linter_cache", "pyproject.toml"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _is_submodule(name: str) -> bool:
    root = SRC / "xfast"
    return (root / f"{name}.py").is_file() or (root / name / "__init__.py").is_file()


def test_only_core_is_taken_from_the_root_package() -> None:
    # grimp reads `from xfast import _core` as an import of the root package (the extension has
    # no Python source), so the contracts ignore imports of `xfast` itself; this keeps that
    # blind spot from hiding a circle: below the root, only _core comes from it.
    if not (SRC / "xfast").is_dir():
        pytest.skip("needs the source tree (src/xfast)")
    problems = []
    for path in sorted((SRC / "xfast").rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        if rel == "xfast/__init__.py" or rel.startswith("xfast/bench/"):
            continue  # the root itself; the benchmark sits above every layer
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "xfast" and node.level == 0:
                # A submodule (`from xfast import remote`) is an import of that module.
                problems += [f"{rel}:{node.lineno}: from xfast import {a.name}" for a in node.names
                             if a.name != "_core" and not _is_submodule(a.name)]
            elif isinstance(node, ast.Import):
                problems += [f"{rel}:{node.lineno}: import xfast" for a in node.names
                             if a.name == "xfast"]
    assert not problems, "\n".join(problems)


# A pybind11 docstring's first line: "name(p: type = default, ...) -> type".
_PYBIND_SIGNATURE = re.compile(r"^\w+\((.*)\) -> .*$")
_NO_DEFAULT = object()


def _split_top_level(text: str) -> list[str]:
    """Splits at the commas outside brackets."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _runtime_params(obj: Any) -> Optional[list[tuple[str, object]]]:
    """(name, default) of each parameter, from pybind11's docstring; None without one."""
    match = _PYBIND_SIGNATURE.match((obj.__doc__ or "").split("\n", 1)[0])
    if match is None:
        return None
    params = []
    for part in _split_top_level(match.group(1)):
        name = part.split(":", 1)[0].strip()
        default = part.rsplit(" = ", 1)[1] if " = " in part else None
        params.append((name, _NO_DEFAULT if default is None else ast.literal_eval(default)))
    return [p for p in params if p[0] != "self"]


def _stub_params(fn: ast.FunctionDef) -> list[tuple[str, object, bool]]:
    """(name, default, positional-only) of each parameter of a stub function, self left out."""
    args = fn.args
    positional = [(a, True) for a in args.posonlyargs] + [(a, False) for a in args.args]
    defaults: list[object] = [_NO_DEFAULT] * (len(positional) - len(args.defaults))
    defaults += [ast.literal_eval(d) for d in args.defaults]
    out = [(a.arg, d, posonly) for (a, posonly), d in zip(positional, defaults)]
    return [p for p in out if p[0] != "self"]


def _stub_functions() -> list[tuple[str, Any, ast.FunctionDef]]:
    """(qualified name, runtime object, stub) of every function and method in the stubs."""
    out = []
    for path, module in ((SRC / "xfast/_core/__init__.pyi", _core),
                         (SRC / "xfast/_core/testing.pyi", _core.testing)):
        for node in ast.parse(path.read_text()).body:
            owners = [(node.name, module, node.body)] if isinstance(node, ast.ClassDef) else []
            owners.append(("", module, [node]))
            for owner, parent, body in owners:
                scope = getattr(parent, owner) if owner else parent
                for fn in body:
                    if isinstance(fn, ast.FunctionDef) and not fn.decorator_list:
                        name = f"{module.__name__}.{owner + '.' if owner else ''}{fn.name}"
                        out.append((name, getattr(scope, fn.name), fn))
    return out


def test_core_stub_parameters_match_the_bindings() -> None:
    # stubtest checks names, not parameters: pybind11 functions have no __text_signature__.
    # pybind11 writes each one's signature into its docstring; compare the stubs with it.
    if not (SRC / "xfast/_core/__init__.pyi").is_file():
        pytest.skip("needs the source tree (src/xfast)")
    problems, checked = [], 0
    for name, obj, fn in _stub_functions():
        runtime = _runtime_params(obj)
        if runtime is None:  # add_scalar: a raw METH_FASTCALL method, documented by hand
            continue
        checked += 1
        stub = _stub_params(fn)
        if len(stub) != len(runtime):
            problems.append(f"{name}: stub has {len(stub)} parameters, bindings {len(runtime)}")
            continue
        for (s_name, s_default, posonly), (r_name, r_default) in zip(stub, runtime):
            unnamed = re.fullmatch(r"arg\d+", r_name) is not None  # no py::arg: positional only
            if posonly != unnamed or (not unnamed and s_name != r_name):
                problems.append(f"{name}: stub parameter {s_name!r}, bindings {r_name!r}")
            if s_default != r_default:
                problems.append(f"{name}({s_name}): stub default differs from the bindings'")
    assert checked > 30, "pybind11 docstrings no longer carry signatures"
    assert not problems, "\n".join(problems)
