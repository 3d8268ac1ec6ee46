"""Small builders that make lowerings read like the math: tensors, scalars and linalg.generic.

Every function builds at the current insertion point and location. Element-type dispatch
(float vs. integer arith ops) lives here once, so op lowerings never branch on types.
"""

from collections.abc import Callable, Sequence

from mlir import ir
from mlir.dialects import arith, linalg, math, tensor



def iterator(kind: str) -> ir.Attribute:
    return ir.Attribute.parse(f"#linalg.iterator_type<{kind}>")


def is_float(t: ir.Type) -> bool:
    return isinstance(t, (ir.F16Type, ir.BF16Type, ir.F32Type, ir.F64Type))


def ranked(value: ir.Value) -> ir.RankedTensorType:
    return ir.RankedTensorType(value.type)


def shape_of(value: ir.Value) -> list[int]:
    return list(ranked(value).shape)


def elem_of(value: ir.Value) -> ir.Type:
    return ranked(value).element_type


def tensor_of(shape: Sequence[int], elem: ir.Type) -> ir.RankedTensorType:
    return ir.RankedTensorType.get(list(shape), elem)


# -- scalars ---------------------------------------------------------------------------------
def const(value: float | int, elem: ir.Type) -> ir.Value:
    if is_float(elem):
        return arith.constant(elem, ir.FloatAttr.get(elem, float(value)))
    return arith.constant(elem, ir.IntegerAttr.get(elem, int(value)))


def lowest(elem: ir.Type) -> ir.Value:
    """The identity of max: -inf for floats, the minimum integer otherwise."""
    if is_float(elem):
        return const(float("-inf"), elem)
    width = ir.IntegerType(elem).width
    return const(-(1 << (width - 1)), elem)


def add(a, b):
    return arith.addf(a, b) if is_float(a.type) else arith.addi(a, b)


def sub(a, b):
    return arith.subf(a, b) if is_float(a.type) else arith.subi(a, b)


def mul(a, b):
    return arith.mulf(a, b) if is_float(a.type) else arith.muli(a, b)


def div(a, b):
    return arith.divf(a, b) if is_float(a.type) else arith.divsi(a, b)


def maximum(a, b):
    return arith.maximumf(a, b) if is_float(a.type) else arith.maxsi(a, b)


def exp(a):
    return math.exp(a)


# -- tensors ----------------------------------------------------------------------------------
def empty(shape: Sequence[int], elem: ir.Type) -> ir.Value:
    return tensor.empty(list(shape), elem)


def filled(shape: Sequence[int], elem: ir.Type, value: ir.Value) -> ir.Value:
    return linalg.fill(value, outs=[empty(shape, elem)])


def pad(value: ir.Value, low: Sequence[int], high: Sequence[int], fill: ir.Value) -> ir.Value:
    """`value` inside a border of `fill`: a filled tensor with `value` inserted at `low`.

    Not tensor.pad, which bufferizes into a scalar loop nest; a linalg.fill and an inserted
    slice become vector stores and a vectorized copy."""
    if not any(low) and not any(high):
        return value
    inner = shape_of(value)
    shape = [s + lo + hi for s, lo, hi in zip(inner, low, high)]
    border = filled(shape, elem_of(value), fill)
    return tensor.insert_slice(value, border, [], [], [], list(low), inner, [1] * len(shape))


def collapse_to(value: ir.Value, shape: Sequence[int]) -> ir.Value:
    """Reshape by collapsing everything to 1-D and expanding to `shape` (static shapes)."""
    src = shape_of(value)
    if src == list(shape):
        return value
    elem = elem_of(value)
    flat = value
    if not src:  # rank 0 grows to [1] by an expand; a collapse cannot raise the rank
        flat = tensor.expand_shape(tensor_of([1], elem), value, [], [], [1])
    elif len(src) != 1:
        flat = tensor.collapse_shape(tensor_of([_prod(src)], elem), value, [list(range(len(src)))])
    if len(shape) == 1:
        return flat
    if not shape:  # [1] shrinks to rank 0 by a collapse
        return tensor.collapse_shape(tensor_of([], elem), flat, [])
    return tensor.expand_shape(tensor_of(shape, elem), flat, [list(range(len(shape)))], [],
                               list(shape))


def _prod(xs):
    p = 1
    for x in xs:
        p *= x
    return p


# -- linalg.generic ---------------------------------------------------------------------------
def affine_map(rank: int, exprs: Sequence[ir.AffineExpr]) -> ir.AffineMap:
    return ir.AffineMap.get(rank, 0, list(exprs))


