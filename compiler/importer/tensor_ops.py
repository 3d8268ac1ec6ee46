"""Import of tensor and shape ONNX ops: constants, reshapes, transposes, concatenation.

Shape arithmetic on static shapes is evaluated here with numpy, so a Reshape whose target shape
comes from Shape/Gather/Concat sees a constant.
"""

import numpy as np
from mlir import ir
from onnx import numpy_helper

from .node import NodeImport

HANDLERS = {}


def _constant(n: NodeImport):
    for key in ("value", "sparse_value"):
        if (value := n.attr(key)) is not None:
            if key == "sparse_value":
                raise n.unsupported("sparse Constant values are not supported")
            return numpy_helper.to_array(value)
    scalars = {"value_float": np.float32, "value_int": np.int64}
    lists = {"value_floats": np.float32, "value_ints": np.int64}
    for key, dtype in scalars.items():
        if (value := n.attr(key)) is not None:
            return np.array(value, dtype)
    for key, dtype in lists.items():
        if (value := n.attr(key)) is not None:
            return np.array(list(value), dtype)
    raise n.unsupported("Constant without a supported value attribute")


def _constant_of_shape(n: NodeImport):
    shape = n.require_const(0, "the shape")
    value = n.attr("value")
    scalar = numpy_helper.to_array(value).reshape(-1)[0] if value is not None else np.float32(0)
    # A broadcast view: no memory per element, and the weight store sees a splat.
    return np.broadcast_to(np.array(scalar), tuple(int(d) for d in shape))


def _identity(n: NodeImport):
    value = n.const(0)
    return value if value is not None else n.input(0)


def _reshape_to_output(n: NodeImport):
    value = n.const(0)
    if value is not None and value.size <= 64:
        return value.reshape(n.out_shape())
    if n.in_shape(0) == n.out_shape():
        return n.input(0)
    return n.op("reshape", [n.input(0)])


def _transpose(n: NodeImport):
    rank = len(n.in_shape(0))
    perm = list(n.attr("perm", list(range(rank))[::-1]))
    if perm == list(range(rank)):
        return n.input(0)
    return n.op("transpose", [n.input(0)], perm=perm)


def _concat(n: NodeImport):
    consts = [n.const(i) for i in range(n.num_inputs)]
    rank = len(n.out_shape())
    axis = n.attr("axis")
    axis = axis + rank if axis < 0 else axis
    if all(c is not None and c.size <= 64 for c in consts):
        return np.concatenate(consts, axis=axis)
    pieces = [i for i in range(n.num_inputs) if n.in_shape(i)[axis] != 0]
    total, shape = n.input(pieces[0]), n.in_shape(pieces[0])
    for i in pieces[1:]:
        shape[axis] += n.in_shape(i)[axis]
        type_ = ir.RankedTensorType.get(shape, n.out_type().element_type)
        total = n.op("concat", [total, n.input(i)], type_, axis=axis)
    return total


def _shape(n: NodeImport):
    shape = np.array(n.in_shape(0), dtype=np.int64)
    start, end = n.attr("start", 0), n.attr("end", None)
    return shape[start:end]


def _gather(n: NodeImport):
    data, indices = n.const(0), n.const(1)
    axis = n.attr("axis", 0)
    if data is not None and indices is not None and data.size <= 64:
        return np.take(data, indices, axis=axis)  # shape arithmetic folds away
    rank = len(n.in_shape(0))
    return n.op("gather", [n.input(0), n.input(1)], axis=axis + rank if axis < 0 else axis)


HANDLERS.update({
    "Constant": _constant,
    "ConstantOfShape": _constant_of_shape,
    "Identity": _identity,
    "Reshape": _reshape_to_output,
    "Flatten": _reshape_to_output,
    "Squeeze": _reshape_to_output,
    "Unsqueeze": _reshape_to_output,
    "Transpose": _transpose,
    "Concat": _concat,
    "Shape": _shape,
    "Gather": _gather,
})
