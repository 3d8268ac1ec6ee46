"""Indexing mlc ops -> linalg.generic reading the data tensor with tensor.extract.

gather: result[o..., i..., t...] = data[o..., indices[i...], t...] over the iteration space
of the result; the indices operand is read through a map, the data operand is captured by the
region and read at computed coordinates.
"""

from mlir import ir
from mlir.dialects import arith, linalg, tensor

from mlc.passes import linalg_builders as lb


def lower_gather(op):
    data, indices = op.operands
    result = ir.RankedTensorType(op.results[0].type)
    axis = ir.IntegerAttr(op.attributes["axis"]).value
    rank, q = len(result.shape), len(lb.shape_of(indices))
    dim = lb.shape_of(data)[axis]
    index = ir.IndexType.get()

    def body(i, _):
        # Negative indices count from the end of the axis.
        fixed = arith.select(arith.cmpi(arith.CmpIPredicate.slt, i, lb.const(0, i.type)),
                             arith.addi(i, lb.const(dim, i.type)), i)
        at = [linalg.IndexOp(d).result for d in range(rank)]
        coords = at[:axis] + [arith.index_cast(index, fixed)] + at[axis + q:]
        return tensor.extract(data, coords)

    init = lb.empty(list(result.shape), result.element_type)
    return lb.generic([indices], [init], [lb.dims_map(rank, range(axis, axis + q)),
                                          lb.identity_map(rank)], ["parallel"] * rank, body)


PATTERNS = {"mlc.gather": lower_gather}
