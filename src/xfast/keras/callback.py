# SPDX-License-Identifier: Apache-2.0
"""keras.callbacks.TensorBoard for Keras 3 without TensorFlow: the same files, tags and steps,
written by xfast's SummaryWriter."""

from __future__ import annotations

import os
import threading
import time
import warnings
from typing import Any, Optional, Union

import keras
import numpy as np
import torch

from xfast.keras.embeddings import EmbeddingLog, MetadataSpec, metadata_paths
from xfast.keras.summaries import image_summary, keras_model_summary, weight_image_batch
from xfast.writer import SummaryWriter

_GRAPH_MODEL_CLASSES = ("Functional", "Sequential")


def _check_profile_batch(profile_batch: Any) -> None:
    """Keras's checks of profile_batch, then a refusal of any profiling: xfast has none."""
    if profile_batch:
        raise ValueError(
            f"Profiling is not available with the {keras.backend.backend()} backend in "
            f"xfast.keras.TensorBoard. Received: profile_batch={profile_batch!r} (must be 0)"
        )
    if not isinstance(profile_batch, int):
        raise ValueError(
            "profile_batch must be a non-negative integer or a 2-tuple of positive integers; "
            f"found {profile_batch!r}"
        )


def _batch_every(update_freq: Union[str, int]) -> Optional[int]:
    """Every how many global train batches the batch_* scalars are written (None: never)."""
    if update_freq == "epoch":
        return None
    if update_freq == "batch":
        return 1
    if isinstance(update_freq, bool) or not isinstance(update_freq, int) or update_freq < 1:
        raise ValueError(
            f"update_freq must be 'epoch', 'batch' or a positive integer, got {update_freq!r}"
        )
    return update_freq


def _as_tensor(weight: Any) -> torch.Tensor:
    """A Keras variable's value as a torch tensor (the variable's own storage on the torch
    backend: a device tensor is histogrammed on its device, without a copy or a sync)."""
    value = getattr(weight, "value", weight)
    if isinstance(value, torch.Tensor):
        return value.detach()
    return torch.from_numpy(np.asarray(keras.ops.convert_to_numpy(weight)))


