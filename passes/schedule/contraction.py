"""Contractions written as `linalg.generic`, recovered as the `linalg.matmul`s they are.

Several things leave a matrix product as a generic no schedule matches, which then ran as
naive loops over weights read with a stride of N floats:
  - N-D MatMul (a transformer's projections, [1, S, H] @ [H, H'], and attention's batched
    [B, heads, S, D] @ [B, heads, D, S]) lowers to a generic over all its dims;
  - `linalg-fuse-elementwise-ops` (linalg stage) folds reshapes into their users by expanding
    the iteration space: a Flatten before a Gemm (AlexNet, VGG) becomes
    C[m, n] += A[m, c, h, w] * B[c, h, w, n], a head split [S, H] -> [S, heads, D] spreads N;
  - elementwise fusion pulls an operand's producer into the body (a GlobalAveragePool's
    1/(H*W) before ResNet's classifier, softmax's division before attention's product with V):
    out + f(a, ...) * b.

`recover_matmul` classifies the dims as in linalg's contraction inference: batch (in A, B and
C), M (A and C), N (B and C), K (A and B, reductions). When each operand lists them in matmul
order (A: batch, M, K; B: batch, K, N; C: batch, M, N), it computes a prologue as its own
elementwise op, collapses every group into one dim (free views of contiguous memory) and
writes one `linalg.matmul` per batch entry.
"""

import math

from mlir import ir
from mlir.dialects import linalg, tensor

from mlc.passes import linalg_builders as lb

MAX_BATCH = 64  # batch entries unrolled into matmuls; more stay naive


def map_dims(affine_map: ir.AffineMap) -> list[int] | None:
    """The dims a projected-permutation map reads, in order; None for any other map."""
    positions = []
    for expr in affine_map.results:
        expr = expr.maybe_downcast()
        if not isinstance(expr, ir.AffineDimExpr):
            return None
        positions.append(expr.position)
    return positions


def _arguments_behind(value: ir.Value, body_ops: list, args: list) -> set | None:
    """The block arguments `value` is computed from (through `body_ops`); None when it uses an
    op with a region or one of the linalg dialect."""
    if any(value == a for a in args):
        return {next(i for i, a in enumerate(args) if value == a)}
    op = lb.producer(value)
    if op is None or not any(op == o for o in body_ops):
        return set()  # defined outside the body
    if op.regions or op.name.startswith("linalg."):
        return None
    found = set()
    for operand in op.operands:
        more = _arguments_behind(operand, body_ops, args)
        if more is None:
            return None
        found |= more
    return found


def _factors(op) -> tuple | None:
    """For a body out + x * y: ((input indices x is computed from, x), (those of y, y)), the
    two sets disjoint and without the output; None for any other body."""
    block = op.regions[0].blocks[0]
    ops = list(block.operations)
    if len(ops) < 3 or [o.name for o in ops[-3:]] != ["arith.mulf", "arith.addf", "linalg.yield"]:
        return None
    args = list(block.arguments)
    mul, add = ops[-3], ops[-2]
    if {add.operands[0], add.operands[1]} != {mul.results[0], args[-1]}:
        return None
    if ops[-1].operands[0] != add.results[0]:
        return None
    sides = []
    for factor in mul.operands:
        behind = _arguments_behind(factor, ops[:-3], args)
        if not behind or len(args) - 1 in behind:
            return None
        sides.append((behind, factor))
    if sides[0][0] & sides[1][0]:
        return None
    return tuple(sides)


def _main(indices: set, maps: list) -> int | None:
    """The input whose map covers the dims of every input in `indices`."""
    covered = set().union(*(set(maps[i]) for i in indices))
    best = [i for i in indices if set(maps[i]) == covered and len(maps[i]) == len(covered)]
    return best[0] if best else None


def _prologue(op, indices: set, main: int, factor: ir.Value, maps: list) -> ir.Value:
    """The factor as a tensor shaped like input `main`: the input itself when the factor is
    its block argument, else an elementwise op computing the factor from those inputs."""
    block = op.regions[0].blocks[0]
    args = list(block.arguments)
    value = op.operands[main]
    if factor == args[main]:
        return value
    order = maps[main]  # the new op's dim p is the old dim order[p]
    rank = len(order)
    inputs = sorted(indices)
    new_maps = [lb.affine_map(rank, [ir.AffineDimExpr.get(order.index(d)) for d in maps[i]])
                for i in inputs]
    shape = lb.shape_of(value)
    body_ops = _ops_behind(factor, list(block.operations)[:-3])

    def body(*scalars):
        mapping = {args[i]: s for i, s in zip(inputs, scalars)}
        return lb.clone_ops(body_ops, mapping).get(factor, factor)

    return lb.generic([op.operands[i] for i in inputs], [lb.empty(shape, lb.elem_of(value))],
                      new_maps + [lb.identity_map(rank)], ["parallel"] * rank, body)


