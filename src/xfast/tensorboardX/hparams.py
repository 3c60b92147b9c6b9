# SPDX-License-Identifier: Apache-2.0
"""add_hparams's three summaries as tensorboardX builds them (torch's differ: see below)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xfast.encoding import proto
from xfast.encoding.convert import to_float
from xfast.encoding.summaries import plugin_metadata
from xfast.plugins.hparams import EXPERIMENT_TAG, SESSION_END_INFO_TAG, SESSION_START_INFO_TAG


def _summary(tag: str, **content: Any) -> Any:
    data = proto.HParamsPluginData(version=0, **content)
    metadata = plugin_metadata("hparams", data.SerializeToString())
    return proto.Summary(value=[proto.Summary.Value(tag=tag, metadata=metadata)])


def hparams(hparam_dict: Mapping[str, Any], metric_dict: Mapping[str, Any]) -> list[Any]:
    """The experiment, session start and session end summaries, in that order.

    tensorboardX's typing, unlike torch's: a bool is a bool (torch: the number 1.0 or 0.0), a
    callable is its ``__name__`` as a string, a value of any other type is declared with an
    unset type and no value (torch raises ValueError), None is left out; there are no discrete
    domains.
    """
    start = proto.SessionStartInfo()
    infos = []
    for name, value in hparam_dict.items():
        if value is None:
            continue
        if isinstance(value, str):
            start.hparams[name].string_value = value
            kind = "DATA_TYPE_STRING"
        elif isinstance(value, bool):
            start.hparams[name].bool_value = value
            kind = "DATA_TYPE_BOOL"
        elif isinstance(value, (int, float)):
            start.hparams[name].number_value = to_float(value)
            kind = "DATA_TYPE_FLOAT64"
        elif callable(value):
            start.hparams[name].string_value = getattr(value, "__name__", str(value))
            kind = "DATA_TYPE_STRING"
        else:
            kind = "DATA_TYPE_UNSET"
        infos.append(proto.HParamInfo(name=name, type=proto.HParamDataType.Value(kind)))
    experiment = proto.Experiment(
        hparam_infos=infos,
        metric_infos=[proto.MetricInfo(name=proto.MetricName(tag=k)) for k in metric_dict],
    )
    end = proto.SessionEndInfo(status=proto.HParamStatus.Value("STATUS_SUCCESS"))
    return [
        _summary(EXPERIMENT_TAG, experiment=experiment),
        _summary(SESSION_START_INFO_TAG, session_start_info=start),
        _summary(SESSION_END_INFO_TAG, session_end_info=end),
    ]
