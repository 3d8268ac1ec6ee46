"""Tensor mlc ops -> tensor/linalg: constants, reshape, transpose, concat."""

import math

from mlir import ir
from mlir.dialects import arith, linalg, tensor
from mlir.dialects import math as math_d

from mlc.passes import linalg_builders as lb

from . import shape


def lower_constant(op):
    # Weights stay attributes (dense splats or dense_resource blobs); bufferization turns
    # them into memref.globals and the llvm stage moves large ones out of the IR.
    value = op.attributes["value"]
    return arith.ConstantOp(op.results[0].type, value).result


def lower_reshape(op):
    x, result = op.operands[0], ir.RankedTensorType(op.results[0].type)
    if lb.keeps_dynamic_dims(lb.shape_of(x), list(result.shape)):
        return lb.collapse_to(x, list(result.shape))
    # Dynamic dims merged or split, one dynamic dim in the result: it takes what is left.
    total = _index(1)
    for d, size in enumerate(lb.shape_of(x)):
        total = arith.muli(total, lb.dim(x, d) if lb.is_dynamic(size) else _index(size))
    known = _index(max(1, math.prod(s for s in result.shape if not lb.is_dynamic(s))))
    return shape.reshape_flat(x, result, [arith.divui(total, known)])


def lower_transpose(op):
    result = ir.RankedTensorType(op.results[0].type)
    perm = list(ir.DenseI64ArrayAttr(op.attributes["perm"]))
    init = lb.empty(list(result.shape), result.element_type, [(op.operands[0], p) for p in perm])
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
    pieces = _concat_pieces(op, axis)
    # A dynamic dim is never the axis: every piece has the result's size there.
    out = lb.empty(list(result.shape), result.element_type, pieces[0])
    offset = 0
    for piece in pieces:
        shape = lb.shape_of(piece)
        offsets = [offset if d == axis else 0 for d in range(len(shape))]
        sizes = [lb.dim(piece, d) for d in range(len(shape)) if lb.is_dynamic(shape[d])]
        out = tensor.insert_slice(piece, out, [], sizes, [], offsets, shape, [1] * len(shape))
        offset += shape[axis]
    return out


def _ints(op, name: str) -> list[int]:
    return list(ir.DenseI64ArrayAttr(op.attributes[name]))


def _result(op) -> ir.RankedTensorType:
    return ir.RankedTensorType(op.results[0].type)


def lower_broadcast(op):
    return lb.elementwise(_result(op), [op.operands[0]], lambda x: x)


def lower_slice(op):
    x = op.operands[0]
    result = _result(op)
    offsets, strides = _ints(op, "offsets"), _ints(op, "strides")
    sizes = list(result.shape)
    # A dynamic dim is never sliced (the importer slices those with dynamic_slice): it keeps
    # the input's size.
    dynamic = [lb.dim(x, d) for d, size in enumerate(sizes) if lb.is_dynamic(size)]
    if all(s > 0 for s in strides):
        return tensor.extract_slice(result, x, [], dynamic, [], offsets, sizes, strides)
    # A negative step reads backwards: the map d -> offset + stride * d is still affine.
    rank = len(sizes)
    exprs = [ir.AffineConstantExpr.get(o) + ir.AffineDimExpr.get(d) * s
             for d, (o, s) in enumerate(zip(offsets, strides))]
    return lb.generic([x], [lb.empty(sizes, result.element_type, x)],
                      [lb.affine_map(rank, exprs), lb.identity_map(rank)], ["parallel"] * rank,
                      lambda v, _: v)


def _index(value: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), value)


def _index_at(vector: ir.Value, j: int) -> ir.Value:
    """Element j of a 1-D integer tensor, as an index."""
    return arith.index_cast(ir.IndexType.get(), tensor.extract(vector, [_index(j)]))


def _scalar_of(value: ir.Value) -> ir.Value:
    """The one element of a rank-0 or one-element tensor."""
    return tensor.extract(value, [_index(0)] * len(lb.shape_of(value)))


def _per_axis(axes: ir.Value, rank: int, entries, defaults: list[ir.Value]) -> list[list[ir.Value]]:
    """For each dim d: `entries(j)` for the last j with axes[j] == d (negative counts from the
    end), else `defaults`. Straight-line index arithmetic over the run-time axes."""
    per_dim = [list(defaults) for _ in range(rank)]
    for j in range(lb.shape_of(axes)[0]):
        a = _index_at(axes, j)
        a = arith.select(arith.cmpi(arith.CmpIPredicate.slt, a, _index(0)),
                         arith.addi(a, _index(rank)), a)
        values = entries(j)
        for d in range(rank):
            hit = arith.cmpi(arith.CmpIPredicate.eq, a, _index(d))
            per_dim[d] = [arith.select(hit, v, old) for v, old in zip(values, per_dim[d])]
    return per_dim


