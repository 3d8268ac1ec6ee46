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


def _lower_cast(unsigned: bool):
    def lower(op):
        to = _result(op).element_type
        return lb.elementwise(_result(op), [op.operands[0]], lambda x: convert(x, to, unsigned))
    return lower


def lower_bitcast(op):
    to = _result(op).element_type
    return lb.elementwise(_result(op), [op.operands[0]], lambda x: arith.bitcast(to, x))


def _float_attr(op, name: str) -> float:
    return ir.FloatAttr(op.attributes[name]).value


def _unary_with(scalar_fn):
    """A unary lowering whose scalar function also reads the op's attributes."""
    def lower(op):
        return lb.elementwise(_result(op), [op.operands[0]], lambda x: scalar_fn(op, x))
    return lower


def _lt0(x):
    return arith.cmpf(arith.CmpFPredicate.OLT, x, lb.const(0.0, x.type))


def absolute(x):
    return math.absf(x) if lb.is_float(x.type) else math.absi(x)


def neg(x):
    return arith.negf(x) if lb.is_float(x.type) else arith.subi(lb.const(0, x.type), x)


def sign(x):
    zero, one, minus = lb.const(0, x.type), lb.const(1, x.type), lb.const(-1, x.type)
    if lb.is_float(x.type):
        pos = arith.cmpf(arith.CmpFPredicate.OGT, x, zero)
        neg_ = arith.cmpf(arith.CmpFPredicate.OLT, x, zero)
    else:
        pos = arith.cmpi(arith.CmpIPredicate.sgt, x, zero)
        neg_ = arith.cmpi(arith.CmpIPredicate.slt, x, zero)
    return arith.select(pos, one, arith.select(neg_, minus, zero))


def reciprocal(x):
    return arith.divf(lb.const(1.0, x.type), x)


def softplus(x):
    return math.log(arith.addf(math.exp(x), lb.const(1.0, x.type)))


def softsign(x):
    return arith.divf(x, arith.addf(lb.const(1.0, x.type), math.absf(x)))


def mish(x):
    return arith.mulf(x, math.tanh(softplus(x)))


def _clamp01(x):
    zero, one = lb.const(0.0, x.type), lb.const(1.0, x.type)
    return arith.maximumf(zero, arith.minimumf(one, x))


def hard_swish(x):
    return arith.mulf(x, _clamp01(arith.addf(arith.mulf(x, lb.const(1 / 6, x.type)),
                                             lb.const(0.5, x.type))))


def hard_sigmoid(op, x):
    alpha, beta = lb.const(_float_attr(op, "alpha"), x.type), lb.const(_float_attr(op, "beta"), x.type)
    return _clamp01(arith.addf(arith.mulf(alpha, x), beta))


def leaky_relu(op, x):
    return arith.select(_lt0(x), arith.mulf(lb.const(_float_attr(op, "alpha"), x.type), x), x)


def thresholded_relu(op, x):
    above = arith.cmpf(arith.CmpFPredicate.OGT, x, lb.const(_float_attr(op, "alpha"), x.type))
    return arith.select(above, x, lb.const(0.0, x.type))


def _expm1(x):
    return arith.subf(math.exp(x), lb.const(1.0, x.type))


def elu(op, x):
    return arith.select(_lt0(x), arith.mulf(lb.const(_float_attr(op, "alpha"), x.type), _expm1(x)), x)


def celu(op, x):
    alpha = lb.const(_float_attr(op, "alpha"), x.type)
    zero = lb.const(0.0, x.type)
    negative = arith.mulf(alpha, _expm1(arith.divf(x, alpha)))
    return arith.addf(arith.maximumf(zero, x), arith.minimumf(zero, negative))


def selu(op, x):
    alpha, gamma = lb.const(_float_attr(op, "alpha"), x.type), lb.const(_float_attr(op, "gamma"), x.type)
    positive = arith.cmpf(arith.CmpFPredicate.OGT, x, lb.const(0.0, x.type))
    return arith.mulf(gamma, arith.select(positive, x, arith.mulf(alpha, _expm1(x))))


def gelu(op, x):
    half, one = lb.const(0.5, x.type), lb.const(1.0, x.type)
    if ir.IntegerAttr(op.attributes["approximate"]).value:
        # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
        cube = arith.mulf(arith.mulf(x, x), x)
        inner = arith.mulf(lb.const(0.7978845608028654, x.type),
                           arith.addf(x, arith.mulf(lb.const(0.044715, x.type), cube)))
        return arith.mulf(arith.mulf(half, x), arith.addf(one, math.tanh(inner)))
    scaled = arith.mulf(x, lb.const(0.7071067811865476, x.type))
    return arith.mulf(arith.mulf(half, x), arith.addf(one, math.erf(scaled)))


def minimum(a, b):
    return arith.minimumf(a, b) if lb.is_float(a.type) else arith.minsi(a, b)


def lower_pow(op):
    result = _result(op)
    elem = result.element_type
    if not lb.is_float(elem):
        return None  # the importer refuses integer bases
    return lb.elementwise(result, list(op.operands), lambda a, b: math.powf(a, convert(b, elem)))


def lower_mod(op):
    fmod = ir.IntegerAttr(op.attributes["fmod"]).value

    def body(a, b):
        if lb.is_float(a.type):
            rem = arith.remf(a, b)  # C fmod: the sign of a
            if fmod:
                return rem
            zero = lb.const(0.0, a.type)
            fix = arith.andi(arith.cmpf(arith.CmpFPredicate.ONE, rem, zero),
                             arith.xori(_lt0(rem), _lt0(b)))
            return arith.select(fix, arith.addf(rem, b), rem)
        rem = arith.remsi(a, b)
        if fmod:
            return rem
        zero = lb.const(0, a.type)
        fix = arith.andi(arith.cmpi(arith.CmpIPredicate.ne, rem, zero),
                         arith.xori(arith.cmpi(arith.CmpIPredicate.slt, rem, zero),
                                    arith.cmpi(arith.CmpIPredicate.slt, b, zero)))
        return arith.select(fix, arith.addi(rem, b), rem)
    return lb.elementwise(_result(op), list(op.operands), body)


