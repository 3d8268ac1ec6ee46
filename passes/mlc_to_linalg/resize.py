"""mlc.resize -> linalg: per resized axis, a table of source indices and weights, then one pass.

Resizing is separable, so each resized axis is its own pass over the data (as in onnx's
reference). For an axis of L_in -> L_out elements with n taps, a generic over [L_out, n]
computes, at run time (the scales may be run-time values), where output position o samples
the input: the coordinate x (by the coordinate transformation mode, in f64 as the reference
does), the taps base + i around it (clamped to the edges) and their weights (nearest: one tap;
linear and cubic: kernel(i - ratio), scaled and normalized for antialiasing or exclude_outside).
A second generic reads the data through those tables: out[..o..] = sum_t w[o, t] x[..idx[o, t]..].
"""

import math as pymath

from mlir import ir
from mlir.dialects import arith, linalg, math, tensor

from mlc.passes import linalg_builders as lb
from mlc.passes.mlc_to_linalg.elementwise import convert


def _f64():
    return ir.F64Type.get()


def _c(value: float) -> ir.Value:
    return lb.const(float(value), _f64())


def _index(value: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), value)


def _to_f64(v: ir.Value) -> ir.Value:
    if lb.is_float(v.type):
        return convert(v, _f64())
    return arith.sitofp(_f64(), v)


class _Config:
    def __init__(self, op):
        a = op.attributes
        self.mode = ir.StringAttr(a["mode"]).value
        self.coordinate = ir.StringAttr(a["coordinate_mode"]).value
        self.nearest = ir.StringAttr(a["nearest_mode"]).value
        self.cubic_a = ir.FloatAttr(a["cubic_a"]).value
        self.exclude_outside = bool(ir.IntegerAttr(a["exclude_outside"]).value)
        self.extrapolation = ir.FloatAttr(a["extrapolation"]).value
        self.antialias = bool(ir.IntegerAttr(a["antialias"]).value) and self.mode != "nearest"
        self.from_sizes = bool(ir.IntegerAttr(a["from_sizes"]).value)
        self.policy = ir.StringAttr(a["policy"]).value


def _coordinate(cfg: _Config, y, size_in: int, size_out: int, scale, roi):
    """The input coordinate sampled by output position y (f64), as the reference computes it."""
    width = arith.mulf(scale, _c(size_in))  # the fractional output width
    one_wide = arith.cmpf(arith.CmpFPredicate.OEQ, width, _c(1.0))
    half = _c(0.5)
    centered = arith.subf(arith.divf(arith.addf(y, half), scale), half)
    mode = cfg.coordinate
    if mode == "half_pixel":
        return centered
    if mode == "asymmetric":
        return arith.divf(y, scale)
    if mode == "pytorch_half_pixel":
        return arith.select(one_wide, _c(-0.5), centered)
    if mode == "align_corners":
        spread = arith.divf(arith.mulf(y, _c(size_in - 1)), arith.subf(width, _c(1.0)))
        return arith.select(one_wide, _c(0.0), spread)
    if mode == "half_pixel_symmetric":
        adjustment = arith.divf(_c(size_out), width)
        offset = arith.mulf(_c(size_in / 2), arith.subf(_c(1.0), adjustment))
        return arith.addf(offset, centered)
    # tf_crop_and_resize
    start, end = roi
    extent = arith.mulf(arith.subf(end, start), _c(size_in - 1))
    spread = arith.divf(arith.mulf(y, extent), arith.subf(width, _c(1.0)))
    middle = arith.divf(extent, _c(2.0))
    return arith.addf(arith.select(one_wide, middle, spread), arith.mulf(start, _c(size_in - 1)))