def _slice_length(start, end, step, dim) -> ir.Value:
    """The element count of ONNX Slice along a dim of size `dim` (all index values)."""
    lt, zero, one = arith.CmpIPredicate.slt, _index(0), _index(1)
    backward = arith.cmpi(lt, step, zero)

    def clamp(v, low, high):
        v = arith.select(arith.cmpi(lt, v, zero), arith.addi(v, dim), v)
        return arith.minsi(arith.maxsi(v, low), high)

    last = arith.subi(dim, one)
    first = clamp(start, zero, arith.select(backward, last, dim))
    stop = clamp(end, arith.select(backward, _index(-1), zero), arith.select(backward, last, dim))
    span = arith.select(backward, arith.subi(first, stop), arith.subi(stop, first))
    stride = arith.select(backward, arith.subi(zero, step), step)
    return arith.maxsi(arith.ceildivsi(span, stride), zero)


def lower_dynamic_slice(op):
    x, starts, axes, steps = op.operands[:4]
    ends = op.operands[4] if len(op.operands) > 4 else None
    result = _result(op)
    shape = lb.shape_of(x)
    rank = len(shape)
    lt = arith.CmpIPredicate.slt
    # INT64_MAX as a default end: clamped to the dim.
    per_dim = _per_axis(axes, rank, lambda j: [_index_at(starts, j), _index_at(steps, j),
                                               _index_at(ends, j) if ends else _index(0)],
                        [_index(0), _index(1), _index(2**63 - 1)])
    origin, sizes = [], []
    for d, (start, step, end) in enumerate(per_dim):
        dim = lb.dim(x, d) if lb.is_dynamic(shape[d]) else _index(shape[d])
        if lb.is_dynamic(result.shape[d]):
            sizes.append(_slice_length(start, end, step, dim))
        start = arith.select(arith.cmpi(lt, start, _index(0)), arith.addi(start, dim), start)
        # Clamped as ONNX says: into [0, dim] going forward, [0, dim - 1] going backward.
        high = arith.select(arith.cmpi(lt, step, _index(0)), arith.subi(dim, _index(1)), dim)
        origin.append((arith.minsi(arith.maxsi(start, _index(0)), high), step))

    def body(_):
        coords = [arith.addi(start, arith.muli(linalg.IndexOp(d).result, step))
                  for d, (start, step) in enumerate(origin)]
        return tensor.extract(x, coords)

    out = iter(sizes)
    init = tensor.empty([next(out) if lb.is_dynamic(s) else s for s in result.shape],
                        result.element_type)
    return lb.generic([], [init], [lb.identity_map(rank)], ["parallel"] * rank, body)


def _source_index(mode: str, j: ir.Value, size: int) -> tuple[ir.Value, ir.Value | None]:
    """(input index, inside) for padded position j (output index minus the low pad).

    `inside` is only computed for constant mode, where positions outside read the fill value.
    """
    zero, last = _index(0), _index(size - 1)
    if mode == "constant":
        inside = arith.andi(arith.cmpi(arith.CmpIPredicate.sge, j, zero),
                            arith.cmpi(arith.CmpIPredicate.slt, j, _index(size)))
        return arith.minsi(arith.maxsi(j, zero), last), inside
    if mode == "edge":
        return arith.minsi(arith.maxsi(j, zero), last), None
    if mode == "wrap":
        n = _index(size)
        return arith.remsi(arith.addi(arith.remsi(j, n), n), n), None
    # reflect: -j before the start, 2 (size - 1) - j past the end (pads are narrower than dims)
    j = arith.maxsi(j, arith.subi(zero, j))
    return arith.minsi(j, arith.subi(_index(2 * (size - 1)), j)), None


def _pad_by_gather(x: ir.Value, result: ir.RankedTensorType, low: list, mode: str,
                   fill: ir.Value | None) -> ir.Value:
    """result[i...] = x[source(i - low)...], with `fill` outside x in constant mode."""
    shape = lb.shape_of(x)
    rank = len(shape)

    def body(_):
        coords, inside = [], None
        for d in range(rank):
            src, ok = _source_index(mode, arith.subi(linalg.IndexOp(d).result, low[d]), shape[d])
            coords.append(src)
            if ok is not None:
                inside = ok if inside is None else arith.andi(inside, ok)
        value = tensor.extract(x, coords)
        return value if inside is None else arith.select(inside, value, fill)

    return lb.generic([], [lb.empty(list(result.shape), result.element_type)],
                      [lb.identity_map(rank)], ["parallel"] * rank, body)


