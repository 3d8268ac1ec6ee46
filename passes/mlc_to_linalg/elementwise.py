"""Elementwise mlc ops -> one linalg.generic each, with numpy broadcasting in the maps."""

from mlir import ir
from mlir.dialects import arith, math

from mlc.passes import linalg_builders as lb


def _result(op) -> ir.RankedTensorType:
    return ir.RankedTensorType(op.results[0].type)


def _binary(scalar_fn):
    def lower(op):
        return lb.elementwise(_result(op), list(op.operands), scalar_fn)
    return lower


def _unary(scalar_fn):
    def lower(op):
        return lb.elementwise(_result(op), [op.operands[0]], scalar_fn)
    return lower


def relu(x):
    return lb.maximum(x, lb.const(0, x.type))


def sigmoid(x):
    one = lb.const(1.0, x.type)
    return arith.divf(one, arith.addf(one, math.exp(arith.negf(x))))


def convert(x, to: ir.Type, unsigned: bool = False):
    """Scalar element conversion with ONNX Cast semantics (float->int truncates toward 0)."""
    src = x.type
    if src == to:
        return x
    if lb.is_float(src) and lb.is_float(to):
        wider = _width(to) > _width(src)
        return arith.extf(to, x) if wider else arith.truncf(to, x)
    if lb.is_float(src):
        if _width(to) == 1:
            return arith.cmpf(arith.CmpFPredicate.UNE, x, lb.const(0.0, src))
        return arith.fptoui(to, x) if unsigned else arith.fptosi(to, x)
    if lb.is_float(to):
        return arith.uitofp(to, x) if unsigned or _width(src) == 1 else arith.sitofp(to, x)
    if _width(to) == 1:
        return arith.cmpi(arith.CmpIPredicate.ne, x, lb.const(0, src))
    if _width(to) > _width(src):
        return arith.extui(to, x) if unsigned or _width(src) == 1 else arith.extsi(to, x)
    return arith.trunci(to, x)


def _width(t: ir.Type) -> int:
    if isinstance(t, ir.IntegerType):
        return ir.IntegerType(t).width
    return {"f16": 16, "bf16": 16, "f32": 32, "f64": 64}[str(t)]


def lower_cast(op):
    to = _result(op).element_type
    return lb.elementwise(_result(op), [op.operands[0]], lambda x: convert(x, to))


PATTERNS = {
    "mlc.add": _binary(lb.add),
    "mlc.sub": _binary(lb.sub),
    "mlc.mul": _binary(lb.mul),
    "mlc.div": _binary(lb.div),
    "mlc.relu": _unary(relu),
    "mlc.sigmoid": _unary(sigmoid),
    "mlc.tanh": _unary(math.tanh),
    "mlc.cast": lower_cast,
}