def _kernel(cfg: _Config, u):
    """The interpolation kernel at offset u (f64)."""
    au = math.absf(u)
    if cfg.mode == "linear":
        return arith.maximumf(_c(0.0), arith.subf(_c(1.0), au))
    a = cfg.cubic_a
    au2 = arith.mulf(au, au)
    au3 = arith.mulf(au2, au)
    near = arith.addf(arith.subf(arith.mulf(_c(a + 2), au3), arith.mulf(_c(a + 3), au2)), _c(1.0))
    far = arith.subf(arith.addf(arith.subf(arith.mulf(_c(a), au3), arith.mulf(_c(5 * a), au2)),
                                arith.mulf(_c(8 * a), au)), _c(4 * a))
    le1 = arith.cmpf(arith.CmpFPredicate.OLE, au, _c(1.0))
    lt2 = arith.cmpf(arith.CmpFPredicate.OLT, au, _c(2.0))
    return arith.select(le1, near, arith.select(lt2, far, _c(0.0)))


def _taps(cfg: _Config, size_in: int, size_out: int) -> int:
    if cfg.mode == "nearest":
        return 1
    reach = 1 if cfg.mode == "linear" else 2
    if not cfg.antialias:
        return 2 * reach
    # The smallest scale the static sizes allow bounds the footprint; taps past the actual
    # footprint get weight 0.
    smallest = (size_out - 0.5) / size_in if cfg.from_sizes and cfg.policy != "stretch" \
        else size_out / size_in
    smallest = min(max(smallest, 1e-6), 1.0)
    return 2 - 2 * (pymath.floor(-reach / smallest) + 1)


def _tables(cfg: _Config, size_in: int, size_out: int, scale, roi, weight_type):
    """(indices [L_out, n] i64, weights [L_out, n] or None for nearest, n)."""
    n = _taps(cfg, size_in, size_out)
    i64 = ir.IntegerType.get_signless(64)
    last = _c(size_in - 1)

    def clamp_index(v):  # f64 position -> i64 index in [0, L_in - 1]
        return arith.fptosi(i64, arith.minimumf(arith.maximumf(v, _c(0.0)), last))

    def body(*outs):
        o = arith.index_cast(i64, linalg.IndexOp(0).result)
        t = arith.index_cast(i64, linalg.IndexOp(1).result)
        x = _coordinate(cfg, arith.sitofp(_f64(), o), size_in, size_out, scale, roi)
        # base = ceil(x) - 1 and ratio in (0, 1]: an integer x is the right tap of its pair.
        base = arith.subf(math.ceil(x), _c(1.0))
        ratio = arith.subf(x, base)
        if cfg.mode == "nearest":
            upper = {"round_prefer_floor": arith.cmpf(arith.CmpFPredicate.OGT, ratio, _c(0.5)),
                     "round_prefer_ceil": arith.cmpf(arith.CmpFPredicate.OGE, ratio, _c(0.5)),
                     "floor": arith.cmpf(arith.CmpFPredicate.OEQ, ratio, _c(1.0)),
                     "ceil": arith.constant(ir.IntegerType.get_signless(1), 1)}[cfg.nearest]
            return [clamp_index(arith.addf(base, arith.select(upper, _c(1.0), _c(0.0))))]
        shrink = arith.minimumf(scale, _c(1.0)) if cfg.antialias else _c(1.0)
        first = 1 - n // 2  # tap t sits at base + first + t

        def weight(i):  # f64 offset of the tap from base -> its weight
            w = _kernel(cfg, arith.mulf(arith.subf(i, ratio), shrink))
            if cfg.exclude_outside:
                at = arith.addf(base, i)
                inside = arith.andi(arith.cmpf(arith.CmpFPredicate.OGE, at, _c(0.0)),
                                    arith.cmpf(arith.CmpFPredicate.OLE, at, last))
                w = arith.select(inside, w, _c(0.0))
            return w

        offset = arith.addf(_c(first), arith.sitofp(_f64(), t))
        w = weight(offset)
        if cfg.antialias or cfg.exclude_outside:
            total = _c(0.0)
            for k in range(n):
                total = arith.addf(total, weight(_c(first + k)))
            zero = arith.cmpf(arith.CmpFPredicate.OEQ, total, _c(0.0))
            w = arith.divf(w, arith.select(zero, _c(1.0), total))
        return [clamp_index(arith.addf(base, offset)), convert(w, weight_type)]

    shape = [size_out, n]
    inits = [lb.empty(shape, i64)] + ([] if cfg.mode == "nearest" else [lb.empty(shape, weight_type)])
    results = lb.generic([], inits, [lb.identity_map(2)] * len(inits), ["parallel"] * 2, body)
    if cfg.mode == "nearest":
        return results, None, n
    return results[0], results[1], n


