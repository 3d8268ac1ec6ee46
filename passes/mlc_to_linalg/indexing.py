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
    size = lb.dim(data, axis) if lb.is_dynamic(dim) else dim

    def body(i, _):
        at = [linalg.IndexOp(d).result for d in range(rank)]
        coords = at[:axis] + [_as_index(i, size)] + at[axis + q:]
        return tensor.extract(data, coords)

    like = ([(data, d) for d in range(axis)] + [(indices, k) for k in range(q)]
            + [(data, d) for d in range(axis + 1, len(lb.shape_of(data)))])
    init = lb.empty(list(result.shape), result.element_type, like)
    return lb.generic([indices], [init], [lb.dims_map(rank, range(axis, axis + q)),
                                          lb.identity_map(rank)], ["parallel"] * rank, body)


PATTERNS = {"mlc.gather": lower_gather}


def _attr_int(op, name: str) -> int:
    return ir.IntegerAttr(op.attributes[name]).value


def _as_index(i: ir.Value, dim: "int | ir.Value", clamp: bool = True) -> ir.Value:
    """An integer index as `index`, negative ones counting from the end of a dim of size `dim`;
    with `clamp`, kept inside the dim, so that an index value out of range (which ONNX makes an
    error, and a kernel cannot report) never reads or writes outside the buffer."""
    if lb.is_float(i.type):  # OneHot allows float indices: truncated toward zero
        i = arith.fptosi(ir.IntegerType.get_signless(64), i)
    i = arith.index_cast(ir.IndexType.get(), i)
    zero = arith.constant(ir.IndexType.get(), 0)
    size = dim if isinstance(dim, ir.Value) else arith.constant(ir.IndexType.get(), dim)
    i = arith.select(arith.cmpi(arith.CmpIPredicate.slt, i, zero), arith.addi(i, size), i)
    if not clamp:
        return i
    last = arith.subi(size, arith.constant(ir.IndexType.get(), 1))
    return arith.minsi(arith.maxsi(i, zero), last)


def lower_gather_elements(op):
    data, indices = op.operands
    result = ir.RankedTensorType(op.results[0].type)
    axis = _attr_int(op, "axis")
    rank = len(result.shape)
    dim = lb.shape_of(data)[axis]

    size = lb.dim(data, axis) if lb.is_dynamic(dim) else dim

    def body(i, _):
        coords = [linalg.IndexOp(d).result for d in range(rank)]
        coords[axis] = _as_index(i, size)
        return tensor.extract(data, coords)

    return lb.generic([indices], [lb.empty(list(result.shape), result.element_type, indices)],
                      [lb.identity_map(rank)] * 2, ["parallel"] * rank, body)


def lower_gather_nd(op):
    data, indices = op.operands
    result = ir.RankedTensorType(op.results[0].type)
    batch = _attr_int(op, "batch_dims")
    data_shape, index_shape = lb.shape_of(data), lb.shape_of(indices)
    depth = index_shape[-1]
    rank, leading = len(result.shape), len(index_shape) - 1
    index = ir.IndexType.get()

    def body(_):
        at = [linalg.IndexOp(d).result for d in range(rank)]
        tuple_at = at[:leading]
        addressed = [_as_index(tensor.extract(indices, tuple_at + [arith.constant(index, j)]),
                               data_shape[batch + j]) for j in range(depth)]
        return tensor.extract(data, at[:batch] + addressed + at[leading:])

    return lb.generic([], [lb.empty(list(result.shape), result.element_type)],
                      [lb.identity_map(rank)], ["parallel"] * rank, body)


def _combine(reduction: str):
    from mlc.passes.mlc_to_linalg.elementwise import minimum

    return {"none": None, "add": lb.add, "mul": lb.mul, "max": lb.maximum, "min": minimum}[reduction]


def _scatter(op, coords_of) -> ir.Value:
    """Writes updates[p] at coords_of(p) into a copy of data, in order (later updates win)."""
    data, indices, updates = op.operands
    combine = _combine(ir.StringAttr(op.attributes["reduction"]).value)

    def body(ivs, acc):
        coords = coords_of(ivs)
        value = tensor.extract(updates, ivs)
        if combine is not None:
            value = combine(tensor.extract(acc, coords), value)
        return tensor.insert(value, acc, coords)

    return lb.loop_nest(lb.shape_of(updates), data, body)


def lower_scatter_elements(op):
    data, indices, _ = op.operands
    axis = _attr_int(op, "axis")
    dim = lb.shape_of(data)[axis]

    def coords_of(ivs):
        coords = list(ivs)
        coords[axis] = _as_index(tensor.extract(indices, ivs), dim)
        return coords

    return _scatter(op, coords_of)


def lower_scatter_nd(op):
    data, indices, _ = op.operands
    data_shape, index_shape = lb.shape_of(data), lb.shape_of(indices)
    depth, leading = index_shape[-1], len(index_shape) - 1
    index = ir.IndexType.get()

    def coords_of(ivs):
        tuple_at = list(ivs[:leading])
        addressed = [_as_index(tensor.extract(indices, tuple_at + [arith.constant(index, j)]),
                               data_shape[j]) for j in range(depth)]
        return addressed + list(ivs[leading:])

    return _scatter(op, coords_of)


def lower_one_hot(op):
    indices, values = op.operands
    result = ir.RankedTensorType(op.results[0].type)
    axis = _attr_int(op, "axis")
    rank = len(result.shape)
    depth = result.shape[axis]
    index = ir.IndexType.get()
    off = tensor.extract(values, [arith.constant(index, 0)])
    on = tensor.extract(values, [arith.constant(index, 1)])

    def body(i, _):
        # An index out of [-depth, depth) matches no position: the row is all `off`.
        hit = arith.cmpi(arith.CmpIPredicate.eq, _as_index(i, depth, clamp=False),
                         linalg.IndexOp(axis).result)
        return arith.select(hit, on, off)

    others = [d for d in range(rank) if d != axis]
    return lb.generic([indices], [lb.empty(list(result.shape), result.element_type)],
                      [lb.dims_map(rank, others), lb.identity_map(rank)], ["parallel"] * rank, body)


PATTERNS.update({
    "mlc.gather_elements": lower_gather_elements,
    "mlc.gather_nd": lower_gather_nd,
    "mlc.scatter_elements": lower_scatter_elements,
    "mlc.scatter_nd": lower_scatter_nd,
    "mlc.one_hot": lower_one_hot,
})