def lower_pad(op):
    x = op.operands[0]
    result = _result(op)
    elem = result.element_type
    pads, mode = _ints(op, "pads"), ir.StringAttr(op.attributes["mode"]).value
    shape = lb.shape_of(x)
    rank = len(shape)
    low, high = pads[:rank], pads[rank:]
    if any(p < 0 for p in pads):  # negative pads crop first
        offsets = [max(-lo, 0) for lo in low]
        sizes = [s - max(-lo, 0) - max(-hi, 0) for s, lo, hi in zip(shape, low, high)]
        x = tensor.extract_slice(lb.tensor_of(sizes, elem), x, [], [], [], offsets, sizes,
                                 [1] * rank)
        low, high = [max(p, 0) for p in low], [max(p, 0) for p in high]
    if mode == "constant":
        fill = _scalar_of(op.operands[1]) if len(op.operands) > 1 else lb.const(0, elem)
        return lb.pad(x, low, high, fill)
    return _pad_by_gather(x, result, [_index(lo) for lo in low], mode, None)


def lower_dynamic_pad(op):
    x, pads, value, axes = op.operands
    mode = ir.StringAttr(op.attributes["mode"]).value
    rank = len(lb.shape_of(x))
    low = [entry[0] for entry in _per_axis(axes, rank, lambda j: [_index_at(pads, j)], [_index(0)])]
    return _pad_by_gather(x, _result(op), low, mode, _scalar_of(value))


def lower_trilu(op):
    result = _result(op)
    rank = len(result.shape)
    upper = ir.IntegerAttr(op.attributes["upper"]).value
    k = ir.IntegerAttr(op.attributes["k"]).value
    index = ir.IndexType.get()

    bound = arith.constant(index, k)
    if len(op.operands) > 1:  # a run-time k
        bound = arith.addi(bound, arith.index_cast(index, _scalar_of(op.operands[1])))

    def body(x, _):
        i, j = linalg.IndexOp(rank - 2).result, linalg.IndexOp(rank - 1).result
        diagonal = arith.subi(j, i)
        pred = arith.CmpIPredicate.sge if upper else arith.CmpIPredicate.sle
        keep = arith.cmpi(pred, diagonal, bound)
        return arith.select(keep, x, lb.const(0, x.type))

    return lb.generic([op.operands[0]], [lb.empty(list(result.shape), result.element_type)],
                      [lb.identity_map(rank)] * 2, ["parallel"] * rank, body)


def _range_length(start, delta, limit) -> ir.Value:
    """max(ceil((limit - start) / delta), 0) as an index, from rank-0 tensors."""
    s, d, l = (lb.collapse_to(v, []) for v in (start, delta, limit))
    s, d, l = (tensor.extract(v, []) for v in (s, d, l))
    index = ir.IndexType.get()
    if lb.is_float(s.type):
        count = math_d.ceil(arith.divf(arith.subf(l, s), d))
        count = arith.fptosi(ir.IntegerType.get_signless(64), count)
    else:
        count = arith.ceildivsi(arith.subi(l, s), d)
    return arith.maxsi(arith.index_cast(index, count), _index(0))


def lower_range(op):
    start, delta = op.operands[:2]
    result = _result(op)
    elem = result.element_type
    scalar = lb.affine_map(1, [])

    def body(s, d, _):
        i = arith.index_cast(ir.IntegerType.get_signless(64), linalg.IndexOp(0).result)
        if lb.is_float(elem):
            wide = ir.F32Type.get() if str(elem) in ("f16", "bf16") else elem  # stash_type float
            i = arith.sitofp(wide, i)
            s, d = (arith.extf(wide, v) if wide != elem else v for v in (s, d))
            value = arith.addf(s, arith.mulf(i, d))
            return arith.truncf(elem, value) if wide != elem else value
        i = arith.trunci(elem, i) if ir.IntegerType(elem).width < 64 else i
        return arith.addi(s, arith.muli(i, d))

    size = list(result.shape)
    if lb.is_dynamic(size[0]):
        size = [_range_length(start, delta, op.operands[2])]
    start, delta = (lb.collapse_to(v, []) for v in (start, delta))
    return lb.generic([start, delta], [tensor.empty(size, elem)],
                      [scalar, scalar, lb.identity_map(1)], ["parallel"], body)


PATTERNS = {
    "mlc.broadcast": lower_broadcast,
    "mlc.slice": lower_slice,
    "mlc.pad": lower_pad,
    "mlc.dynamic_slice": lower_dynamic_slice,
    "mlc.dynamic_pad": lower_dynamic_pad,
    "mlc.trilu": lower_trilu,
    "mlc.range": lower_range,
    "mlc.constant": lower_constant,
    "mlc.reshape": lower_reshape,
    "mlc.transpose": lower_transpose,
    "mlc.concat": lower_concat,
}
