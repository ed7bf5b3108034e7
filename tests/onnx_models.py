"""Tiny ONNX models with a known answer, built with onnx.helper, for the learned cutout's real loading path."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper


def blue_detector(path: Path, gain: float = 40.0, offset: float = 0.2) -> Path:
    """Foreground probability = sigmoid(gain · (B − R − offset)) on 0..1 RGB: blue things are product.

    The input is 1×3×H×W with dynamic H and W; the metadata says mean 0 and std 1 (the input is rgb / 255).
    """
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "height", "width"])
    prob = helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 1, "height", "width"])
    nodes = [
        helper.make_node("Split", ["image", "split"], ["r", "g", "b"], axis=1),
        helper.make_node("Sub", ["b", "r"], ["d"]),
        helper.make_node("Sub", ["d", "offset"], ["e"]),
        helper.make_node("Mul", ["e", "gain"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["mask"]),
    ]
    init = [
        helper.make_tensor("split", TensorProto.INT64, [3], [1, 1, 1]),
        helper.make_tensor("offset", TensorProto.FLOAT, [], [offset]),
        helper.make_tensor("gain", TensorProto.FLOAT, [], [gain]),
    ]
    graph = helper.make_graph(nodes, "blue_detector", [image], [prob], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"mean": "0,0,0", "std": "1,1,1"})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