def _resize_axis(cfg: _Config, x: ir.Value, axis: int, size_out: int, scale, roi) -> ir.Value:
    shape = lb.shape_of(x)
    rank, size_in = len(shape), shape[axis]
    elem = lb.elem_of(x)
    out_shape = [size_out if d == axis else s for d, s in enumerate(shape)]
    acc = _f64() if str(elem) == "f64" else ir.F32Type.get()
    indices, weights, n = _tables(cfg, size_in, size_out, scale, roi, acc)
    index = ir.IndexType.get()

    def read(i):
        coords = [linalg.IndexOp(d).result for d in range(rank)]
        coords[axis] = arith.index_cast(index, i)
        return tensor.extract(x, coords)

    if weights is None:  # nearest: a gather along the axis
        table_map = lb.affine_map(rank, [ir.AffineDimExpr.get(axis), ir.AffineConstantExpr.get(0)])
        result = lb.generic([indices], [lb.empty(out_shape, elem)],
                            [table_map, lb.identity_map(rank)], ["parallel"] * rank,
                            lambda i, _: read(i))
    else:
        table_map = lb.affine_map(rank + 1, [ir.AffineDimExpr.get(axis), ir.AffineDimExpr.get(rank)])
        total = lb.generic([indices, weights], [lb.filled(out_shape, acc, lb.const(0, acc))],
                           [table_map, table_map, lb.dims_map(rank + 1, range(rank))],
                           ["parallel"] * rank + ["reduction"],
                           lambda i, w, s: arith.addf(s, arith.mulf(w, convert(read(i), acc))))
        result = total if acc == elem else lb.elementwise(lb.tensor_of(out_shape, elem), [total],
                                                          lambda v: convert(v, elem))
    if cfg.coordinate != "tf_crop_and_resize":
        return result

    # Positions sampled outside the input take the extrapolation value.
    def fill(v, _):
        o = arith.index_cast(ir.IntegerType.get_signless(64), linalg.IndexOp(axis).result)
        xc = _coordinate(cfg, arith.sitofp(_f64(), o), size_in, size_out, scale, roi)
        outside = arith.ori(arith.cmpf(arith.CmpFPredicate.OLT, xc, _c(0.0)),
                            arith.cmpf(arith.CmpFPredicate.OGT, xc, _c(size_in - 1)))
        return arith.select(outside, lb.const(cfg.extrapolation, elem), v)

    return lb.generic([result], [lb.empty(out_shape, elem)], [lb.identity_map(rank)] * 2,
                      ["parallel"] * rank, fill)


def lower_resize(op):
    cfg = _Config(op)
    x, factors = op.operands[0], op.operands[1]
    roi = op.operands[2] if len(op.operands) > 2 else None
    result = ir.RankedTensorType(op.results[0].type)
    axes = list(ir.DenseI64ArrayAttr(op.attributes["axes"]))
    resized = list(ir.DenseI64ArrayAttr(op.attributes["resized"]))
    in_shape = lb.shape_of(x)

    def entry(vector, j):
        return _to_f64(tensor.extract(vector, [_index(j)]))

    scales = [entry(factors, j) for j in range(len(axes))]
    if cfg.from_sizes:
        scales = [arith.divf(s, _c(in_shape[a])) for s, a in zip(scales, axes)]
        if cfg.policy != "stretch":
            pick = arith.minimumf if cfg.policy == "not_larger" else arith.maximumf
            best = scales[0]
            for s in scales[1:]:
                best = pick(best, s)
            scales = [best] * len(axes)
    value = x
    for j in sorted(resized, key=lambda j: axes[j]):
        bounds = None if roi is None else (entry(roi, j), entry(roi, len(axes) + j))
        value = _resize_axis(cfg, value, axes[j], result.shape[axes[j]], scales[j], bounds)
    return value


PATTERNS = {"mlc.resize": lower_resize}