def _ops_behind(value: ir.Value, body_ops: list) -> list:
    """The body ops `value` is computed by, in body order (the other factor's are left out)."""
    needed, pending = [], [value]
    while pending:
        op = lb.producer(pending.pop())
        if op is not None and any(op == o for o in body_ops) and not any(op == n for n in needed):
            needed.append(op)
            pending.extend(op.operands)
    return [o for o in body_ops if any(o == n for n in needed)]


def _groups(a: list, b: list, c: list) -> tuple | None:
    """(batch, m, n, k) dim lists when A, B and C list them in matmul order; else None."""
    batch = [d for d in c if d in a and d in b]
    m = [d for d in c if d in a and d not in b]
    n = [d for d in c if d in b and d not in a]
    k = [d for d in a if d in b and d not in c]
    if a != batch + m + k or b != batch + k + n or c != batch + m + n or not (m and n and k):
        return None
    return batch, m, n, k


def _reassociation(groups: list[int]) -> list[list[int]]:
    """Consecutive dims in groups of the given lengths (zero-length groups dropped)."""
    result, start = [], 0
    for length in groups:
        if length:
            result.append(list(range(start, start + length)))
            start += length
    return result


def _reshape(value: ir.Value, groups: list[int]) -> ir.Value:
    """`value` with consecutive dims merged into groups of the given lengths (a free view)."""
    shape = lb.shape_of(value)
    reassociation = _reassociation(groups)
    new_shape = [math.prod(shape[g[0]:g[-1] + 1]) for g in reassociation]
    if new_shape == shape:
        return value
    return tensor.collapse_shape(lb.tensor_of(new_shape, lb.elem_of(value)), value, reassociation)


def _batched_matmul(a3: ir.Value, b3: ir.Value, c3: ir.Value) -> ir.Value:
    """C[i] += A[i] @ B[i] for each batch entry i, one linalg.matmul each."""
    batches, m, k = lb.shape_of(a3)
    n = lb.shape_of(b3)[2]
    elem = lb.elem_of(c3)
    result = c3
    for i in range(batches):
        def entry(value, rows, cols):
            return tensor.extract_slice(lb.tensor_of([rows, cols], elem), value, [], [], [],
                                        [i, 0, 0], [1, rows, cols], [1, 1, 1])
        product = linalg.matmul(entry(a3, m, k), entry(b3, k, n), outs=[entry(result, m, n)])
        result = tensor.insert_slice(product, result, [], [], [], [i, 0, 0], [1, m, n], [1, 1, 1])
    return result


def recover_matmul(op) -> bool:
    """Rewrites a generic contraction into linalg.matmul(s); False when `op` is not one."""
    if op.name != "linalg.generic" or len(op.results) != 1 or len(op.operands) < 3:
        return False
    iterators = ["reduction" in str(it) for it in ir.ArrayAttr(op.attributes["iterator_types"])]
    maps = [map_dims(ir.AffineMapAttr(m).value) for m in ir.ArrayAttr(op.attributes["indexing_maps"])]
    if any(m is None for m in maps) or any(not lb.ranked(v).has_static_shape for v in op.operands):
        return False
    if any(not isinstance(lb.elem_of(v), ir.F32Type) for v in op.operands):
        return False
    factors = _factors(op)
    if factors is None:
        return False
    (a_inputs, x), (b_inputs, y) = factors
    a_main, b_main = _main(a_inputs, maps), _main(b_inputs, maps)
    if a_main is None or b_main is None:
        return False
    groups = _groups(maps[a_main], maps[b_main], maps[-1])
    if groups is None:
        groups = _groups(maps[b_main], maps[a_main], maps[-1])
        if groups is None:
            return False
        (a_inputs, x, a_main), (b_inputs, y, b_main) = (b_inputs, y, b_main), (a_inputs, x, a_main)
    batch, m, n, k = groups
    if any(not iterators[d] for d in k) or any(iterators[d] for d in batch + m + n):
        return False
    sizes = {}
    for value, dims in zip(op.operands, maps):
        for d, size in zip(dims, lb.shape_of(value)):
            sizes[d] = size
    batches = math.prod(sizes[d] for d in batch)
    if batches > MAX_BATCH:
        return False
    with ir.InsertionPoint(op), op.location:
        a = _prologue(op, a_inputs, a_main, x, maps)
        b = _prologue(op, b_inputs, b_main, y, maps)
        c = op.operands[len(op.operands) - 1]
        a3 = _reshape(a, [len(batch), len(m), len(k)])
        b3 = _reshape(b, [len(batch), len(k), len(n)])
        c3 = _reshape(c, [len(batch), len(m), len(n)])
        if not batch:
            product = linalg.matmul(a3, b3, outs=[c3])
        else:
            product = _batched_matmul(a3, b3, c3)
        result_type = op.results[0].type
        if product.type != result_type:
            product = tensor.expand_shape(result_type, product,
                                          _reassociation([len(batch), len(m), len(n)]), [],
                                          list(ir.RankedTensorType(result_type).shape))
    op.results[0].replace_all_uses_with(product)
    op.erase()
    return True
