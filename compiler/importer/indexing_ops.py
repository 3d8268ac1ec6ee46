"""Import of ONNX ops that read or write at run-time indices: GatherElements, GatherND,
ScatterElements (and the older Scatter), ScatterND, OneHot.
"""

import numpy as np

from .node import NodeImport

HANDLERS = {}


def _axis(n: NodeImport, rank: int) -> int:
    axis = n.attr("axis", 0)
    if not -rank <= axis < rank:
        raise n.unsupported(f"axis {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def _gather_elements(n: NodeImport):
    return n.op("gather_elements", [n.input(0), n.input(1)], axis=_axis(n, len(n.in_shape(0))))


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
    return n.op("scatter_elements", [n.input(0), n.input(1), n.input(2)],
                axis=_axis(n, len(n.in_shape(0))), reduction=_reduction(n))


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


HANDLERS.update({
    "GatherElements": _gather_elements,
    "GatherND": _gather_nd,
    "ScatterElements": _scatter_elements,
    "Scatter": _scatter_elements,
    "ScatterND": _scatter_nd,
    "OneHot": _one_hot,
})
