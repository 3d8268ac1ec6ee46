"""Tensor mlc ops -> tensor/linalg: constants, reshape, transpose, concat."""

from mlir import ir
from mlir.dialects import arith, linalg, tensor

from mlc.passes import linalg_builders as lb


def lower_constant(op):
    # Weights stay attributes (dense splats or dense_resource blobs); bufferization turns
    # them into memref.globals and the llvm stage moves large ones out of the IR.
    value = op.attributes["value"]
    return arith.ConstantOp(op.results[0].type, value).result


def lower_reshape(op):
    return lb.collapse_to(op.operands[0], list(ir.RankedTensorType(op.results[0].type).shape))


def lower_transpose(op):
    result = ir.RankedTensorType(op.results[0].type)
    perm = list(ir.DenseI64ArrayAttr(op.attributes["perm"]))
    init = lb.empty(list(result.shape), result.element_type)
    return linalg.transpose(op.operands[0], outs=[init], permutation=perm)


def _concat_pieces(op, axis: int) -> list[ir.Value]:
    """The leaves of a chain of single-use concats along `axis`, in order."""
    pieces = []
    for value in op.operands:
        inner = value.owner
        if (isinstance(inner, ir.OpView) and inner.operation.name == "mlc.concat"
                and ir.IntegerAttr(inner.attributes["axis"]).value == axis
                and len(list(value.uses)) == 1):
            pieces += _concat_pieces(inner.operation, axis)
        else:
            pieces.append(value)
    return pieces


def lower_concat(op):
    result = ir.RankedTensorType(op.results[0].type)
    axis = ir.IntegerAttr(op.attributes["axis"]).value
    out = lb.empty(list(result.shape), result.element_type)
    offset = 0
    for piece in _concat_pieces(op, axis):
        shape = lb.shape_of(piece)
        offsets = [offset if d == axis else 0 for d in range(len(shape))]
        out = tensor.insert_slice(piece, out, [], [], [], offsets, shape, [1] * len(shape))
        offset += shape[axis]
    return out


PATTERNS = {
    "mlc.constant": lower_constant,
    "mlc.reshape": lower_reshape,
    "mlc.transpose": lower_transpose,
    "mlc.concat": lower_concat,
}
