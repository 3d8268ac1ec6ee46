"""Sums over trailing dims (a global average pool, with its fused ReLU6) -> one elementwise pass.

A linalg.generic that sums f(x) over its trailing dims,

    out[p...] = sum_{r0, r1...} f(x[p..., r0, r1...])

has no schedule (the elementwise one takes all-parallel ops only), so it lowers to scalar
loops. Split at the first summed dim, whose `r0` slices become inputs of one all-parallel op,

    partial[p..., r1...] = sum_{r0} f(x[p..., r0, r1...])      (vectorized along the last dim)
    out[p...] = sum_{r1...} partial[p..., r1...]              (R0 times smaller, left naive)

the heavy part (f on every element and most of the adds) runs as vectors. The order of the
additions changes, as any vectorized sum changes it.
"""

from mlir import ir
from mlir.dialects import tensor

from mlc.passes import linalg_builders as lb
from mlc.passes.schedule.matmul import static_f32_shape

MAX_SLICES = 64  # r0 inputs at most: a generic with more operands is not worth it


def _maps(op) -> list[ir.AffineMap]:
    return [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(op.attributes["indexing_maps"])]


def _summand(op):
    """(body ops computing f, the value f yields) when the body is `out + f(in)` with `out`
    used only there; None otherwise."""
    block = op.regions[0].blocks[0]
    ops = list(block.operations)
    x, out = block.arguments
    if len(ops) < 2 or ops[-2].name != "arith.addf" or ops[-1].operands[0] != ops[-2].results[0]:
        return None
    a, b = ops[-2].operands
    term = b if a == out else a if b == out else None
    if term is None or term == out or len(list(out.uses)) != 1:
        return None
    return ops[:-2], term


def split_trailing_sum(op) -> bool:
    """Rewrites `op` as described above; False when it is not such a sum."""
    if op.name != "linalg.generic" or len(op.operands) != 2 or len(op.results) != 1:
        return False
    shape = static_f32_shape(op.operands[0]) if len(lb.shape_of(op.operands[0])) == 4 else None
    iterators = [str(it) for it in ir.ArrayAttr(op.attributes["iterator_types"])]
    kept = [d for d, it in enumerate(iterators) if "parallel" in it]
    if shape is None or len(kept) < 1 or kept != list(range(len(kept))) or len(kept) > 2:
        return False
    rank = len(shape)
    if _maps(op) != [lb.identity_map(rank), lb.dims_map(rank, kept)]:
        return False
    summand = _summand(op)
    if summand is None or shape[len(kept)] > MAX_SLICES or len(kept) + 2 != rank:
        return False
    body_ops, term = summand
    block = op.regions[0].blocks[0]
    x, init = op.operands
    lead, (r0, r1) = shape[:len(kept)], shape[len(kept):]
    elem = lb.elem_of(x)
    part_shape = [*lead, r1]
    with ir.InsertionPoint(op), op.location:
        slices = [tensor.extract_slice(lb.tensor_of(part_shape, elem), x, [], [], [],
                                       [0] * len(kept) + [i, 0], [*lead, 1, r1], [1] * rank)
                  for i in range(r0)]

        def sum_of_terms(*args):
            total = None
            for value in args[:r0]:
                mapping = lb.clone_ops(body_ops, {block.arguments[0]: value})
                f = mapping.get(term, term)
                total = f if total is None else lb.add(total, f)
            return total

        part_rank = len(part_shape)
        partial = lb.generic(slices, [lb.empty(part_shape, elem)],
                             [lb.identity_map(part_rank)] * (r0 + 1), ["parallel"] * part_rank,
                             sum_of_terms)
        result = lb.generic([partial], [init],
                            [lb.identity_map(part_rank), lb.dims_map(part_rank, kept)],
                            ["parallel"] * len(kept) + ["reduction"],
                            lambda v, acc: lb.add(acc, v))
    op.results[0].replace_all_uses_with(result)
    op.erase()
    return True
