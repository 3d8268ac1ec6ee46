"""Reduction mlc ops -> linalg.generic: Reduce* as map, reduce, finish; ArgMax/ArgMin.

Each Reduce* is three scalar functions: a map applied first (square, |x|, exp), the combine
of the reduction with its identity, and a finish applied to each total (divide by the count,
sqrt, log). The reduced dims are dropped by the reduction and put back as unit dims by a
reshape when the result type keeps them.
"""

import math as pymath

from mlir import ir
from mlir.dialects import arith, linalg, math

from mlc.passes import linalg_builders as lb


def _result(op) -> ir.RankedTensorType:
    return ir.RankedTensorType(op.results[0].type)


def _highest(elem):
    if lb.is_float(elem):
        return lb.const(float("inf"), elem)
    return lb.const((1 << (ir.IntegerType(elem).width - 1)) - 1, elem)


def _minimum(a, b):
    return arith.minimumf(a, b) if lb.is_float(a.type) else arith.minsi(a, b)


def _square(x):
    return lb.mul(x, x)


def _abs(x):
    return math.absf(x) if lb.is_float(x.type) else math.absi(x)


def _mean(total, count):
    if isinstance(count, ir.Value):
        return lb.div(total, count)
    return lb.div(total, lb.const(count, total.type))


def _count(x: ir.Value, axes, elem: ir.Type):
    """How many elements each total sums: an int, or a scalar of `elem` when a reduced dim is
    dynamic."""
    shape = lb.shape_of(x)
    if not any(lb.is_dynamic(shape[a]) for a in axes):
        return pymath.prod(shape[a] for a in axes)
    index = ir.IndexType.get()
    total = arith.constant(index, 1)
    for a in axes:
        total = arith.muli(total, lb.dim(x, a))
    as_int = arith.index_cast(ir.IntegerType.get_signless(64), total)
    if lb.is_float(elem):
        return arith.sitofp(elem, as_int)
    return as_int if elem == as_int.type else arith.trunci(elem, as_int)


# name: (map, combine, identity, finish)
_KINDS = {
    "reduce_sum": (None, lb.add, lambda e: lb.const(0, e), None),
    "reduce_mean": (None, lb.add, lambda e: lb.const(0, e), _mean),
    "reduce_max": (None, lb.maximum, lb.lowest, None),
    "reduce_min": (None, _minimum, _highest, None),
    "reduce_prod": (None, lb.mul, lambda e: lb.const(1, e), None),
    "reduce_sum_square": (_square, lb.add, lambda e: lb.const(0, e), None),
    "reduce_l1": (_abs, lb.add, lambda e: lb.const(0, e), None),
    "reduce_l2": (_square, lb.add, lambda e: lb.const(0, e), lambda t, _: math.sqrt(t)),
    "reduce_log_sum": (None, lb.add, lambda e: lb.const(0, e), lambda t, _: math.log(t)),
    "reduce_log_sum_exp": (math.exp, lb.add, lambda e: lb.const(0, e), lambda t, _: math.log(t)),
}


def _reduction(kind: str):
    pre, combine, identity, finish = _KINDS[kind]

    def lower(op):
        x = op.operands[0]
        result = _result(op)
        elem = result.element_type
        shape = lb.shape_of(x)
        axes = list(ir.DenseI64ArrayAttr(op.attributes["axes"]))
        if pre:
            x = lb.elementwise(lb.tensor_of(shape, elem), [x], pre)
        total = lb.reduce(x, axes, identity(elem), combine)
        if finish:
            count = _count(x, axes, elem)
            kept = [shape[d] for d in range(len(shape)) if d not in axes]
            total = lb.elementwise(lb.tensor_of(kept, elem), [total], lambda t: finish(t, count))
        return lb.collapse_to(total, list(result.shape))
    return lower


