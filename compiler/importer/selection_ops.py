"""Import of the ops whose result size depends on the input values: NonZero, Compress, Unique
and NonMaxSuppression.

Each becomes one mlc op that writes a result of a static upper bound (NonZero: the input's
element count; Compress: the selected axis' size, or the condition's length when shorter;
Unique: the size of its axis; NonMaxSuppression: batches * classes * min(boxes,
max_output_boxes_per_class), the latter when it is a constant) and the filled size, wrapped as
`DataDependent` (see `data_dependent`). Compress and Unique work on the input viewed as
[outer, axis, inner] (a flattened input is [1, size, 1]), so their lowering has one shape to
handle. A Compress whose condition is a constant selects fixed slices: a plain Gather.
"""

import math

import numpy as np
from mlir import ir

from .node import NodeImport

HANDLERS = {}


def _i64() -> ir.Type:
    return ir.IntegerType.get_signless(64)


def _reshaped(n: NodeImport, value: ir.Value, shape: list[int]) -> ir.Value:
    t = ir.RankedTensorType(value.type)
    if list(t.shape) == list(shape):
        return value
    return n.op("reshape", [value], ir.RankedTensorType.get(shape, t.element_type))


def _around_axis(n: NodeImport, shape: list[int], axis) -> tuple[int, int, int, int]:
    """(outer, along, inner, axis) of the [outer, along, inner] view; axis None flattens."""
    if axis is None:
        return 1, math.prod(shape), 1, 0
    if not -len(shape) <= axis < len(shape):
        raise n.unsupported(f"axis {axis} is out of range for rank {len(shape)}")
    axis = axis + len(shape) if axis < 0 else axis
    return math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:]), axis


def _nonzero(n: NodeImport):
    shape = n.in_shape(0)
    if not shape:
        raise n.unsupported("NonZero of a rank-0 input is not supported")
    total = math.prod(shape)
    flat = _reshaped(n, n.input(0), [total])
    result, count = n.multi_op("nonzero", [flat], [ir.RankedTensorType.get([len(shape), total], _i64()),
                                                   ir.RankedTensorType.get([1], _i64())],
                               shape=shape)
    return n.data_dependent(result, 1, count)


def _compress(n: NodeImport):
    shape, axis = n.in_shape(0), n.attr("axis")
    outer, along, inner, axis = _around_axis(n, shape, axis)
    out_shape = [along] if n.attr("axis") is None else list(shape)
    elem = n.in_type(0).element_type
    x = n.input(0) if n.attr("axis") is not None else _reshaped(n, n.input(0), [along])
    condition = n.const(1)
    if condition is not None:  # fixed slices
        picked = np.nonzero(condition.reshape(-1)[:along])[0].astype(np.int64)
        out_shape[axis] = len(picked)
        return n.op("gather", [x, n.constant(picked)], ir.RankedTensorType.get(out_shape, elem),
                    axis=axis)
    bound = min(along, n.in_shape(1)[0])
    out_shape[axis] = bound
    result, count = n.multi_op("compress", [_reshaped(n, x, [outer, along, inner]), n.input(1)],
                               [ir.RankedTensorType.get([outer, bound, inner], elem),
                                ir.RankedTensorType.get([1], _i64())])
    return n.data_dependent(_reshaped(n, result, out_shape), axis, count)


def _unique(n: NodeImport):
    shape, axis = n.in_shape(0), n.attr("axis")
    outer, along, inner, axis = _around_axis(n, shape, axis)
    out_shape = [along] if n.attr("axis") is None else list(shape)
    elem = n.in_type(0).element_type
    dtype = n.in_dtype(0)
    vector = ir.RankedTensorType.get([along], _i64())
    y, indices, inverse, counts, count = n.multi_op(
        "unique", [_reshaped(n, n.input(0), [outer, along, inner])],
        [ir.RankedTensorType.get([outer, along, inner], elem), vector, vector, vector,
         ir.RankedTensorType.get([1], _i64())],
        sorted=int(n.attr("sorted", 1) != 0),
        unsigned=int(not dtype.is_float and (dtype.is_unsigned or dtype.name == "bool")))
    return [n.data_dependent(_reshaped(n, y, out_shape), axis, count),
            n.data_dependent(indices, 0, count), inverse, n.data_dependent(counts, 0, count)]


def _scalar(n: NodeImport, i: int, default) -> ir.Value:
    """Optional scalar input i as a tensor<1x...> (its default when absent)."""
    if not n.has_input(i):
        return n.constant(np.array([default]))
    return _reshaped(n, n.input(i), [1])


def _non_max_suppression(n: NodeImport):
    batches, boxes, _ = n.in_shape(0)
    classes = n.in_shape(1)[1]
    limit = n.const(2) if n.has_input(2) else np.array(0)
    per_class = boxes
    if limit is not None:
        per_class = min(boxes, max(0, int(np.asarray(limit).reshape(-1)[0])))
    operands = [n.input(0), n.input(1), _scalar(n, 2, np.int64(0)),
                _scalar(n, 3, np.float32(0)), _scalar(n, 4, np.float32(0))]
    selected, count = n.multi_op(
        "non_max_suppression", operands,
        [ir.RankedTensorType.get([batches * classes * per_class, 3], _i64()),
         ir.RankedTensorType.get([1], _i64())],
        center_point_box=n.attr("center_point_box", 0), has_score_threshold=int(n.has_input(4)))
    return n.data_dependent(selected, 0, count)


HANDLERS.update({
    "NonZero": _nonzero,
    "Compress": _compress,
    "Unique": _unique,
    "NonMaxSuppression": _non_max_suppression,
})
