"""Run-time shape mlc ops -> tensor/linalg: shape_of, dynamic_reshape, dynamic_broadcast.

These ops carry shapes as small 1-D i64 tensors computed while the model runs (the importer
folds the static ones away). Each dynamic dim of a result is sized from those values with
`tensor.extract` and index arithmetic; static dims come from the result type.
"""

from mlir import ir
from mlir.dialects import arith, linalg, tensor

from mlc.passes import linalg_builders as lb


def _index(value: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), value)


def _entry(vector: ir.Value, k: int) -> ir.Value:
    """Element k of a 1-D i64 tensor, as an index."""
    return arith.index_cast(ir.IndexType.get(), tensor.extract(vector, [_index(k)]))


def _size(value: ir.Value, d: int) -> ir.Value:
    """Dim d of `value` as an index (a constant when static)."""
    size = lb.shape_of(value)[d]
    return lb.dim(value, d) if lb.is_dynamic(size) else _index(size)


def _eq(a: ir.Value, b: int) -> ir.Value:
    return arith.cmpi(arith.CmpIPredicate.eq, a, _index(b))


def _result(op) -> ir.RankedTensorType:
    return ir.RankedTensorType(op.results[0].type)


def lower_shape_of(op):
    x, result = op.operands[0], _result(op)
    start = ir.IntegerAttr(op.attributes["start"]).value
    i64 = ir.IntegerType.get_signless(64)
    shape = lb.shape_of(x)
    elems = [arith.index_cast(i64, lb.dim(x, d)) if lb.is_dynamic(shape[d])
             else arith.constant(i64, shape[d]) for d in range(start, start + result.shape[0])]
    return tensor.from_elements(result, elems)


def reshape_flat(x: ir.Value, result: ir.RankedTensorType, sizes: list) -> ir.Value:
    """x reshaped (row-major) to `result`; `sizes` has an index value for each of result's
    dynamic dims. `tensor.reshape` with a shape tensor, since memref.expand_shape takes at most
    one dynamic size per group and these reshapes may split one dim into several dynamic ones."""
    out = list(result.shape)
    if not any(map(lb.is_dynamic, [*out, *lb.shape_of(x)])):
        return lb.collapse_to(x, out)
    dynamic = iter(sizes)
    elems = [next(dynamic) if lb.is_dynamic(size) else _index(size) for size in out]
    index = ir.IndexType.get()
    shape = tensor.from_elements(ir.RankedTensorType.get([len(out)], index), elems)
    return tensor.reshape(result, x, shape)


def lower_dynamic_reshape(op):
    x, target = op.operands
    result = _result(op)
    allowzero = ir.IntegerAttr(op.attributes["allowzero"]).value
    rank_in, out = len(lb.shape_of(x)), list(result.shape)
    total = _index(1)
    for d in range(rank_in):
        total = arith.muli(total, _size(x, d))
    wanted = []
    for d in range(len(out)):
        v = _entry(target, d)
        if not allowzero and d < rank_in:  # 0 copies the input's dim
            v = arith.select(_eq(v, 0), _size(x, d), v)
        wanted.append(v)
    known = _index(1)
    for v in wanted:
        known = arith.muli(known, arith.select(_eq(v, -1), _index(1), v))
    # max(.., 1): an empty dim next to -1 (invalid ONNX) must not divide by zero.
    rest = arith.divui(total, arith.maxui(known, _index(1)))
    sizes = [arith.select(_eq(v, -1), rest, v)
             for v, size in zip(wanted, out) if lb.is_dynamic(size)]
    return reshape_flat(x, result, sizes)


def lower_dynamic_broadcast(op):
    x, target = op.operands
    result = _result(op)
    out, shape = list(result.shape), lb.shape_of(x)
    rank, offset = len(out), len(out) - len(shape)
    target_offset = rank - lb.shape_of(target)[0]
    sizes = []
    for d, size in enumerate(out):
        i = d - offset
        if not lb.is_dynamic(size):
            sizes.append(size)
        elif i >= 0 and lb.is_dynamic(shape[i]):
            sizes.append(lb.dim(x, i))  # the importer checked the result dim is this one
        else:
            sizes.append(_entry(target, d - target_offset))
    init = tensor.empty(sizes, result.element_type)
    return lb.generic([x], [init], [lb.broadcast_map(shape, out), lb.identity_map(rank)],
                      ["parallel"] * rank, lambda v, _: v)


PATTERNS = {
    "mlc.shape_of": lower_shape_of,
    "mlc.dynamic_reshape": lower_dynamic_reshape,
    "mlc.dynamic_broadcast": lower_dynamic_broadcast,
}
