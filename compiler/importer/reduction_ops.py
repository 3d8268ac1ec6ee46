"""Import of ONNX reductions: Reduce* (axes as attribute or input, keepdims,
noop_with_empty_axes) and ArgMax/ArgMin, normalized to sorted non-negative axes."""

from itertools import combinations

import numpy as np

from .node import NodeImport

HANDLERS = {}

# Kinds whose "no axes, noop" form is the input unchanged.
_PLAIN = {"reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod"}


def _reduce(mlc_name: str):
    def handler(n: NodeImport):
        dtype = n.out_dtype()
        if not dtype.is_float and (dtype.is_unsigned or mlc_name in
                                   ("reduce_l2", "reduce_log_sum", "reduce_log_sum_exp")):
            raise n.unsupported(f"{n.op_type} on {dtype.name} is not supported")
        rank = len(n.in_shape(0))
        if n.has_input(1) and n.const(1) is None:
            axes = _axes_from_shapes(n)
        elif n.has_input(1):
            axes = [int(a) for a in n.const(1).reshape(-1)]
        else:
            axes = list(n.attr("axes", []))
        if not axes:
            if n.attr("noop_with_empty_axes", 0):
                if mlc_name not in _PLAIN:
                    raise n.unsupported(f"{n.op_type} with noop_with_empty_axes is not supported")
                return n.input(0)
            axes = list(range(rank))
        axes = sorted({a + rank if a < 0 else a for a in axes})
        return n.op(mlc_name, [n.input(0)], axes=axes)
    return handler


def _axes_from_shapes(n: NodeImport) -> list[int]:
    """Axes given at run time: with static shapes the output shape already says which dims
    are reduced, up to the choice among unit dims (which reduce to the same values)."""
    in_shape, out_shape = n.in_shape(0), n.out_shape()
    rank = len(in_shape)
    if n.attr("keepdims", 1):
        if len(out_shape) != rank:
            raise n.unsupported("axes given at run time with an output rank that does not match")
        axes = [d for d in range(rank) if out_shape[d] != in_shape[d]]
        if any(out_shape[d] != 1 for d in axes):
            raise n.unsupported("axes given at run time do not match the output shape")
        if not axes and not n.attr("noop_with_empty_axes", 0):
            axes = [d for d in range(rank) if in_shape[d] == 1] or list(range(rank))
        return axes
    dropped = rank - len(out_shape)
    found = {frozenset(d for d in c if in_shape[d] != 1)
             for c in combinations(range(rank), dropped)
             if [in_shape[d] for d in range(rank) if d not in c] == out_shape}
    if len(found) != 1:
        raise n.unsupported("the axes (input 1) must be a compile-time constant: the output "
                            "shape does not say which dims are reduced")
    return sorted(found.pop()) or [d for d in range(rank) if in_shape[d] == 1][:dropped]


def _arg(mlc_name: str):
    def handler(n: NodeImport):
        if n.in_type(0) and not n.out_dtype().numpy == np.int64:
            raise n.unsupported("the index output must be int64")
        rank = len(n.in_shape(0))
        axis = n.attr("axis", 0)
        axis = axis + rank if axis < 0 else axis
        return n.op(mlc_name, [n.input(0)], axis=axis,
                    select_last_index=n.attr("select_last_index", 0))
    return handler


for _onnx, _mlc in {"ReduceSum": "reduce_sum", "ReduceMean": "reduce_mean",
                    "ReduceMax": "reduce_max", "ReduceMin": "reduce_min",
                    "ReduceProd": "reduce_prod", "ReduceSumSquare": "reduce_sum_square",
                    "ReduceL1": "reduce_l1", "ReduceL2": "reduce_l2",
                    "ReduceLogSum": "reduce_log_sum",
                    "ReduceLogSumExp": "reduce_log_sum_exp"}.items():
    HANDLERS[_onnx] = _reduce(_mlc)
HANDLERS["ArgMax"] = _arg("arg_max")
HANDLERS["ArgMin"] = _arg("arg_min")
