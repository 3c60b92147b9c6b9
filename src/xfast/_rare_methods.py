# SPDX-License-Identifier: Apache-2.0
"""SummaryWriter's methods for the rarer dashboards (tensors, graphs, projector, PR curves,
custom scalars, meshes, hparams): Summary messages built in Python, written as bytes."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from xfast import _embedding, _graph, _proto, summary
from xfast._convert import to_step
from xfast.file_writer import FileWriter

# add_hparams(run_name=THIS_RUN) writes into the writer's own run (TensorBoard names a logdir's
# root run "." too).
THIS_RUN = "."


class _RareEventsMixin:
    """The rare-event half of SummaryWriter; expects ``_get_file_writer()`` from it."""

    _projector_config: Any = None  # the embeddings add_embedding wrote, for the pbtxt
    _hparams_in_run = False  # add_hparams(run_name=".") was called

    def _get_file_writer(self) -> FileWriter:
        raise NotImplementedError  # provided by SummaryWriter

    def add_tensor(
        self,
        tag: str,
        tensor: Any,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
    ) -> None:
        """Add tensor data to summary (plugin "tensor"; no TensorBoard dashboard shows it).

        Args:
            tag: Data identifier.
            tensor: The torch.Tensor to save (a numpy array is converted).
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) seconds after epoch.

        Raises:
            TypeError: `tensor` is not a tensor; ValueError: it is 2 GiB or larger, or of a dtype
                with no TensorProto encoding.
        """
        self._get_file_writer().add_summary(
            summary.tensor_proto(tag, tensor), global_step, walltime
        )

    def add_graph(
        self,
        model: Any,
        input_to_model: Any = None,
        verbose: bool = False,
        use_strict_trace: bool = True,
    ) -> None:
        """Add graph data to summary.

        Traces `model` with ``torch.jit.trace`` (in eval mode) and writes the GraphDef (with
        no step) and a ``tagged_run_metadata`` event tagged "step1", as torch does.

        Args:
            model: Model to draw (a torch.nn.Module or a ScriptFunction).
            input_to_model: A tensor or a tuple of tensors to feed to the model.
            verbose: Whether to print the graph structure in the console.
            use_strict_trace: Whether to pass keyword argument `strict` to `torch.jit.trace`.
                Pass False when you want the tracer to record your mutable container types
                (list, dict).

        Raises:
            RuntimeError: (or what else ``torch.jit.trace`` raises) the model cannot be traced
                on ``input_to_model``, as with torch; nothing is written then.
        """
        self._get_file_writer().add_graph(
            _graph.graph(model, input_to_model, verbose, use_strict_trace)
        )

    def add_onnx_graph(self, prototxt: Any = None, *, onnx_model_file: Any = None) -> None:
        """Add the graph of an ONNX model file to the Graphs dashboard.

        Args:
            prototxt: Path to the ``.onnx`` file (or an ``onnx.ModelProto``).
            onnx_model_file: tensorboardX's name for ``prototxt``.

        Raises:
            ImportError: the ``onnx`` package is not installed.
            TypeError: `prototxt` is not a path, a file or an ``onnx.ModelProto``.
            ValueError: the file holds no ONNX model.
            OSError: the file cannot be read.

        Differences from torch:
            Node names are not printed to stdout.
        """
        model = prototxt if prototxt is not None else onnx_model_file
        if model is None:
            raise TypeError("add_onnx_graph() needs the model file (prototxt or onnx_model_file)")
        self._get_file_writer().add_onnx_graph(_graph.onnx_graph(model))

    def add_embedding(
        self,
        mat: Any,
        metadata: Optional[Sequence[Any]] = None,
        label_img: Any = None,
        global_step: Optional[int] = None,
        tag: str = "default",
        metadata_header: Optional[Sequence[Any]] = None,
    ) -> None:
        """Add embedding projector data to summary.

        Writes ``<log_dir>/<step:05d>/<tag>/`` tensors.tsv, metadata.tsv and sprite.png, and
        rewrites ``<log_dir>/projector_config.pbtxt`` listing every embedding this writer added
        (no event is written).

        Args:
            mat: A matrix (N, D) whose rows are the feature vectors of the data points.
            metadata: A list of labels, one per data point (each converted to str); with
                `metadata_header`, a list of rows, one value per header column.
            label_img: Images (N, C, H, W), C 1 or 3, values in [0, 1], one per data point.
            global_step: Global step value to record (None means 0).
            tag: Name for the embedding.
            metadata_header: A list of headers for multi-column metadata.

        Raises:
            ValueError: `mat` is not 2-D, or `metadata`/`label_img` do not have one entry per
                data point (torch raises AssertionError).
        """
        mat = summary._make_np(mat)
        if mat.ndim != 2:
            raise ValueError(
                f"mat should be 2D, where mat.size(0) is the number of data points; got {mat.shape}"
            )
        if metadata is not None and len(metadata) != mat.shape[0]:
            raise ValueError(
                f"#labels ({len(metadata)}) should equal #data points ({mat.shape[0]})"
            )
        images = None
        if label_img is not None:
            images = summary._make_np(label_img)
            if images.ndim != 4 or images.shape[0] != mat.shape[0]:
                raise ValueError(
                    f"label_img must be (N, C, H, W) with N = #data points ({mat.shape[0]}), "
                    f"got {images.shape}"
                )
        step = 0 if global_step is None else to_step(global_step)
        subdir = f"{str(step).zfill(5)}/{_embedding.encode_tag(tag)}"
        log_dir = self._get_file_writer().get_logdir()
        save_path = os.path.join(log_dir, subdir)
        if os.path.isdir(save_path):
            print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
        elif os.path.exists(save_path):
            raise NotADirectoryError(f"Path: `{save_path}` exists, but is a file. Cannot proceed.")
        os.makedirs(save_path, exist_ok=True)
        if metadata is not None:
            _embedding.write_metadata(metadata, save_path, metadata_header)
        if images is not None:
            _embedding.write_sprite(images, save_path)
        _embedding.write_tensors(mat, save_path)
        if self._projector_config is None:
            self._projector_config = _proto.ProjectorConfig()
        config = self._projector_config
        hw = None if images is None else (int(images.shape[2]), int(images.shape[3]))
        config.embeddings.append(
            _embedding.embedding_info(subdir, step, tag, metadata is not None, hw)
        )
        _embedding.write_config(log_dir, config)

    def add_pr_curve(
        self,
        tag: str,
        labels: Any,
        predictions: Any,
        global_step: Optional[int] = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: Optional[float] = None,
    ) -> None:
        """Add precision recall curve.

        Args:
            tag: Data identifier.
            labels: Ground truth data. Binary label for each element.
            predictions: The probability that an element be classified as true, in [0, 1].
            global_step: Global step value to record.
            num_thresholds: Number of thresholds used to draw the curve (at most 127).
            weights: Optional weight of each element.
            walltime: Optional override default walltime (time.time()) seconds after epoch.
        """
        self._get_file_writer().add_summary(
            summary.pr_curve(tag, labels, predictions, num_thresholds, weights),
            global_step,
            walltime,
        )

    def add_pr_curve_raw(
        self,
        tag: str,
        true_positive_counts: Any,
        false_positive_counts: Any,
        true_negative_counts: Any,
        false_negative_counts: Any,
        precision: Any,
        recall: Any,
        global_step: Optional[int] = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: Optional[float] = None,
    ) -> None:
        """Add precision recall curve with raw data (six 1-D sequences of one length).

        Args:
            tag: Data identifier.
            true_positive_counts: true positive counts.
            false_positive_counts: false positive counts.
            true_negative_counts: true negative counts.
            false_negative_counts: false negative counts.
            precision: precision.
            recall: recall.
            global_step: Global step value to record.
            num_thresholds: Number of thresholds used to draw the curve.
            weights: Unused (kept for torch's signature).
            walltime: Optional override default walltime (time.time()) seconds after epoch.
        """
        self._get_file_writer().add_summary(
            summary.pr_curve_raw(
                tag, true_positive_counts, false_positive_counts, true_negative_counts,
                false_negative_counts, precision, recall, num_thresholds, weights,
            ),
            global_step,
            walltime,
        )

    def add_custom_scalars(self, layout: Mapping[str, Mapping[str, Sequence[Any]]]) -> None:
        """Create special chart by collecting charts tags in 'scalars'.

        Writes the Custom Scalars layout (no step). TensorBoard reads one layout per run, so
        call this once per writer; it can be called before or after the training loop.

        Args:
            layout: ``{categoryName: charts}``, where charts is ``{chartName: [kind, tags]}``:
                kind "Multiline" with the tags (regexes) to draw together, or "Margin" with
                exactly 3 tags [value, lower, upper].
        """
        self._get_file_writer().add_summary(summary.custom_scalars(layout))

    def add_custom_scalars_multilinechart(
        self, tags: Sequence[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """Shorthand for creating a multiline chart (see ``add_custom_scalars``).

        Args:
            tags: list of tags that have been used in ``add_scalar()``.
            category: The chart's category.
            title: The chart's title.
        """
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(
        self, tags: Sequence[str], category: str = "default", title: str = "untitled"
    ) -> None:
        """Shorthand for creating a margin chart (see ``add_custom_scalars``).

        Args:
            tags: exactly 3 tags used in ``add_scalar()``: value, lower bound, upper bound.
            category: The chart's category.
            title: The chart's title.

        Raises:
            ValueError: `tags` does not hold 3 tags (torch raises AssertionError).
        """
        if isinstance(tags, str) or len(tags) != 3:
            raise ValueError(f"add_custom_scalars_marginchart needs exactly 3 tags, got {tags!r}")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_mesh(
        self,
        tag: str,
        vertices: Any,
        colors: Any = None,
        faces: Any = None,
        config_dict: Optional[Mapping[str, Any]] = None,
        global_step: Optional[int] = None,
        walltime: Optional[float] = None,
    ) -> None:
        """Add meshes or 3D point clouds to TensorBoard (rendered with three.js).

        Args:
            tag: Data identifier.
            vertices: (B, N, 3) 3D coordinates of vertices.
            colors: (B, N, 3) colors for each vertex, in [0, 255].
            faces: (B, F, 3) indices of the vertices of each triangle.
            config_dict: Dictionary with ThreeJS classes names and configuration.
            global_step: Global step value to record.
            walltime: Optional override default walltime (time.time()) seconds after epoch.

        Raises:
            ValueError: a part is not of shape (B, N, 3).
        """
        self._get_file_writer().add_summary(
            summary.mesh(tag, vertices, colors, faces, config_dict), global_step, walltime
        )

    def add_hparams(
        self,
        hparam_dict: dict[str, Any],
        metric_dict: dict[str, Any],
        hparam_domain_discrete: Optional[dict[str, list[Any]]] = None,
        run_name: Optional[str] = None,
        global_step: Optional[int] = None,
        *,
        name: Optional[str] = None,
    ) -> None:
        """Add a set of hyperparameters to be compared in TensorBoard's HParams dashboard.

        By default, as in torch, each call writes a new run ``<log_dir>/<run_name>`` (default:
        ``str(time.time())``) holding the hyperparameters and one scalar per metric.

        ``run_name="."`` (xfast) writes them into this writer's own run instead, so that the
        hparams sit beside the scalars logged with ``add_scalar`` and no extra run appears.
        In that mode a metric whose value is None is declared (a column of the HParams
        table, filled from the scalars of that tag logged in this run) without writing a value.
        TensorBoard reads one set of hyperparameters per run (both loaders keep the first
        one), so call it once per run in that mode.

        Args:
            hparam_dict: Each key-value pair is the name of the hyperparameter and its value:
                bool, str, float, int, a one-element torch.Tensor, or None (skipped).
            metric_dict: Each key-value pair is the name of a metric and its value, written as
                a scalar. The key should be unique in the run, or the value added by
                ``add_scalar`` will be displayed in the HParams plugin.
            hparam_domain_discrete: A dictionary that contains names of the hyperparameters and
                all discrete values they can hold.
            run_name: Name of the run, under this writer's log_dir; "." for this writer's run.
            global_step: Global step value to record.
            name: tensorboardX's name for ``run_name``.

        Raises:
            TypeError: `hparam_dict` or `metric_dict` is not a dict.
            ValueError: a hyperparameter has an unsupported type.
        """
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        if isinstance(hparam_domain_discrete, str) and not isinstance(run_name, str):
            # A tensorboardX call, add_hparams(hparam_dict, metric_dict, name, global_step):
            # its 3rd and 4th positional parameters are the run's name and the step.
            if run_name is not None and global_step is None:
                global_step = run_name
            hparam_domain_discrete, run_name = None, hparam_domain_discrete
        run_name = run_name or name
        in_this_run = run_name in (THIS_RUN, "./")
        summaries = summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        metrics = [
            summary.scalar(k, v) for k, v in metric_dict.items() if not (in_this_run and v is None)
        ]
        if in_this_run:
            if self._hparams_in_run:
                warnings.warn(
                    "xfast: add_hparams(run_name='.') was already called for this run; "
                    "TensorBoard shows the first set of hyperparameters of a run only",
                    RuntimeWarning,
                    stacklevel=2,
                )
            self._hparams_in_run = True
            writer = self._get_file_writer()
        else:
            run_dir = os.path.join(
                self._get_file_writer().get_logdir(), run_name or str(time.time())
            )
            writer = FileWriter(run_dir)
        try:
            for s in (*summaries, *metrics):
                writer.add_summary(s, global_step)
        finally:
            if not in_this_run:
                writer.close()

