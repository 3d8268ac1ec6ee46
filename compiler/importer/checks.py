"""Run-time checks: the errors ONNX defines that only the data can reveal.

An index out of range in a Gather (a token id past the vocabulary, a position past the
position table) is an error in ONNX, and onnxruntime refuses the call. mlc's lowering clamps
every index, so nothing is read outside a buffer; a check makes the call fail as well:

    failed_k = reduce_max(int32(indices < -size or indices >= size))    per checked node k
    status   = max_k(failed_k * (k + 1))                                 a hidden last result

The entry ABI writes `status` into a word of the shim's, which returns
MLC_STATUS_CHECK_FAILED and remembers k; the message of check k (node, op, what) is in the
model's metadata, so the runtime names the node that failed.
"""

import numpy as np
from mlir import ir

from .node import NodeImport


def _scalar(n: NodeImport, value: int, element: ir.Type) -> ir.Value:
    array = np.array(value, np.int64 if ir.IntegerType(element).width == 64 else np.int32)
    return n.constant(array)


def require_indices_in_range(n: NodeImport, data: int, indices: int, axis: int) -> None:
    """Fails the call when an element of input `indices` is outside [-size, size), the size of
    input `data`'s `axis`, unless the indices are constants or the size is dynamic. Only at the
    top level of the graph: a branch of an If whose condition is known only at run time is
    computed whether taken or not, and its indices may be meaningless."""
    size = n.in_shape(data)[axis]
    if not n.at_top_level or n.const(indices) is not None or size == ir.ShapedType.get_dynamic_size():
        return
    indices = n.input(indices)
    shape = ir.RankedTensorType(indices.type).shape
    element = ir.RankedTensorType(indices.type).element_type
    i1, i32 = ir.IntegerType.get_signless(1), ir.IntegerType.get_signless(32)
    mask = ir.RankedTensorType.get(shape, i1)
    below = n.op("compare", [indices, _scalar(n, -size, element)], mask, predicate="lt", unsigned=0)
    above = n.op("compare", [indices, _scalar(n, size, element)], mask, predicate="ge", unsigned=0)
    outside = n.op("cast_unsigned", [n.op("or", [below, above], mask)],
                   ir.RankedTensorType.get(shape, i32))
    scalar = ir.RankedTensorType.get([], i32)
    failed = (n.op("reduce_max", [outside], scalar, axes=list(range(len(shape))))
              if shape else outside)
    n.add_check(failed, f"an index along axis {axis} is outside [-{size}, {size - 1}]")


def status(failed: list[ir.Value], constant, loc: ir.Location) -> ir.Value:
    """max_k(failed_k * (k + 1)): the number of the last check that failed, 0 when none;
    `constant(array)` builds a constant."""
    def op(name, a, b):
        return ir.Operation.create(f"mlc.{name}", results=[a.type], operands=[a, b], loc=loc).result

    result = None
    for k, flag in enumerate(failed):
        numbered = op("mul", flag, constant(np.array(k + 1, np.int32)))
        result = numbered if result is None else op("max", result, numbered)
    return result