def _arg(is_max: bool):
    def lower(op):
        x = op.operands[0]
        result = _result(op)
        elem = lb.elem_of(x)
        shape = lb.shape_of(x)
        rank = len(shape)
        axis = ir.IntegerAttr(op.attributes["axis"]).value
        last = bool(ir.IntegerAttr(op.attributes["select_last_index"]).value)
        kept = [d for d in range(rank) if d != axis]
        kept_shape = [shape[d] for d in kept]
        i64 = ir.IntegerType.get_signless(64)
        like = [(x, d) for d in kept]
        best = lb.filled(kept_shape, elem, lb.lowest(elem) if is_max else _highest(elem), like)
        index = lb.filled(kept_shape, i64, lb.const(0, i64), like)

        def body(v, b, i):
            if lb.is_float(elem):
                pred = {(True, False): arith.CmpFPredicate.OGT, (True, True): arith.CmpFPredicate.OGE,
                        (False, False): arith.CmpFPredicate.OLT,
                        (False, True): arith.CmpFPredicate.OLE}[(is_max, last)]
                better = arith.cmpf(pred, v, b)
            else:
                pred = {(True, False): arith.CmpIPredicate.sgt, (True, True): arith.CmpIPredicate.sge,
                        (False, False): arith.CmpIPredicate.slt,
                        (False, True): arith.CmpIPredicate.sle}[(is_max, last)]
                better = arith.cmpi(pred, v, b)
            here = arith.index_cast(i64, linalg.IndexOp(axis).result)
            return [arith.select(better, v, b), arith.select(better, here, i)]

        out_map = lb.dims_map(rank, kept)
        iterators = ["reduction" if d == axis else "parallel" for d in range(rank)]
        _, indices = lb.generic([x], [best, index], [lb.identity_map(rank), out_map, out_map],
                                iterators, body)
        return lb.collapse_to(indices, list(result.shape))
    return lower


PATTERNS = {f"mlc.{kind}": _reduction(kind) for kind in _KINDS}
PATTERNS.update({"mlc.arg_max": _arg(True), "mlc.arg_min": _arg(False)})


# -- scans, selection and contractions ---------------------------------------------------------
def _int_attr(op, name: str) -> int:
    return ir.IntegerAttr(op.attributes[name]).value


def _scan_along(x: ir.Value, axis: int, exclusive: bool, reverse: bool, combine,
                identity) -> ir.Value:
    """out[i] = combine of x[k] for k before (or after) i along `axis`: one reduction over k,
    the other elements counting as `identity`."""
    shape = lb.shape_of(x)
    rank = len(shape)
    elem = lb.elem_of(x)
    pred = {(False, False): arith.CmpIPredicate.ule, (True, False): arith.CmpIPredicate.ult,
            (False, True): arith.CmpIPredicate.uge, (True, True): arith.CmpIPredicate.ugt}[
        (exclusive, reverse)]
    k = rank  # the extra loop dim
    x_map = lb.affine_map(rank + 1, [ir.AffineDimExpr.get(k if d == axis else d)
                                     for d in range(rank)])

    def body(v, acc):
        inside = arith.cmpi(pred, linalg.IndexOp(k).result, linalg.IndexOp(axis).result)
        return combine(acc, arith.select(inside, v, lb.const(identity, elem)))

    return lb.generic([x], [lb.filled(shape, elem, lb.const(identity, elem))],
                      [x_map, lb.dims_map(rank + 1, range(rank))],
                      ["parallel"] * rank + ["reduction"], body)


def _lower_scan(op, combine, identity):
    """CumSum (combine = add, identity 0) or CumProd (mul, 1)."""
    from mlir.dialects import scf, tensor

    x = op.operands[0]
    exclusive, reverse = bool(_int_attr(op, "exclusive")), bool(_int_attr(op, "reverse"))
    if len(op.operands) == 1:
        return _scan_along(x, _int_attr(op, "axis"), exclusive, reverse, combine, identity)
    # A run-time axis picks one of the rank variants.
    rank = len(lb.shape_of(x))
    index = ir.IndexType.get()
    axis_value = op.operands[1]
    axis = arith.index_cast(index, tensor.extract(
        axis_value, [arith.constant(index, 0)] * len(lb.shape_of(axis_value))))
    axis = arith.select(arith.cmpi(arith.CmpIPredicate.slt, axis, arith.constant(index, 0)),
                        arith.addi(axis, arith.constant(index, rank)), axis)

    def choose(a: int) -> ir.Value:
        if a == rank - 1:
            return _scan_along(x, a, exclusive, reverse, combine, identity)
        branch = scf.IfOp(arith.cmpi(arith.CmpIPredicate.eq, axis, arith.constant(index, a)),
                          [x.type], has_else=True)
        with ir.InsertionPoint(branch.then_block):
            scf.YieldOp([_scan_along(x, a, exclusive, reverse, combine, identity)])
        with ir.InsertionPoint(branch.else_block):
            scf.YieldOp([choose(a + 1)])
        return branch.results[0]

    return choose(0)


def lower_cumsum(op):
    return _lower_scan(op, lb.add, 0)


def lower_cumprod(op):
    return _lower_scan(op, lb.mul, 1)


