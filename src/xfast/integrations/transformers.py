# SPDX-License-Identifier: Apache-2.0
"""Hugging Face ``Trainer``: a TensorBoardCallback that writes through xfast, with optional
histograms of every parameter and gradient."""

from __future__ import annotations

import os
from typing import Any, Optional

from transformers import TrainerCallback
from transformers.integrations.integration_utils import default_logdir, rewrite_logs
from transformers.utils import logging

from xfast.distributed.sharded import is_dtensor
from xfast.writer import SummaryWriter

logger = logging.get_logger(__name__)


class TensorBoardCallback(TrainerCallback):  # type: ignore[misc]
    """A ``TrainerCallback`` that sends the logs to TensorBoard through an ``xfast.SummaryWriter``.

    Writes what ``transformers.integrations.TensorBoardCallback`` writes, with the same tags
    and steps: the ``args`` and ``model_config`` texts at the start of training, then every
    ``on_log`` value (numbers as scalars, strings as text) under ``train/``, ``eval/`` or
    ``test/`` at ``state.global_step``. Use it with ``report_to="none"`` (otherwise the Trainer
    adds the stock callback as well)::

        Trainer(..., args=TrainingArguments(..., report_to="none"),
                callbacks=[TensorBoardCallback(histogram_steps=100)])

    Args:
        tb_writer: The writer to use. One is made on the first event if not set, in
            ``$TENSORBOARD_LOGGING_DIR`` or ``<output_dir>/runs/<date>_<host>``.
        histogram_steps: (xfast) Every this many optimizer steps, log histograms of every
            parameter and its gradient (``SummaryWriter.add_histograms`` with ``grads=True``:
            tags ``parameters/<name>`` and ``gradients/<name>``), after gradient clipping and
            before the optimizer step, at the step the optimizer is completing
            (``state.global_step + 1``, the step its loss is logged at), on world rank 0 (on
            every rank for FSDP2's DTensor parameters, written by rank 0). None: no histograms.

    Differences from the stock callback:
        * Needs neither ``tensorboard`` nor ``tensorboardX``.
        * ``flush()`` on every ``on_log`` (as the stock callback does) is a barrier on xfast's
          writer thread: it never waits on the GPU and costs microseconds when little is queued.
    """

    def __init__(
        self, tb_writer: Optional[SummaryWriter] = None, histogram_steps: Optional[int] = None
    ) -> None:
        if histogram_steps is not None and (
            isinstance(histogram_steps, bool)
            or not isinstance(histogram_steps, int)
            or histogram_steps < 1
        ):
            raise ValueError(
                f"histogram_steps must be a positive int or None, got {histogram_steps!r}"
            )
        self.tb_writer = tb_writer
        self.histogram_steps = histogram_steps
        # Off world rank 0, under FSDP2 (DTensor parameters, whose histograms are collective):
        # a writer that only takes part (ranks="zero" under the process group writes nothing).
        self._shard_writer: Optional[SummaryWriter] = None
        self.logging_dir = os.getenv("TENSORBOARD_LOGGING_DIR", None)
        if self.logging_dir is not None:
            self.logging_dir = os.path.expanduser(self.logging_dir)

    def _init_summary_writer(self, args: Any) -> None:
        if self.logging_dir is None:
            self.logging_dir = os.path.join(args.output_dir, default_logdir())
        self.tb_writer = SummaryWriter(log_dir=self.logging_dir)

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Writes the training arguments and the model's config as text (world rank 0)."""
        if not state.is_world_process_zero:
            return
        if state.is_hyper_param_search and state.trial_name is not None:
            self.logging_dir = os.path.join(args.output_dir, default_logdir(), state.trial_name)
        if self.tb_writer is None:
            self._init_summary_writer(args)
        assert self.tb_writer is not None
        self.tb_writer.add_text("args", args.to_json_string())
        model = kwargs.get("model")
        if model is not None and getattr(model, "config", None) is not None:
            self.tb_writer.add_text("model_config", model.config.to_json_string())

    def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Logs the histograms of parameters and gradients every ``histogram_steps`` steps: on
        world rank 0, and on every rank when the parameters are DTensors (FSDP2)."""
        step = state.global_step + 1
        model = kwargs.get("model")
        if self.histogram_steps is None or model is None or step % self.histogram_steps:
            return
        if state.is_world_process_zero:
            if self.tb_writer is None:
                self._init_summary_writer(args)
            writer = self.tb_writer
        else:
            if self._shard_writer is None:
                if not any(is_dtensor(p) for _, p in model.named_parameters()):
                    return
                self._shard_writer = SummaryWriter(log_dir=args.output_dir)
            writer = self._shard_writer
        assert writer is not None
        writer.add_histograms(model.named_parameters(), step, grads=True)

    def on_log(
        self, args: Any, state: Any, control: Any, logs: Optional[dict[str, Any]] = None,
        **kwargs: Any,
    ) -> None:
        """Writes each logged number as a scalar and each string as text, then flushes."""
        if not state.is_world_process_zero:
            return
        if self.tb_writer is None:
            self._init_summary_writer(args)
        assert self.tb_writer is not None
        for k, v in rewrite_logs(logs or {}).items():
            if isinstance(v, (int, float)):
                self.tb_writer.add_scalar(k, v, state.global_step)
            elif isinstance(v, str):
                self.tb_writer.add_text(k, v, state.global_step)
            else:
                logger.warning(
                    "Trainer is attempting to log a value of %r of type %s for key %r as a "
                    "scalar; TensorBoard takes numbers and strings, so it was dropped.",
                    v, type(v), k,
                )
        self.tb_writer.flush()

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        """Closes the writer (an injected one too, as the stock callback does)."""
        for writer in (self.tb_writer, self._shard_writer):
            if writer is not None:
                writer.close()
        self.tb_writer = self._shard_writer = None
