"""mlc.matmul -> linalg.matmul (2-D) or a batched contraction with broadcast batch dims."""

from mlir import ir
from mlir.dialects import linalg

from mlc.passes import linalg_builders as lb


def lower_matmul(op):
    lhs, rhs = op.operands
    result = ir.RankedTensorType(op.results[0].type)
    out_shape, elem = list(result.shape), result.element_type
    batch = out_shape[:-2]
    l_shape, r_shape = lb.shape_of(lhs), lb.shape_of(rhs)
    # Dynamic sizes: batch dims from a broadcast operand, m from A, n from B.
    batch_sources = lb.broadcast_sources([lhs, rhs], out_shape)[:-2] if batch else []
    like = [*batch_sources, (lhs, len(l_shape) - 2), (rhs, len(r_shape) - 1)]
    acc = lb.filled(out_shape, elem, lb.const(0, elem), like)
    if len(out_shape) == 2:
        return linalg.matmul(lhs, rhs, outs=[acc])
    # C[b..., m, n] += A[b..., m, k] * B[b..., k, n], batch dims broadcast numpy-style.
    rank = len(out_shape) + 1
    d = [ir.AffineDimExpr.get(i) for i in range(rank)]
    m, n, k = d[-3], d[-2], d[-1]

    def operand_map(shape, rows, cols):
        # The batch dims come first in the iteration space, so the batch-only broadcast
        # map's expressions are valid here as they are.
        lead = list(lb.broadcast_map(shape[:-2], batch).results) if batch else []
        return lb.affine_map(rank, [*lead, rows, cols])

    maps = [operand_map(lb.shape_of(lhs), m, k), operand_map(lb.shape_of(rhs), k, n),
            lb.affine_map(rank, [*d[:-3], m, n])]
    iterators = ["parallel"] * (rank - 1) + ["reduction"]
    return lb.generic([lhs, rhs], [acc], maps, iterators,
                      lambda a, b, c: lb.add(c, lb.mul(a, b)))


PATTERNS = {"mlc.matmul": lower_matmul}
