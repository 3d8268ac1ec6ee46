"""Matmuls that reshape propagation turned into generics, recovered as `linalg.matmul`.

`linalg-fuse-elementwise-ops` (linalg stage) folds a collapsing reshape into the op that
uses it by expanding that op's iteration space. A Flatten before a Gemm (AlexNet, VGG,
ZFNet) so becomes a `linalg.generic` computing
    C[m, n] += A[m, k1, k2, k3] * B[k1, k2, k3, n]
which no schedule matches: it ran as naive loops over a weight read with a stride of N floats.
`recover_matmul` collapses the reduction dims of both operands back into one K (free views of
contiguous memory) and writes the op as the `linalg.matmul` it is.
"""

from mlir import ir
from mlir.dialects import linalg, tensor

from mlc.passes import linalg_builders as lb


def _dims(affine_map: ir.AffineMap) -> list[int] | None:
    positions = []
    for expr in affine_map.results:
        expr = expr.maybe_downcast()
        if not isinstance(expr, ir.AffineDimExpr):
            return None
        positions.append(expr.position)
    return positions


def _is_multiply_accumulate(op) -> bool:
    """The body is out + in0 * in1 (in either order), in f32."""
    block = op.regions[0].blocks[0]
    ops = list(block.operations)
    if len(ops) != 3 or [o.name for o in ops] != ["arith.mulf", "arith.addf", "linalg.yield"]:
        return False
    a, b, out = block.arguments
    mul, add = ops[0], ops[1]
    if {mul.operands[0], mul.operands[1]} != {a, b} or mul.operands[0] == mul.operands[1]:
        return False
    return {add.operands[0], add.operands[1]} == {mul.results[0], out}


def _collapse(value: ir.Value, shape: list[int], reassociation) -> ir.Value:
    return tensor.collapse_shape(lb.tensor_of(shape, lb.elem_of(value)), value, reassociation)


def recover_matmul(op) -> bool:
    """Rewrites a generic C[m, n] += A[m, K...] * B[K..., n] into linalg.matmul; False when
    `op` is not one."""
    if op.name != "linalg.generic" or len(op.operands) != 3 or len(op.results) != 1:
        return False
    iterators = [str(it) for it in ir.ArrayAttr(op.attributes["iterator_types"])]
    if iterators[:2] != ["#linalg.iterator_type<parallel>"] * 2 or \
            any("reduction" not in it for it in iterators[2:]) or len(iterators) < 3:
        return False
    maps = [_dims(ir.AffineMapAttr(m).value) for m in ir.ArrayAttr(op.attributes["indexing_maps"])]
    reductions = list(range(2, len(iterators)))
    if maps != [[0, *reductions], [*reductions, 1], [0, 1]]:
        return False
    if any(not lb.ranked(v).has_static_shape or not isinstance(lb.elem_of(v), ir.F32Type)
           for v in op.operands) or not _is_multiply_accumulate(op):
        return False
    a, b, c = op.operands
    m, n = lb.shape_of(c)
    k = 1
    for size in lb.shape_of(a)[1:]:
        k *= size
    r = len(reductions)
    with ir.InsertionPoint(op), op.location:
        a2 = _collapse(a, [m, k], [[0], list(range(1, r + 1))])
        b2 = _collapse(b, [k, n], [list(range(r)), [r]])
        product = linalg.matmul(a2, b2, outs=[c])
    op.results[0].replace_all_uses_with(product)
    op.erase()
    return True
