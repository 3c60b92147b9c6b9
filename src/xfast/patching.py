# SPDX-License-Identifier: Apache-2.0
"""xfast.patch() / xfast.unpatch(): make torch's and tensorboardX's writer names build xfast's.

One table, ``REPLACEMENTS``, says which (module, attribute) gets which xfast class. ``patch()``
sets each attribute in the modules already imported, in modules imported later (an import hook
patches them as their import finishes), and in every other imported module that holds the
original class under any name (``from torch.utils.tensorboard import SummaryWriter`` run by a
framework before the call). ``unpatch()`` puts every original back.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
import types
import warnings
from collections.abc import Sequence
from typing import Any, Optional

# (module, attribute) -> "module:attribute" of the xfast class that replaces it. Named as strings
# so that the xfast class is imported only when its entry is patched.
REPLACEMENTS: dict[tuple[str, str], str] = {
    ("torch.utils.tensorboard", "SummaryWriter"): "xfast.writer:SummaryWriter",
    ("torch.utils.tensorboard.writer", "SummaryWriter"): "xfast.writer:SummaryWriter",
    # tensorboardX's names get xfast.tensorboardX's classes: its signatures (logdir=,
    # write_to_disk=, comet_config=) and writes (add_scalars runs, tag cleaning) are not torch's.
    ("tensorboardX", "SummaryWriter"): "xfast.tensorboardX:SummaryWriter",
    ("tensorboardX.writer", "SummaryWriter"): "xfast.tensorboardX:SummaryWriter",
    ("tensorboardX", "FileWriter"): "xfast.tensorboardX:FileWriter",
    ("tensorboardX.writer", "FileWriter"): "xfast.tensorboardX:FileWriter",
    ("tensorboardX", "GlobalSummaryWriter"): "xfast.tensorboardX:GlobalSummaryWriter",
    ("tensorboardX.global_writer", "GlobalSummaryWriter"): "xfast.tensorboardX:GlobalSummaryWriter",
}

_lock = threading.RLock()
# Every assignment patch() made, in order, as (namespace, name, original value): unpatch()
# undoes them last first.
_undo: list[tuple[dict[str, Any], str, Any]] = []
_hook: Optional[_PatchOnImport] = None
_warned = False


def _resolve(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _set(namespace: dict[str, Any], name: str, value: Any) -> None:
    _undo.append((namespace, name, namespace[name]))
    namespace[name] = value


def _patch_module(module: types.ModuleType) -> None:
    """Applies the table's entries for `module` (one that has just been imported)."""
    for (mod_name, attr), target in REPLACEMENTS.items():
        if mod_name != module.__name__ or attr not in vars(module):
            continue
        replacement = _resolve(target)
        if vars(module)[attr] is not replacement:
            _set(vars(module), attr, replacement)


def _patch_references(originals: dict[int, tuple[Any, Any]]) -> None:
    """Points every module-level name bound to an original class at its replacement."""
    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict) or module.__name__.startswith("xfast"):
            continue
        for name, value in list(namespace.items()):
            hit = originals.get(id(value))
            if hit is not None and hit[0] is value:
                _set(namespace, name, hit[1])


class _PatchingLoader(importlib.abc.Loader):
    """Runs the real loader, then patches the module it made."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> Optional[types.ModuleType]:
        result: Optional[types.ModuleType] = self._loader.create_module(spec)
        return result

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        with _lock:
            if _hook is not None:
                _patch_module(module)


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds the table's modules through the other finders and wraps their loaders."""

    def find_spec(
        self,
        fullname: str,
        path: Optional[Sequence[str]],
        target: Optional[types.ModuleType] = None,
    ) -> Optional[importlib.machinery.ModuleSpec]:
        if not any(fullname == mod for mod, _ in REPLACEMENTS):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: Optional[importlib.machinery.ModuleSpec] = finder.find_spec(
                fullname, path, target
            )
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


def patch() -> None:
    """Makes ``torch.utils.tensorboard.SummaryWriter`` and ``tensorboardX.SummaryWriter`` build
    xfast writers, for code that runs after the call.

    Call it once at the top of a script, before the framework builds its writer. It patches the
    modules already imported, those imported later (as their import finishes), and every
    module-level name another module bound to the original class before the call (e.g. a
    framework's ``from torch.utils.tensorboard import SummaryWriter``). What it cannot patch
    safely it reports in one RuntimeWarning: classes that subclass an original (they keep
    torch's or tensorboardX's writer as their base). Calling it again does nothing.
    """
    global _hook, _warned
    with _lock:
        if _hook is not None:
            return
        _hook = _PatchOnImport()
        sys.meta_path.insert(0, _hook)
        originals: dict[int, tuple[Any, Any]] = {}
        for (mod_name, attr), target in REPLACEMENTS.items():
            module = sys.modules.get(mod_name)
            if module is None or attr not in vars(module):
                continue
            original, replacement = vars(module)[attr], _resolve(target)
            if original is not replacement:
                originals[id(original)] = (original, replacement)
        _patch_references(originals)
        subclasses: list[str] = []
        for original, _ in originals.values():
            if isinstance(original, type):
                found: list[type] = original.__subclasses__()
                subclasses += (f"{c.__module__}.{c.__qualname__}" for c in found)
        subclasses.sort()
        if subclasses and not _warned:
            _warned = True
            warnings.warn(
                "xfast.patch(): these classes subclass torch's or tensorboardX's SummaryWriter "
                f"and keep it as their base (not patched): {', '.join(subclasses)}",
                RuntimeWarning,
                stacklevel=2,
            )


def unpatch() -> None:
    """Undoes ``patch()``: every name it set is bound to its original again, and modules
    imported from now on are left alone. Does nothing when not patched."""
    global _hook
    with _lock:
        if _hook is None:
            return
        sys.meta_path.remove(_hook)
        _hook = None
        while _undo:
            namespace, name, original = _undo.pop()
            namespace[name] = original


def is_patched() -> bool:
    """Whether ``patch()`` is in effect."""
    return _hook is not None
