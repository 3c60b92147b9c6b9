# SPDX-License-Identifier: Apache-2.0
"""tensorboardX's ``comet_config``: the same values also sent to a Comet experiment."""

from __future__ import annotations

import functools
import importlib
import inspect
import warnings
from collections.abc import Mapping
from typing import Any, Callable, Optional

# The writer methods whose data is sent on, and how (tensorboardX's CometLogger sends these).
_FORWARDED = (
    "add_scalar", "add_scalars", "add_hparams", "add_text", "add_histogram",
    "add_onnx_graph", "add_openvino_graph",
)


def bridge_for(comet_config: Optional[Mapping[str, Any]]) -> Optional[CometBridge]:
    """The Comet bridge `comet_config` asks for: any mapping whose "disabled" is not True turns
    Comet on; None or ``{"disabled": True}`` (tensorboardX's default) leaves it off.

    Raises:
        TypeError: `comet_config` is neither None nor a mapping.
        ImportError: Comet is on and ``comet_ml`` is not installed.
    """
    if comet_config is None:
        return None
    if not isinstance(comet_config, Mapping):
        raise TypeError(f"comet_config must be a dict, got {type(comet_config).__name__}")
    if comet_config.get("disabled") is True:
        return None
    return CometBridge(comet_config)


class CometBridge:
    """One Comet experiment, created (as tensorboardX does) at the first value sent.

    Args:
        comet_config: Keyword arguments of ``comet_ml.Experiment`` (workspace, project_name,
            api_key, ...); without "api_key", ``comet_ml.init()`` is called first.

    Raises:
        ImportError: ``comet_ml`` is not installed.
    """

    def __init__(self, comet_config: Mapping[str, Any]) -> None:
        try:
            self._comet: Any = importlib.import_module("comet_ml")
        except ImportError as e:
            raise ImportError(
                "SummaryWriter(comet_config=...) enables Comet logging, which needs the "
                "comet_ml package: pip install comet-ml (or pass comet_config={'disabled': True})"
            ) from e
        self._config = dict(comet_config)
        self._experiment: Any = None

    def experiment(self) -> Any:
        """The Comet experiment, made on first use."""
        if self._experiment is None:
            comet = self._comet
            if "api_key" not in self._config:
                comet.init()
            if comet.get_global_experiment() is not None:
                warnings.warn(
                    "xfast.tensorboardX: a Comet experiment already exists; this writer "
                    "creates another one, which may clash with it",
                    RuntimeWarning,
                    stacklevel=4,
                )
            self._experiment = comet.Experiment(**self._config)
            self._experiment.log_other("Created from", "tensorboardX")
        return self._experiment

    def end(self) -> None:
        """Ends the experiment, if one was made."""
        if self._experiment is not None:
            self._experiment.end()
            self._experiment = None
            self._comet.config.experiment = None

    def send(self, method: str, bound: dict[str, Any]) -> None:
        """Sends what the writer's `method` was called with (arguments by name, the scalar's
        cleaned tag as "clean_tag") to the experiment."""
        exp = self.experiment()
        step = bound.get("global_step")
        if method == "add_scalar":
            name = bound.get("display_name") or bound["clean_tag"]
            exp.log_metric(name, bound["scalar_value"], step)
        elif method == "add_scalars":
            exp.log_metrics(bound["tag_scalar_dict"], prefix=bound["main_tag"], step=step)
        elif method == "add_hparams":
            exp.log_parameters(bound["hparam_dict"], step=step)
        elif method == "add_text":
            exp.log_text(bound["text_string"], step=step)
        elif method == "add_histogram":
            exp.log_histogram_3d(bound["values"], name=bound["tag"], step=step)
        else:  # the graph files
            exp.log_asset(next(iter(bound.values())))


def attach(writer: Any, bridge: CometBridge, clean: Callable[[str], str]) -> None:
    """Makes `writer`'s forwarded methods (this instance only) also send to `bridge`, and its
    ``close`` end the experiment; the class's methods, and so writers without Comet, are
    untouched. `clean` is the writer's tag cleaner (Comet gets the cleaned scalar tag)."""
    for name in _FORWARDED:
        sig = inspect.signature(getattr(writer, name))
        setattr(writer, name, _forwarding(getattr(writer, name), name, sig, bridge, clean))
    close = writer.close

    def close_and_end() -> None:
        close()
        bridge.end()

    writer.close = close_and_end


def _forwarding(
    method: Callable[..., Any],
    name: str,
    sig: inspect.Signature,
    bridge: CometBridge,
    clean: Callable[[str], str],
) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        out = method(*args, **kwargs)
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        if name == "add_scalar":
            arguments["clean_tag"] = clean(arguments["tag"])
        bridge.send(name, arguments)
        return out

    return call
