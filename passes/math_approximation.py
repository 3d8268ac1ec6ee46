"""mlc-math-approximation: f32 vector exp and erf -> polynomials of arith ops.

Input: any IR where the scheduled kernels left `math.exp` / `math.erf` on f32 vectors (softmax's
exponentials, GELU's erf). LLVM has no vector form of either: `llvm.exp` on a vector is split
into one `expf` call per lane, and `convert-math-to-libm` unrolls `math.erf` into `erff` calls,
so a vectorized softmax or GELU ran at libm's scalar speed (a tenth of a BERT layer).

Output: the same values computed with vector arith ops (FMA-able multiplies and adds, a floor,
integer shifts for the power of two): exp as Cephes' range reduction and degree-5 polynomial
(relative error under 1e-7 over [-87, 88]; 0 below, +inf above the f32 range, NaN kept);
erf as Eigen's rational approximation on [-4, 4] (absolute error under 5e-7; +-1 outside).
Scalar ops are left to libm.
"""

from mlir import ir
from mlir.dialects import arith, math

from mlc.passes.pattern_utils import patterns_pass

EXP_HI = 88.3762626647950
EXP_LO = -88.3762626647949
LOG2E = 1.44269504088896341
LN2_HI, LN2_LO = 0.693359375, -2.12194440e-4
EXP_POLY = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
            1.6666665459e-1, 5.0000001201e-1]
ERF_ALPHA = [-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06,
             -5.69250639462346e-05, -7.34990630326855e-04, -2.95459980854025e-03,
             -1.60960333262415e-02]
ERF_BETA = [-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03,
            -7.37332916720468e-03, -1.42647390514189e-02]


def _f32_vector(op) -> ir.VectorType | None:
    t = op.results[0].type
    if isinstance(t, ir.VectorType) and isinstance(ir.VectorType(t).element_type, ir.F32Type):
        return ir.VectorType(t)
    return None


def _splat(t: ir.VectorType, value) -> ir.Value:
    elem = t.element_type
    attr = ir.FloatAttr.get(elem, value) if isinstance(elem, ir.F32Type) else ir.IntegerAttr.get(elem, value)
    return arith.constant(t, ir.DenseElementsAttr.get_splat(t, attr))


def _horner(x: ir.Value, coefficients: list[float], t: ir.VectorType) -> ir.Value:
    p = _splat(t, coefficients[0])
    for c in coefficients[1:]:
        p = math.fma(p, x, _splat(t, c))
    return p


def _clamp(x: ir.Value, lo: float, hi: float, t: ir.VectorType) -> ir.Value:
    return arith.minimumf(arith.maximumf(x, _splat(t, lo)), _splat(t, hi))


def lower_exp(op):
    t = _f32_vector(op)
    if t is None:
        return None
    x_in = op.operands[0]
    x = _clamp(x_in, EXP_LO, EXP_HI, t)
    fx = math.floor(math.fma(x, _splat(t, LOG2E), _splat(t, 0.5)))
    r = math.fma(fx, _splat(t, -LN2_HI), x)
    r = math.fma(fx, _splat(t, -LN2_LO), r)
    y = math.fma(_horner(r, EXP_POLY, t), arith.mulf(r, r), arith.addf(r, _splat(t, 1.0)))
    i32 = ir.VectorType.get(t.shape, ir.IntegerType.get_signless(32))
    n = arith.fptosi(i32, fx)
    bits = arith.shli(arith.addi(n, _splat(i32, 127)), _splat(i32, 23))
    y = arith.mulf(y, arith.bitcast(t, bits))
    # Out of range: exp(-inf..EXP_LO) = 0, exp(EXP_HI..inf) = inf; NaN fails both tests.
    below = arith.cmpf(arith.CmpFPredicate.OLT, x_in, _splat(t, EXP_LO))
    above = arith.cmpf(arith.CmpFPredicate.OGT, x_in, _splat(t, EXP_HI))
    y = arith.select(below, _splat(t, 0.0), y)
    return arith.select(above, _splat(t, float("inf")), y)


def lower_erf(op):
    t = _f32_vector(op)
    if t is None:
        return None
    x = _clamp(op.operands[0], -4.0, 4.0, t)
    x2 = arith.mulf(x, x)
    p = arith.mulf(x, _horner(x2, ERF_ALPHA, t))
    return arith.divf(p, _horner(x2, ERF_BETA, t))


run = patterns_pass({"math.exp": lower_exp, "math.erf": lower_erf})
