# SPDX-License-Identifier: Apache-2.0
"""TensorBoard's HParams dashboard: torch's ``summary.hparams``, and what ``add_hparams`` writes
where."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Optional

import numpy as np

from xfast.encoding import proto as pb
from xfast.encoding.convert import is_tensor
from xfast.encoding.summaries import Summary, make_np, plugin_metadata, scalar

# Plugin name and tags the HParams plugin looks for (tensorboard/plugins/hparams/metadata.py).
_HPARAMS_PLUGIN = "hparams"
EXPERIMENT_TAG = "_hparams_/experiment"
SESSION_START_INFO_TAG = "_hparams_/session_start_info"
SESSION_END_INFO_TAG = "_hparams_/session_end_info"
# add_hparams(run_name=THIS_RUN) writes into the writer's own run (TensorBoard names a logdir's
# root run "." too).
THIS_RUN = "."


def hparams(
    hparam_dict: Optional[Mapping[str, Any]] = None,
    metric_dict: Optional[Mapping[str, Any]] = None,
    hparam_domain_discrete: Optional[Mapping[str, Sequence[Any]]] = None,
) -> tuple[Any, Any, Any]:
    """Outputs the three `Summary` protocol buffers the HParams plugin reads.

    ``Experiment`` names the hyperparameters and the metrics, ``SessionStartInfo`` holds the
    hyperparameter values, ``SessionEndInfo`` says STATUS_SUCCESS.

    Args:
        hparam_dict: Names of the hyperparameters and their values: int, float, str, bool, a
            one-element torch.Tensor, or None (skipped).
        metric_dict: Names of the metrics (their values are not used here).
        hparam_domain_discrete: Optional ``{name: [all values it can take]}``, each list of
            the same type as ``hparam_dict[name]``.

    Returns:
        The (experiment, session_start_info, session_end_info) `Summary` protobufs.

    Raises:
        TypeError: an argument is not a dict, or a discrete domain does not match its value.
        ValueError: a value has another type, or is an empty tensor.

    As in torch, a bool is checked as a number first, so it is stored as 1.0 or 0.0 with type
    DATA_TYPE_FLOAT64.

    Differences from torch:
        numpy numbers (``np.int64(3)``, ``np.float32(0.1)``, ``np.bool_``) are taken as numbers;
        torch raises ValueError for them.
    """
    if not isinstance(hparam_dict, dict):
        raise TypeError("parameter: hparam_dict should be a dictionary, nothing logged.")
    if not isinstance(metric_dict, dict):
        raise TypeError("parameter: metric_dict should be a dictionary, nothing logged.")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, nothing logged.")
    for k, v in domains.items():
        if (
            k not in hparam_dict
            or not isinstance(v, list)
            or not all(isinstance(d, type(hparam_dict[k])) for d in v)
        ):
            raise TypeError(
                f"parameter: hparam_domain_discrete[{k}] should be a list of same type as "
                f"hparam_dict[{k}]."
            )
    start = pb.SessionStartInfo()
    infos = []
    for k, v in hparam_dict.items():
        if v is None:
            continue
        # The order matters: torch tests (int, float) first, so bools land there.
        if isinstance(v, (int, float, np.integer, np.floating, np.bool_)):
            start.hparams[k].number_value = float(v)
            kind, field = "DATA_TYPE_FLOAT64", "number_value"
        elif isinstance(v, str):
            start.hparams[k].string_value = v
            kind, field = "DATA_TYPE_STRING", "string_value"
        elif is_tensor(v):
            values = make_np(v).reshape(-1)
            if values.size == 0:  # torch raises IndexError
                raise ValueError(f"hparam {k!r}: the tensor has no element")
            start.hparams[k].number_value = float(values[0])
            infos.append(
                pb.HParamInfo(name=k, type=pb.HParamDataType.Value("DATA_TYPE_FLOAT64"))
            )
            continue
        else:
            raise ValueError(
                f"hparam {k!r}: value should be one of int, float, str, bool, or torch.Tensor, "
                f"got {type(v).__name__}"
            )
        info = pb.HParamInfo(name=k, type=pb.HParamDataType.Value(kind))
        if k in domains:
            info.domain_discrete.values.extend(pb.Value(**{field: d}) for d in domains[k])
        infos.append(info)
    experiment = pb.Experiment(
        hparam_infos=infos,
        metric_infos=[pb.MetricInfo(name=pb.MetricName(tag=k)) for k in metric_dict],
    )
    end = pb.SessionEndInfo(status=pb.HParamStatus.Value("STATUS_SUCCESS"))
    return (
        _hparams_summary(
            EXPERIMENT_TAG, pb.HParamsPluginData(experiment=experiment, version=0)
        ),
        _hparams_summary(
            SESSION_START_INFO_TAG, pb.HParamsPluginData(session_start_info=start, version=0)
        ),
        _hparams_summary(
            SESSION_END_INFO_TAG, pb.HParamsPluginData(session_end_info=end, version=0)
        ),
    )


def _hparams_summary(tag: str, content: Any) -> Any:
    metadata = plugin_metadata(_HPARAMS_PLUGIN, content.SerializeToString())
    return Summary(value=[Summary.Value(tag=tag, metadata=metadata)])


def resolve_add_hparams(
    hparam_dict: Any,
    metric_dict: Any,
    hparam_domain_discrete: Any,
    run_name: Any,
    global_step: Any,
    name: Optional[str],
) -> tuple[list[Any], Optional[str], Any, bool]:
    """add_hparams' arguments resolved: (the summaries to write, the run's name, the step,
    whether they go into the writer's own run). A tensorboardX-style call,
    ``add_hparams(hparam_dict, metric_dict, name, global_step)``, is recognized by its third
    argument being a str.

    Raises:
        TypeError: `hparam_dict` or `metric_dict` is not a dict.
        ValueError: a hyperparameter has an unsupported type.
    """
    if type(hparam_dict) is not dict or type(metric_dict) is not dict:
        raise TypeError("hparam_dict and metric_dict should be dictionary.")
    if isinstance(hparam_domain_discrete, str) and not isinstance(run_name, str):
        # tensorboardX's 3rd and 4th positional parameters are the run's name and the step.
        if run_name is not None and global_step is None:
            global_step = run_name
        hparam_domain_discrete, run_name = None, hparam_domain_discrete
    run_name = run_name or name
    in_this_run = run_name in (THIS_RUN, "./")
    summaries = list(hparams(hparam_dict, metric_dict, hparam_domain_discrete))
    # A metric of None in the writer's own run is declared (a column filled from the run's
    # scalars of that tag) without writing a value.
    summaries += [
        scalar(k, v) for k, v in metric_dict.items() if not (in_this_run and v is None)
    ]
    return summaries, run_name, global_step, in_this_run
