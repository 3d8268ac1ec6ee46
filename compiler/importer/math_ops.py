"""Import of elementwise and math ONNX ops."""

import numpy as np
from mlir import ir

from .node import NodeImport

HANDLERS = {}


def _binary(mlc_name: str, numpy_fn):
    def handler(n: NodeImport):
        if n.opset < 7 or n.attr("broadcast") is not None:
            raise n.unsupported("legacy broadcast attribute (opset < 7)")
        lhs, rhs = n.const(0), n.const(1)
        if lhs is not None and rhs is not None and lhs.size <= 64 and rhs.size <= 64:
            return numpy_fn(lhs, rhs).astype(lhs.dtype)  # shape arithmetic folds away
        return n.op(mlc_name, [n.input(0), n.input(1)])
    return handler


def _int_div(a, b):
    return np.trunc(a / b) if a.dtype.kind == "f" else np.trunc(a / b).astype(a.dtype)


HANDLERS["Add"] = _binary("add", np.add)
HANDLERS["Sub"] = _binary("sub", np.subtract)
HANDLERS["Mul"] = _binary("mul", np.multiply)
HANDLERS["Div"] = _binary("div", lambda a, b: a / b if a.dtype.kind == "f" else _int_div(a, b))


def _unary(mlc_name: str):
    def handler(n: NodeImport):
        return n.op(mlc_name, [n.input(0)])
    return handler


for _onnx, _mlc in {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}.items():
    HANDLERS[_onnx] = _unary(_mlc)


def _sum(n: NodeImport):
    inputs = n.inputs()
    total = inputs[0]
    for i, value in enumerate(inputs[1:], start=1):
        partial = np.broadcast_shapes(*[tuple(n.in_shape(j)) for j in range(i + 1)])
        type_ = ir.RankedTensorType.get(list(partial), n.out_type().element_type)
        total = n.op("add", [total, value], type_)
    return total


def _cast(n: NodeImport):
    if n.in_type(0) == n.out_type(0):
        return n.input(0)
    value = n.const(0)
    if value is not None and value.size <= 64:
        return value.astype(n.out_dtype().numpy)
    return n.op("cast", [n.input(0)])


HANDLERS["Sum"] = _sum
HANDLERS["Cast"] = _cast
