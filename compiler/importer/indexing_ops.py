"""Import of ONNX ops that read or write at run-time indices: GatherElements, GatherND,
ScatterElements (and the older Scatter), ScatterND, OneHot.
"""

import numpy as np
from mlir import ir

from . import checks
from .decompose import Decomposition
from .node import NodeImport

HANDLERS = {}


def _axis(n: NodeImport, rank: int) -> int:
    axis = n.attr("axis", 0)
    if not -rank <= axis < rank:
        raise n.unsupported(f"axis {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def _gather_elements(n: NodeImport):
    axis = _axis(n, len(n.in_shape(0)))
    checks.require_indices_in_range(n, 0, 1, axis)
    return n.op("gather_elements", [n.input(0), n.input(1)], axis=axis)


def _gather_nd(n: NodeImport):
    return n.op("gather_nd", [n.input(0), n.input(1)], batch_dims=n.attr("batch_dims", 0))


_REDUCTIONS = ("none", "add", "mul", "max", "min")


def _reduction(n: NodeImport) -> str:
    reduction = n.attr("reduction", "none")
    if reduction not in _REDUCTIONS:
        raise n.unsupported(f"reduction '{reduction}' is not supported")
    if reduction in ("max", "min") and n.out_dtype().is_unsigned:
        raise n.unsupported(f"reduction '{reduction}' on {n.out_dtype().name} is not supported")
    return reduction


def _scatter_elements(n: NodeImport):
    axis = _axis(n, len(n.in_shape(0)))
    checks.require_indices_in_range(n, 0, 1, axis)
    return n.op("scatter_elements", [n.input(0), n.input(1), n.input(2)], axis=axis,
                reduction=_reduction(n))


def _scatter_nd(n: NodeImport):
    return n.op("scatter_nd", [n.input(0), n.input(1), n.input(2)], reduction=_reduction(n))


def _one_hot(n: NodeImport):
    out_rank = len(n.out_shape())
    axis = n.attr("axis", -1)
    if not -out_rank <= axis < out_rank:
        raise n.unsupported(f"axis {axis} is out of range for rank {out_rank}")
    depth = n.const(1)
    if depth is not None and int(np.asarray(depth).reshape(-1)[0]) != n.out_shape()[axis]:
        raise n.unsupported("depth does not match the output shape")
    return n.op("one_hot", [n.input(0), n.input(2)], axis=axis + out_rank if axis < 0 else axis)


def _reverse_sequence(n: NodeImport):
    """y[t, b] = x[lens[b] - 1 - t, b] for t < lens[b], else x[t, b] (time and batch axes as
    the attributes say): one GatherElements along time, at indices computed from `lens`."""
    shape = n.in_shape(0)
    if ir.ShapedType.get_dynamic_size() in shape[:2]:
        raise n.unsupported("a dynamic time or batch dim is not supported")
    time_axis, batch_axis = n.attr("time_axis", 0), n.attr("batch_axis", 1)
    steps = shape[time_axis]
    def along(axis: int, size: int) -> list[int]:  # a [time, batch] plane of extent 1 elsewhere
        return [size if d == axis else 1 for d in range(2)]

    g = Decomposition(opset=18)
    x, lens = g.input(n.bound(0)), g.input(n.bound(1))
    t = g.const(np.arange(steps).reshape(along(time_axis, steps)), np.int64)
    lens = g.op("Reshape", lens, g.const(along(batch_axis, shape[batch_axis]), np.int64))
    index = g.op("Where", g.op("Less", t, lens), g.op("Sub", g.op("Sub", lens, g.const(1, np.int64)), t), t)
    index = g.op("Expand", g.op("Reshape", index, g.const(shape[:2] + [1] * (len(shape) - 2), np.int64)),
                 g.const(shape, np.int64))
    return g.import_into(n, g.op("GatherElements", x, index, axis=time_axis), "reverse_sequence")


HANDLERS.update({
    "GatherElements": _gather_elements,
    "GatherND": _gather_nd,
    "ScatterElements": _scatter_elements,
    "Scatter": _scatter_elements,
    "ScatterND": _scatter_nd,
    "OneHot": _one_hot,
    "ReverseSequence": _reverse_sequence,
})