def lower_top_k(op):
    x = op.operands[0]
    values_type, indices_type = (ir.RankedTensorType(r.type) for r in op.results)
    axis, largest = _int_attr(op, "axis"), bool(_int_attr(op, "largest"))
    unsigned = bool(_int_attr(op, "unsigned"))
    shape = lb.shape_of(x)
    rank = len(shape)
    elem = lb.elem_of(x)
    i64 = ir.IntegerType.get_signless(64)
    j = rank  # the extra loop dim: the element compared with, then the element picked

    def ahead(a, b):
        """a comes before b in the order: larger (or smaller) first."""
        if lb.is_float(elem):
            return arith.cmpf(arith.CmpFPredicate.OGT if largest else arith.CmpFPredicate.OLT, a, b)
        name = ("ugt" if largest else "ult") if unsigned else ("sgt" if largest else "slt")
        return arith.cmpi(getattr(arith.CmpIPredicate, name), a, b)

    def equal(a, b):
        if lb.is_float(elem):
            return arith.cmpf(arith.CmpFPredicate.OEQ, a, b)
        return arith.cmpi(arith.CmpIPredicate.eq, a, b)

    # rank[i] = how many elements come before element i (ties: the lower index first)
    along_j = lb.affine_map(rank + 1, [ir.AffineDimExpr.get(j if d == axis else d)
                                       for d in range(rank)])
    own = lb.dims_map(rank + 1, range(rank))

    def count(xi, xj, acc):
        earlier = arith.cmpi(arith.CmpIPredicate.ult, linalg.IndexOp(j).result,
                             linalg.IndexOp(axis).result)
        before = arith.ori(ahead(xj, xi), arith.andi(equal(xj, xi), earlier))
        return arith.addi(acc, arith.extui(i64, before))

    ranks = lb.generic([x, x], [lb.filled(shape, i64, lb.const(0, i64))], [own, along_j, own],
                       ["parallel"] * rank + ["reduction"], count)

    # values[r] = x[i] and indices[r] = i for the i whose rank is r
    out_shape = list(values_type.shape)

    def pick(v, rk, v_acc, i_acc):
        hit = arith.cmpi(arith.CmpIPredicate.eq, rk,
                         arith.index_cast(i64, linalg.IndexOp(axis).result))
        here = arith.index_cast(i64, linalg.IndexOp(j).result)
        return [arith.select(hit, v, v_acc), arith.select(hit, here, i_acc)]

    return list(lb.generic([x, ranks], [lb.filled(out_shape, elem, lb.const(0, elem)),
                                        lb.filled(out_shape, i64, lb.const(0, i64))],
                           [along_j, along_j, own, own], ["parallel"] * rank + ["reduction"],
                           pick))


def lower_einsum(op):
    equation = ir.StringAttr(op.attributes["equation"]).value
    inputs, output = equation.split("->")
    terms = inputs.split(",")
    result = ir.RankedTensorType(op.results[0].type)
    elem = result.element_type
    # Output letters first (so the output map is the identity prefix), then the summed ones.
    letters = list(output) + [c for c in dict.fromkeys("".join(terms)) if c not in output]
    sizes = dict(zip(output, result.shape))
    for value, term in zip(op.operands, terms):
        for c, d in zip(term, lb.shape_of(value)):
            sizes[c] = max(sizes.get(c, 1), d)
    dims = {c: i for i, c in enumerate(letters)}
    rank = len(letters)
    maps = []
    for value, term in zip(op.operands, terms):
        # A size-1 dim against a larger letter broadcasts ('...' dims of different operands).
        maps.append(lb.affine_map(rank, [ir.AffineConstantExpr.get(0) if d == 1 and sizes[c] > 1
                                         else ir.AffineDimExpr.get(dims[c])
                                         for c, d in zip(term, lb.shape_of(value))]))
    maps.append(lb.dims_map(rank, range(len(output))))
    # 16-bit floats accumulate in f32 and round once at the end.
    acc = ir.F32Type.get() if str(elem) in ("f16", "bf16") else elem
    from mlc.passes.mlc_to_linalg.elementwise import convert

    def body(*args):
        *xs, total = args
        product = convert(xs[0], acc)
        for x in xs[1:]:
            product = lb.mul(product, convert(x, acc))
        return lb.add(total, product)

    iterators = ["parallel"] * len(output) + ["reduction"] * (rank - len(output))
    summed = lb.generic(list(op.operands), [lb.filled(list(result.shape), acc, lb.const(0, acc))],
                        maps, iterators, body)
    if acc == elem:
        return summed
    return lb.elementwise(result, [summed], lambda v: convert(v, elem))


PATTERNS.update({"mlc.cumsum": lower_cumsum, "mlc.cumprod": lower_cumprod,
                 "mlc.top_k": lower_top_k, "mlc.einsum": lower_einsum})
