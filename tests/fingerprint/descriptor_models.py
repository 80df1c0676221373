"""Tiny ONNX descriptor models built here with onnx.helper: fixed random projections of a
small picture, so a test knows what the model computes without any downloaded weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SIDE = 32
DIMENSION = 64
OPSET = 17


def projection_weights(
    channels: int, dimension: int = DIMENSION, side: int = SIDE, seed: int = 19
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((channels * side * side, dimension)).astype(np.float32)


def projection_model(
    path: Path,
    *,
    channels: int = 1,
    dimension: int = DIMENSION,
    side: int | str = SIDE,
    batch: int | str = 1,
    scale: float | None = None,
    extra_output: bool = False,
) -> Path:
    """vector = flatten(pixels) @ W, W a fixed random matrix; ``scale`` multiplies the
    result (0 gives zero vectors, NaN gives NaN); ``side`` a string leaves the size open."""
    fixed_side = side if isinstance(side, int) else SIDE
    weights = projection_weights(channels, dimension, fixed_side)
    nodes = [
        helper.make_node("Flatten", ["pixels"], ["flat"], axis=1),
        helper.make_node("MatMul", ["flat", "weights"], ["raw" if scale is not None else "vector"]),
    ]
    initializers = [numpy_helper.from_array(weights, "weights")]
    if scale is not None:
        initializers.append(numpy_helper.from_array(np.array(scale, np.float32), "scale"))
        nodes.append(helper.make_node("Mul", ["raw", "scale"], ["vector"]))
    outputs = [helper.make_tensor_value_info("vector", TensorProto.FLOAT, [batch, dimension])]
    if extra_output:
        nodes.append(helper.make_node("ReduceMean", ["pixels"], ["brightness"], keepdims=0))
        outputs.insert(0, helper.make_tensor_value_info("brightness", TensorProto.FLOAT, []))
    graph = helper.make_graph(
        nodes,
        "descriptor",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, [batch, channels, side, side])],
        outputs,
        initializers,
    )
    return save(graph, path)


def save(graph: onnx.GraphProto, path: Path) -> Path:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path