_FLOAT_PREDICATES = {"eq": "OEQ", "lt": "OLT", "le": "OLE", "gt": "OGT", "ge": "OGE"}
_INT_PREDICATES = {"eq": "eq", "lt": "slt", "le": "sle", "gt": "sgt", "ge": "sge"}


def lower_compare(op):
    predicate = ir.StringAttr(op.attributes["predicate"]).value
    unsigned = ir.IntegerAttr(op.attributes["unsigned"]).value

    def body(a, b):
        if lb.is_float(a.type):
            return arith.cmpf(getattr(arith.CmpFPredicate, _FLOAT_PREDICATES[predicate]), a, b)
        name = _INT_PREDICATES[predicate]
        if unsigned and name != "eq":
            name = "u" + name[1:]
        return arith.cmpi(getattr(arith.CmpIPredicate, name), a, b)
    return lb.elementwise(_result(op), list(op.operands), body)


def bitwise_not(x):
    return arith.xori(x, lb.const(-1, x.type))


def is_inf(op, x):
    found = None
    for attr, value in (("detect_positive", float("inf")), ("detect_negative", float("-inf"))):
        if ir.IntegerAttr(op.attributes[attr]).value:
            hit = arith.cmpf(arith.CmpFPredicate.OEQ, x, lb.const(value, x.type))
            found = hit if found is None else arith.ori(found, hit)
    return found if found is not None else lb.const(0, ir.IntegerType.get_signless(1))


def lower_bit_shift(op):
    left = ir.IntegerAttr(op.attributes["left"]).value
    unsigned = ir.IntegerAttr(op.attributes["unsigned"]).value

    def body(a, b):
        width = _width(a.type)
        zero = lb.const(0, a.type)
        # A shift by >= width (or a negative one, which is huge as unsigned) is poison in
        # arith; ONNX wants the sign fill, so the amount is clamped and the result selected.
        in_range = arith.cmpi(arith.CmpIPredicate.ult, b, lb.const(width, b.type))
        amount = arith.select(in_range, b, zero)
        if left:
            return arith.select(in_range, arith.shli(a, amount), zero)
        if unsigned:
            return arith.select(in_range, arith.shrui(a, amount), zero)
        fill = arith.shrsi(a, lb.const(width - 1, a.type))
        return arith.select(in_range, arith.shrsi(a, amount), fill)
    return lb.elementwise(_result(op), list(op.operands), body)


PATTERNS = {
    "mlc.compare": lower_compare,
    "mlc.and": _binary(arith.andi),
    "mlc.or": _binary(arith.ori),
    "mlc.xor": _binary(arith.xori),
    "mlc.not": _unary(bitwise_not),
    "mlc.where": _binary(arith.select),
    "mlc.is_nan": _unary(lambda x: arith.cmpf(arith.CmpFPredicate.UNO, x, x)),
    "mlc.is_inf": _unary_with(is_inf),
    "mlc.bit_shift": lower_bit_shift,
    "mlc.abs": _unary(absolute),
    "mlc.neg": _unary(neg),
    "mlc.exp": _unary(math.exp),
    "mlc.log": _unary(math.log),
    "mlc.sqrt": _unary(math.sqrt),
    "mlc.reciprocal": _unary(reciprocal),
    "mlc.floor": _unary(math.floor),
    "mlc.ceil": _unary(math.ceil),
    "mlc.round": _unary(math.roundeven),
    "mlc.sign": _unary(sign),
    "mlc.erf": _unary(math.erf),
    "mlc.sin": _unary(math.sin),
    "mlc.cos": _unary(math.cos),
    "mlc.tan": _unary(math.tan),
    "mlc.asin": _unary(math.asin),
    "mlc.acos": _unary(math.acos),
    "mlc.atan": _unary(math.atan),
    "mlc.sinh": _unary(math.sinh),
    "mlc.cosh": _unary(math.cosh),
    "mlc.asinh": _unary(math.asinh),
    "mlc.acosh": _unary(math.acosh),
    "mlc.atanh": _unary(math.atanh),
    "mlc.softplus": _unary(softplus),
    "mlc.softsign": _unary(softsign),
    "mlc.mish": _unary(mish),
    "mlc.hard_swish": _unary(hard_swish),
    "mlc.hard_sigmoid": _unary_with(hard_sigmoid),
    "mlc.leaky_relu": _unary_with(leaky_relu),
    "mlc.thresholded_relu": _unary_with(thresholded_relu),
    "mlc.elu": _unary_with(elu),
    "mlc.celu": _unary_with(celu),
    "mlc.selu": _unary_with(selu),
    "mlc.gelu": _unary_with(gelu),
    "mlc.pow": lower_pow,
    "mlc.max": _binary(lb.maximum),
    "mlc.min": _binary(minimum),
    "mlc.mod": lower_mod,
    "mlc.add": _binary(lb.add),
    "mlc.sub": _binary(lb.sub),
    "mlc.mul": _binary(lb.mul),
    "mlc.div": _binary(lb.div),
    "mlc.relu": _unary(relu),
    "mlc.sigmoid": _unary(sigmoid),
    "mlc.tanh": _unary(math.tanh),
    "mlc.cast": _lower_cast(unsigned=False),
    "mlc.cast_unsigned": _lower_cast(unsigned=True),
    "mlc.bitcast": lower_bitcast,
}
