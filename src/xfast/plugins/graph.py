# SPDX-License-Identifier: Apache-2.0
"""GraphDef for TensorBoard's Graphs dashboard, from a torch.jit trace (add_graph) or an ONNX
model (add_onnx_graph): the same nodes, names, ops and attributes torch.utils.tensorboard
writes."""

from __future__ import annotations

import contextlib
import itertools
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Optional

from xfast.encoding import proto

# What TensorBoard's graph plugin expects (torch reverse-engineered these from TF output).
_PRODUCER_VERSION = 22
_DEVICE = "/device:CPU:0"
_GET_ATTR = "prim::GetAttr"
_CLASS_TYPE = "ClassType"


@dataclass
class _Node:
    """One NodeDef to be: `name` is the value's debug name until scopes are applied."""

    name: str
    op: str
    inputs: list[str]
    shape: Optional[list[int]]
    attributes: str = ""
    scope: Optional[str] = None  # set for operator outputs
    role: Optional[str] = None  # "input" or "output" for the graph's own inputs and outputs

    def to_proto(self) -> Any:
        attr = {"attr": proto.AttrValue(s=self.attributes.encode("utf-8"))}
        if self.shape is not None:
            shape = proto.TensorShapeProto(
                dim=[proto.TensorShapeProto.Dim(size=d) for d in self.shape]
            )
            attr["_output_shapes"] = proto.AttrValue(
                list=proto.AttrValue.ListValue(shape=[shape])
            )
        return proto.NodeDef(name=self.name, op=self.op, input=self.inputs, attr=attr)


@dataclass
class _Op:
    kind: str
    scope: str  # raw: "__module.fc", or a "/"-joined chain of GetAttr scopes
    inputs: list[str]
    outputs: list[tuple[str, Optional[list[int]]]]
    attributes: str
    display_scope: str = field(default="")


def _io_sizes(value: Any) -> Optional[list[int]]:
    # torch shows [1] for values whose type has no sizes (e.g. a constant model's input), and
    # no shape when the sizes are unknown.
    try:
        sizes = value.type().sizes()
    except (RuntimeError, AttributeError):
        return [1]
    return None if sizes is None else list(sizes)


def _attributes(node: Any) -> str:
    # TensorBoard misrenders single quotes, so torch turns them into spaces.
    values = {k: getattr(node, node.kindOf(k))(k) for k in node.attributeNames()}
    return str(values).replace("'", " ")


def _module_name(module: Any) -> str:
    import torch

    if isinstance(module, torch.jit.TracedModule):  # type: ignore[attr-defined]  # not re-exported
        return str(module._name)
    return str(getattr(module, "original_name", "Module"))


def _operators(graph: Any) -> list[_Op]:
    """Every node of the inlined graph but the GetAttr nodes that yield submodules; a GetAttr
    yielding a tensor (a parameter) gets the scope of the attribute chain that reaches it."""
    attr_scope: dict[str, str] = {}
    ops = []
    for node in graph.nodes():
        scope = node.scopeName()
        if node.kind() == _GET_ATTR:
            parent = node.input().node()
            name = node.s("name")
            if parent.kind() == _GET_ATTR:
                parent_scope = attr_scope[parent.output().debugName()]
                scope = f"{parent_scope}/{parent_scope.split('/')[-1]}.{name}"
            else:
                scope = f"__module.{name}"
            attr_scope[node.output().debugName()] = scope
            if node.output().type().kind() == _CLASS_TYPE:
                continue
        outputs = [
            (v.debugName(), list(v.type().sizes()) if v.isCompleteTensor() else None)
            for v in node.outputs()
        ]
        ops.append(
            _Op(
                node.kind(),
                scope,
                [v.debugName() for v in node.inputs()],
                outputs,
                _attributes(node),
            )
        )
    return ops


def build_nodes(graph: Any, trace: Any) -> list[Any]:
    """NodeDefs for an inlined traced graph, named ``Net/Linear[fc]/input.3`` the way torch's
    graph builder names them: graph inputs and outputs first (``input/x``, ``output/output.1``),
    then every operator output under its module scope; each node lists its inputs by those
    names and carries ``attr`` (the node's attributes as text) and, where the type is complete,
    ``_output_shapes``."""
    nodes: dict[str, _Node] = {}
    for value in graph.inputs():
        if not value.uses() or value.type().kind() == _CLASS_TYPE:
            continue
        nodes[value.debugName()] = _Node(
            value.debugName(), "IO Node", [], _io_sizes(value), role="input"
        )
    ops = _operators(graph)
    for i, value in enumerate(graph.outputs(), 1):
        name = f"output.{i}"
        nodes[name] = _Node(name, "IO Node", [value.debugName()], _io_sizes(value), role="output")

    base = _module_name(trace)
    # A traced or scripted function has no modules (torch fails on it; here it gets no scopes).
    modules = trace.named_modules(prefix="__module") if hasattr(trace, "named_modules") else ()
    aliases = {name: f"{_module_name(module)}[{name.split('.')[-1]}]" for name, module in modules}
    for op in ops:
        parts = [aliases.get(p, p.split(".")[-1]) for p in op.scope.split("/")]
        op.display_scope = base + ("/" + "/".join(parts) if any(parts) else "")
        for name, shape in op.outputs:
            nodes[name] = _Node(
                name, op.kind, op.inputs, shape, op.attributes, scope=op.display_scope
            )

    # The scoped name of every value: an operator's inputs first get the consumer's scope (a
    # fallback for values that are no node, e.g. submodule handles), then every node's own.
    scoped: dict[str, str] = {}
    for op in ops:
        for name in op.inputs:
            scoped[name] = f"{op.display_scope}/{name}"
    top_scope = next(
        (op.display_scope.split("/")[0] for op in reversed(ops) if op.display_scope), "default"
    )
    for key, node in nodes.items():
        if node.role is not None:
            scoped[key] = f"{node.role}/{node.name}"
        else:
            scoped[key] = f"{node.scope or top_scope}/{node.name}"
    protos = []
    for node in nodes.values():
        node.inputs = [scoped[name] for name in node.inputs]
        node.name = scoped[node.name]
        protos.append(node.to_proto())
    return protos


