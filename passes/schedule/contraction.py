"""Matmuls that reshape propagation turned into generics, recovered as `linalg.matmul`.

`linalg-fuse-elementwise-ops` (linalg stage) folds a collapsing reshape into the op that
uses it by expanding that op's iteration space. A Flatten before a Gemm (AlexNet, VGG,
ZFNet) so becomes a `linalg.generic` computing
    C[m, n] += A[m, k1, k2, k3] * B[k1, k2, k3, n]
which no schedule matches: it ran as naive loops over a weight read with a stride of N floats.
Elementwise fusion may also have pulled an operand's producer into the body (a
GlobalAveragePool's 1/(H*W) before ResNet's classifier: out + (a * s) * b).
`recover_matmul` computes such a prologue as its own elementwise op over that operand,
collapses the reduction dims of both operands back into one K (free views of contiguous
memory) and writes the op as the `linalg.matmul` it is.
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


def _depends_only_on(value: ir.Value, arg: ir.Value, body_ops: list) -> bool:
    """`value` is computed from block argument `arg` and values from outside the body."""
    if value == arg:
        return True
    owner = value.owner
    op = owner.operation if hasattr(owner, "operation") else None
    if op is None or not any(op == o for o in body_ops):
        return not isinstance(owner, ir.Block)  # defined outside the body
    return all(_depends_only_on(v, arg, body_ops) for v in op.operands)


def _multiply_accumulate(op) -> tuple[list, list] | None:
    """For a body out + f(in0) * g(in1): the ops of f and of g (empty when the factor is the
    argument itself); None for any other body."""
    block = op.regions[0].blocks[0]
    ops = list(block.operations)
    if len(ops) < 3 or [o.name for o in ops[-3:]] != ["arith.mulf", "arith.addf", "linalg.yield"]:
        return None
    a, b, out = block.arguments
    mul, add = ops[-3], ops[-2]
    if {add.operands[0], add.operands[1]} != {mul.results[0], out}:
        return None
    prologue_ops = ops[:-3]
    x, y = mul.operands[0], mul.operands[1]
    if not (_depends_only_on(x, a, prologue_ops) and _depends_only_on(y, b, prologue_ops)):
        x, y = y, x
        if not (_depends_only_on(x, a, prologue_ops) and _depends_only_on(y, b, prologue_ops)):
            return None
    of_a = [o for o in prologue_ops if any(_depends_only_on(r, a, prologue_ops) and r != a
                                           for r in o.results)]
    of_b = [o for o in prologue_ops if not any(o == q for q in of_a)]
    if any(o.name.startswith("linalg.") or o.regions for o in prologue_ops):
        return None
    return (of_a, x), (of_b, y)


def _apply_prologue(value: ir.Value, prologue: tuple, arg: ir.Value) -> ir.Value:
    """`value` mapped elementwise through the body ops `prologue` (from `arg` to its result)."""
    ops, result = prologue
    if not ops:
        return value
    shape, elem = lb.shape_of(value), lb.elem_of(value)
    identity = lb.identity_map(len(shape))

    def body(v, _):
        return lb.clone_ops(ops, {arg: v})[result]
    return lb.generic([value], [lb.empty(shape, elem)], [identity, identity],
                      ["parallel"] * len(shape), body)


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
           for v in op.operands):
        return False
    factors = _multiply_accumulate(op)
    if factors is None:
        return False
    a, b, c = op.operands
    block_a, block_b, _ = op.regions[0].blocks[0].arguments
    m, n = lb.shape_of(c)
    k = 1
    for size in lb.shape_of(a)[1:]:
        k *= size
    r = len(reductions)
    with ir.InsertionPoint(op), op.location:
        a = _apply_prologue(a, factors[0], block_a)
        b = _apply_prologue(b, factors[1], block_b)
        a2 = _collapse(a, [m, k], [[0], list(range(1, r + 1))])
        b2 = _collapse(b, [k, n], [list(range(r)), [r]])
        product = linalg.matmul(a2, b2, outs=[c])
    op.results[0].replace_all_uses_with(product)
    op.erase()
    return True