def broadcast_map(in_shape: Sequence[int], out_shape: Sequence[int]) -> ir.AffineMap:
    """numpy broadcasting: align right, a size-1 input dim reads index 0."""
    rank, offset = len(out_shape), len(out_shape) - len(in_shape)
    exprs = [ir.AffineConstantExpr.get(0) if size == 1 and out_shape[offset + i] != 1
             else ir.AffineDimExpr.get(offset + i) for i, size in enumerate(in_shape)]
    return affine_map(rank, exprs)


def generic(inputs: Sequence[ir.Value], inits: Sequence[ir.Value], maps: Sequence[ir.AffineMap],
            iterators: Sequence[str], body: Callable[..., ir.Value | Sequence[ir.Value]]) -> ir.Value:
    """linalg.generic whose region is `body(*input_scalars, *init_scalars) -> yielded`."""
    op = linalg.GenericOp([i.type for i in inits], list(inputs), list(inits),
                          ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps]),
                          ir.ArrayAttr.get([iterator(k) for k in iterators]))
    elems = [elem_of(v) for v in [*inputs, *inits]]
    block = op.regions[0].blocks.append(*elems)
    with ir.InsertionPoint(block):
        result = body(*block.arguments)
        linalg.YieldOp(list(result) if isinstance(result, (list, tuple)) else [result])
    return op.results[0] if len(op.results) == 1 else list(op.results)


def clone_ops(ops: Sequence, mapping: dict) -> dict:
    """Clones `ops` (from another region) at the insertion point, each operand found in
    `mapping` replaced by its image; returns `mapping` with the clones' results added."""
    for op in ops:
        clone = op.clone()
        for i, operand in enumerate(clone.operands):
            for old, new in mapping.items():
                if operand == old:
                    clone.operands[i] = new
                    break
        for old, new in zip(op.results, clone.results):
            mapping[old] = new
    return mapping


def elementwise(result_type: ir.RankedTensorType, inputs: Sequence[ir.Value],
                body: Callable[..., ir.Value]) -> ir.Value:
    """result[i...] = body(inputs broadcast to the result shape at i...)."""
    out_shape = list(result_type.shape)
    rank = len(out_shape)
    maps = [broadcast_map(shape_of(v), out_shape) for v in inputs]
    maps.append(affine_map(rank, [ir.AffineDimExpr.get(d) for d in range(rank)]))
    init = empty(out_shape, result_type.element_type)
    return generic(inputs, [init], maps, ["parallel"] * rank, lambda *args: body(*args[:-1]))


def identity_map(rank: int) -> ir.AffineMap:
    return affine_map(rank, [ir.AffineDimExpr.get(d) for d in range(rank)])


def dims_map(rank: int, dims: Sequence[int]) -> ir.AffineMap:
    """The map (d0, ..., d{rank-1}) -> (d{dims[0]}, d{dims[1]}, ...)."""
    return affine_map(rank, [ir.AffineDimExpr.get(d) for d in dims])


def reduce(value: ir.Value, axes: Sequence[int], init: ir.Value,
           combine: Callable[[ir.Value, ir.Value], ir.Value]) -> ir.Value:
    """Reduces `value` over `axes` (dropped from the result) starting from scalar `init`."""
    shape = shape_of(value)
    rank = len(shape)
    kept = [d for d in range(rank) if d not in axes]
    acc = filled([shape[d] for d in kept], elem_of(value), init)
    iterators = ["reduction" if d in axes else "parallel" for d in range(rank)]
    return generic([value], [acc], [identity_map(rank), dims_map(rank, kept)], iterators,
                   lambda x, a: combine(a, x))


def expand_dims_to(value: ir.Value, shape: Sequence[int]) -> ir.Value:
    """Reshape a tensor to `shape` that only adds unit dims (e.g. a reduced axis kept)."""
    return collapse_to(value, shape)


def loop_nest(shape: Sequence[int], init: ir.Value,
              body: Callable[[list[ir.Value], ir.Value], ir.Value]) -> ir.Value:
    """Sequential scf.for loops over `shape` carrying one tensor: `body(ivs, acc) -> acc`.

    For updates whose order matters (scatters with duplicate indices); bufferization turns the
    carried tensor into one buffer updated in place.
    """
    from mlir.dialects import scf

    index = ir.IndexType.get()
    c0, c1 = arith.constant(index, 0), arith.constant(index, 1)

    def level(d: int, ivs: list[ir.Value], acc: ir.Value) -> ir.Value:
        if d == len(shape):
            return body(ivs, acc)
        loop = scf.ForOp(c0, arith.constant(index, shape[d]), c1, [acc])
        with ir.InsertionPoint(loop.body):
            scf.YieldOp([level(d + 1, ivs + [loop.induction_variable], loop.inner_iter_args[0])])
        return loop.results[0]

    return level(0, [], init)