class TensorBoard(keras.callbacks.Callback):  # type: ignore[misc]
    """Enable visualizations for TensorBoard: Keras 3's ``keras.callbacks.TensorBoard`` on any
    backend, written by xfast (no TensorFlow needed).

    Writes the same runs, tags and steps as Keras: under ``log_dir/train``, ``epoch_<metric>``,
    ``epoch_learning_rate`` (``epoch_learning_rate_<name>`` per optimizer of a multi-optimizer)
    and, with ``write_steps_per_second``, ``epoch_steps_per_second`` at the 0-based epoch;
    ``batch_<metric>`` (and ``batch_steps_per_second``) at the 1-based train batch, counted
    from each ``fit()``'s start, when ``update_freq`` is not "epoch"; weight histograms
    ``<weight.path>/histogram`` (and images ``<weight.path>/image``) every ``histogram_freq``
    epochs; the model's JSON under ``keras`` (Graphs dashboard) at step 0. Under
    ``log_dir/validation``, only once something goes there: ``epoch_<metric>`` from the
    ``val_*`` logs, and ``evaluation_<metric>_vs_iterations`` at ``optimizer.iterations`` at the
    end of every evaluation (``fit``'s validation and ``evaluate``). Scalars are float32
    tensors, as Keras writes them.

    Args:
        log_dir: The directory of the event files (the ``train`` and ``validation`` runs).
        histogram_freq: Every how many epochs (from epoch 0) the weight histograms are
            written; 0 for never.
        write_graph: Write the model's JSON (Sequential and Functional models) for the Graphs
            dashboard.
        write_images: With ``histogram_freq``, also write each weight as images.
        write_steps_per_second: Also write the training steps per second (per epoch, and per
            batch with ``update_freq``).
        update_freq: "epoch", "batch" or N: write ``batch_*`` scalars every N train batches.
        profile_batch: Must be 0: profiling is not supported (a ValueError, as Keras raises on
            the torch backend).
        embeddings_freq: Every how many epochs the Embedding layers' weights are written for
            the Projector; 0 for never.
        embeddings_metadata: The metadata file (relative to ``log_dir``) of every Embedding
            layer (a str), or of each by layer name (a dict).

    Raises:
        ValueError: ``profile_batch`` is not 0, or ``update_freq`` is not "epoch", "batch" or a
            positive integer; at ``fit()``, ``embeddings_metadata`` names a layer that is not
            an Embedding layer of the model.

    Differences from Keras:
        * ``update_freq=N`` gates only the ``batch_*`` writes (Keras also drops the epoch,
          histogram and evaluation writes unless the last batch number divides by N).
        * ``embeddings_freq`` writes ``<log_dir>/<epoch:05d>/<layer>/tensors.tsv`` and lists
          each (layer, epoch) in ``projector_config.pbtxt`` (tensor ``<layer>:<epoch:05d>``), so
          the Projector shows them; Keras 3 saves a ``.weights.h5`` it cannot read.
          ``embeddings_metadata`` is not emptied as Keras empties it.
        * Weight histograms use the bins of torch's ``add_histogram`` (Keras: 30 equal
          buckets), all of a model's weights in one native ``add_histograms`` call.
        * ``async_safe``: Keras keeps dispatching batch callbacks on its thread pool, and with
          ``update_freq="epoch"`` the batch hooks do nothing.
        * ``close()`` closes the event files (Keras closes them only at the end of ``fit``);
          ``evaluate()`` outside ``fit`` flushes them when it ends. A later ``fit``/``evaluate``
          opens new files, as Keras does. The op graph of a tf.function is never written.
    """

    async_safe = True

    def __init__(
        self,
        log_dir: Union[str, os.PathLike[str]] = "logs",
        histogram_freq: int = 0,
        write_graph: bool = True,
        write_images: bool = False,
        write_steps_per_second: bool = False,
        update_freq: Union[str, int] = "epoch",
        profile_batch: Any = 0,
        embeddings_freq: int = 0,
        embeddings_metadata: MetadataSpec = None,
    ) -> None:
        super().__init__()
        _check_profile_batch(profile_batch)
        self.log_dir = str(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq = embeddings_freq
        self.embeddings_metadata = embeddings_metadata
        self._batch_every = _batch_every(update_freq)
        self._writers: dict[str, SummaryWriter] = {}
        self._global_train_batch = 0
        # begin batch index -> (global step, start time) of train batches not yet ended:
        # on_train_batch_end may run on Keras's thread pool after later batches began.
        self._open_batches: dict[int, tuple[int, float]] = {}
        self._batch_lock = threading.Lock()
        self._writers_lock = threading.Lock()  # two batch ends on the pool: one train writer
        self._in_fit = False
        self._epoch_iterations = 0
        self._epoch_start = 0.0
        self._embeddings: Optional[EmbeddingLog] = None

    def set_model(self, model: Any) -> None:
        """Sets the Keras model; writes its JSON when ``write_graph`` (at each fit/evaluate,
        as Keras does)."""
        super().set_model(model)
        self._close_writers()
        self._train_dir = os.path.join(self.log_dir, "train")
        self._val_dir = os.path.join(self.log_dir, "validation")
        if self.write_graph and model.__class__.__name__ in _GRAPH_MODEL_CLASSES:
            self._write_model_json(model)
        if self.embeddings_freq:
            names = [layer.name for layer in self._embedding_layers()]
            self._embeddings = EmbeddingLog(
                self.log_dir, metadata_paths(names, self.embeddings_metadata)
            )

    def _embedding_layers(self) -> list[Any]:
        return [layer for layer in self.model.layers if isinstance(layer, keras.layers.Embedding)]

    def _writer(self, run: str) -> SummaryWriter:
        """The run's writer ("train" or "validation"), made on first use: a run's directory
        appears only once something is written to it."""
        writer = self._writers.get(run)
        if writer is None:
            with self._writers_lock:
                writer = self._writers.get(run)
                if writer is None:
                    path = self._train_dir if run == "train" else self._val_dir
                    writer = self._writers[run] = SummaryWriter(path)
        return writer

    def _close_writers(self) -> None:
        with self._writers_lock:
            writers, self._writers = list(self._writers.values()), {}
        for writer in writers:
            writer.close()

    def close(self) -> None:
        """Flushes and closes the event files; a later fit/evaluate opens new ones."""
        self._close_writers()

    def _write_model_json(self, model: Any) -> None:
        try:
            model_json = model.to_json()
        except Exception as e:  # as Keras: a model that cannot be serialized is not an error
            warnings.warn(f"Model failed to serialize as JSON. Ignoring... {e}", stacklevel=3)
            return
        self._writer("train")._get_file_writer().add_summary(
            keras_model_summary("keras", model_json), 0
        )

    def _scalars(self, run: str, prefix: str, logs: dict[str, Any], step: int) -> None:
        if not logs:  # no writer, no run directory, for nothing to write
            return
        writer = self._writer(run)
        for name, value in logs.items():
            writer.add_scalar(f"{prefix}{name}", float(value), step, new_style=True)

    def on_train_begin(self, logs: Optional[dict[str, Any]] = None) -> None:
        self._global_train_batch = 0
        self._open_batches.clear()
        self._in_fit = True

    def on_train_end(self, logs: Optional[dict[str, Any]] = None) -> None:
        self._in_fit = False
        self._close_writers()

    def on_train_batch_begin(self, batch: int, logs: Optional[dict[str, Any]] = None) -> None:
        if self._batch_every is None:
            return
        self._global_train_batch += 1
        with self._batch_lock:
            self._open_batches[batch] = (self._global_train_batch, time.perf_counter())

    def on_train_batch_end(self, batch: int, logs: Optional[dict[str, Any]] = None) -> None:
        if self._batch_every is None:
            return
        end = time.perf_counter()
        # With steps_per_execution, begin gets the first batch index and end the last one.
        with self._batch_lock:
            begin = max(b for b in self._open_batches if b <= batch)
            step, start = self._open_batches.pop(begin)
        if step % self._batch_every != 0:
            return
        # (Keras divides by zero when the clock did not move; such a batch gets no rate.)
        if self.write_steps_per_second and end > start:
            self._scalars("train", "batch_", {"steps_per_second": 1.0 / (end - start)}, step)
        if isinstance(logs, dict):
            self._scalars("train", "batch_", logs, step)

    def on_test_end(self, logs: Optional[dict[str, Any]] = None) -> None:
        optimizer = self.model.optimizer
        if optimizer and hasattr(optimizer, "iterations"):
            step = int(keras.ops.convert_to_numpy(optimizer.iterations))
            self._scalars("validation", "evaluation_", {
                f"{name}_vs_iterations": value for name, value in (logs or {}).items()
            }, step)
            writer = self._writers.get("validation")
            if writer is not None and not self._in_fit:  # evaluate(): nothing else will flush
                writer.flush()

    def on_epoch_begin(self, epoch: int, logs: Optional[dict[str, Any]] = None) -> None:
        if self.write_steps_per_second:
            self._epoch_iterations = self._iterations()
            self._epoch_start = time.perf_counter()

    def _iterations(self) -> int:
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_epoch_end(self, epoch: int, logs: Optional[dict[str, Any]] = None) -> None:
        """Writes the epoch's scalars, then the weights, then the embeddings when due."""
        if logs:
            self._log_epoch_metrics(epoch, logs)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._log_embeddings(epoch)

    def _learning_rates(self) -> dict[str, float]:
        """The optimizer's learning rate now (a schedule evaluated), one per inner optimizer."""
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)  # LossScaleOptimizer
        if hasattr(optimizer, "optimizers"):
            return {
                f"learning_rate_{opt.name}": float(keras.ops.convert_to_numpy(opt.learning_rate))
                for opt in optimizer.optimizers
            }
        if isinstance(optimizer, keras.optimizers.Optimizer):
            return {"learning_rate": float(keras.ops.convert_to_numpy(optimizer.learning_rate))}
        return {}

    def _log_epoch_metrics(self, epoch: int, logs: dict[str, Any]) -> None:
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        train.update(self._learning_rates())
        elapsed = time.perf_counter() - self._epoch_start
        if self.write_steps_per_second and elapsed > 0:
            train["steps_per_second"] = (self._iterations() - self._epoch_iterations) / elapsed
        self._scalars("train", "epoch_", train, epoch)
        val = {k[len("val_"):]: v for k, v in logs.items() if k.startswith("val_")}
        self._scalars("validation", "epoch_", val, epoch)

    def _log_weights(self, epoch: int) -> None:
        """Every weight of every layer: histograms in one call, then the images."""
        weights = [
            (weight.path.replace(":", "_"), weight)
            for layer in self.model.layers for weight in layer.weights
        ]
        writer = self._writer("train")
        writer.add_histograms(
            ((f"{name}/histogram", _as_tensor(w)) for name, w in weights), epoch, param_prefix=""
        )
        if not self.write_images:
            return
        channels_last = keras.backend.image_data_format() == "channels_last"
        for name, weight in weights:
            images = weight_image_batch(np.asarray(keras.ops.convert_to_numpy(weight)),
                                        channels_last)
            if images is not None:
                writer._get_file_writer().add_summary(
                    image_summary(f"{name}/image", images), epoch
                )

    def _log_embeddings(self, epoch: int) -> None:
        assert self._embeddings is not None
        for layer in self._embedding_layers():
            table = np.asarray(keras.ops.convert_to_numpy(layer.embeddings))
            self._embeddings.write(layer.name, table, epoch)