@contextlib.contextmanager
def _eval_mode(model: Any) -> Iterator[None]:
    """Traces in eval mode, as torch does, restoring the module's training flag after."""
    import torch

    if isinstance(model, torch.jit.ScriptFunction) or not hasattr(model, "train"):
        yield
        return
    training = model.training
    model.train(False)
    try:
        yield
    finally:
        model.train(training)


def graph(
    model: Any, args: Any, verbose: bool = False, use_strict_trace: bool = True
) -> tuple[Any, Any]:
    """Traces `model` on `args` with torch.jit.trace and returns ``(GraphDef, RunMetadata)``
    as torch's ``graph()`` does (RunMetadata names one CPU device; torch records no timings)."""
    import torch

    with _eval_mode(model), warnings.catch_warnings():
        # The deprecation is torch's, about an API the user did not call: not shown to them.
        warnings.filterwarnings("ignore", "`torch.jit.trace", DeprecationWarning)
        trace = torch.jit.trace(model, args, strict=use_strict_trace)  # type: ignore[no-untyped-call]
        traced = trace.graph
        torch._C._jit_pass_inline(traced)
    if verbose:
        print(traced)
    graph_def = proto.GraphDef(
        node=build_nodes(traced, trace), versions=proto.VersionDef(producer=_PRODUCER_VERSION)
    )
    run_metadata = proto.RunMetadata(
        step_stats=proto.StepStats(dev_stats=[proto.DeviceStepStats(device=_DEVICE)])
    )
    return graph_def, run_metadata


def onnx_graph(model: Any) -> Any:
    """The GraphDef torch builds from an ONNX model (a path, file or ``onnx.ModelProto``): one
    ``Variable`` node per graph input and output (with ``dtype`` and ``shape``), then one node
    per operator, named after its first output, with its attributes as text in ``parameters``.

    Raises:
        ImportError: the ``onnx`` package is not installed.
        TypeError: `model` is none of those (an int is refused: onnx.load would read and
            close that file descriptor).
        ValueError: the file holds no ONNX model.
        OSError: the file cannot be read.
    """
    if not hasattr(model, "graph"):
        if not isinstance(model, (str, bytes, os.PathLike)) and not hasattr(model, "read"):
            raise TypeError(
                "add_onnx_graph takes a path, a file or an onnx.ModelProto, "
                f"got {type(model).__name__}"
            )
        try:
            import onnx
        except ImportError as e:
            raise ImportError(
                "add_onnx_graph needs the 'onnx' package: pip install onnx"
            ) from e
        from google.protobuf.message import DecodeError

        try:
            model = onnx.load(model)
        except DecodeError as e:
            raise ValueError(f"not an ONNX model: {e}") from e
    g = model.graph
    if not hasattr(g, "node") or not hasattr(g, "input"):
        raise TypeError(f"add_onnx_graph takes an onnx.ModelProto, got {type(model).__name__}")
    nodes = []
    for value in itertools.chain(g.input, g.output):
        tensor_type = value.type.tensor_type
        shape = proto.TensorShapeProto(
            dim=[proto.TensorShapeProto.Dim(size=d.dim_value) for d in tensor_type.shape.dim]
        )
        nodes.append(
            proto.NodeDef(
                name=value.name,
                op="Variable",
                attr={
                    "dtype": proto.AttrValue(type=tensor_type.elem_type),
                    "shape": proto.AttrValue(shape=shape),
                },
            )
        )
    for node in g.node:
        params = ", ".join(" = ".join(str(v) for _, v in a.ListFields()) for a in node.attribute)
        nodes.append(proto.NodeDef(
            name=node.output[0],
            op=node.op_type,
            input=list(node.input),
            attr={"parameters": proto.AttrValue(s=params.encode("utf-8"))},
        ))
    return proto.GraphDef(node=nodes, versions=proto.VersionDef(producer=_PRODUCER_VERSION))
