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
    return lb.div(total, lb.const(count, total.type))


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
            count = pymath.prod(shape[a] for a in axes)
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
        best = lb.filled(kept_shape, elem, lb.lowest(elem) if is_max else _highest(elem))
        index = lb.filled(kept_shape, i64, lb.const(0, i64))

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
