# SPDX-License-Identifier: Apache-2.0
"""Inputs shared by the xfast.tensorboardX tests: an OpenVINO IR file and an ONNX model."""

from __future__ import annotations

import os

# A three-layer IR (parameter -> convolution -> result) with a layer that nothing feeds.
OPENVINO_IR = """<?xml version="1.0"?>
<net name="tiny" version="10">
  <layers>
    <layer id="0" name="input" type="Parameter" version="opset1">
      <output><port id="0" precision="FP32"><dim>1</dim><dim>3</dim></port></output>
    </layer>
    <layer id="1" name="conv/1" type="Convolution" version="opset1">
      <input><port id="0"/></input>
      <output><port id="1"/></output>
    </layer>
    <layer id="2" name="relu" type="ReLU" version="opset1">
      <input><port id="0"/></input>
      <output><port id="1"/></output>
    </layer>
    <layer id="3" name="output" type="Result" version="opset1">
      <input><port id="0"/></input>
    </layer>
  </layers>
  <edges>
    <edge from-layer="0" from-port="0" to-layer="1" to-port="0"/>
    <edge from-layer="1" from-port="1" to-layer="2" to-port="0"/>
    <edge from-layer="2" from-port="1" to-layer="3" to-port="0"/>
  </edges>
</net>
"""


def write_openvino_ir(directory: str) -> str:
    """Writes OPENVINO_IR to `directory`/tiny.xml and returns its path."""
    path = os.path.join(directory, "tiny.xml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(OPENVINO_IR)
    return path


def write_onnx_model(directory: str) -> str:
    """Writes a two-node ONNX model (Gemm, Relu) to `directory`/m.onnx and returns its path."""
    import onnx
    from onnx import TensorProto, helper

    gemm = helper.make_node("Gemm", ["x", "w", "b"], ["y"], alpha=0.5, transB=1)
    relu = helper.make_node("Relu", ["y"], ["z"])
    graph = helper.make_graph(
        [gemm, relu], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4]),
         helper.make_tensor_value_info("w", TensorProto.FLOAT, [3, 4]),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 3])],
    )
    path = os.path.join(directory, "m.onnx")
    onnx.save(helper.make_model(graph), path)
    return path
