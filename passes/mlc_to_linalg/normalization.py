"""Normalization mlc ops -> linalg.generic: batch_norm, layer/instance/group/rms norm, lrn,
softmax, hardmax.

Layer, instance and group normalization share one standardization: the mean over the
normalized dims, the centered values, their mean square (two passes, so no cancellation),
then (x - mean) * rsqrt(var + epsilon); each op adds its own scale and bias maps.
"""

import math as pymath

from mlir import ir
from mlir.dialects import arith, linalg, math, tensor

from mlc.passes import linalg_builders as lb


def _result(op) -> ir.RankedTensorType:
    return ir.RankedTensorType(op.results[0].type)


def _float(op, name: str) -> float:
    return ir.FloatAttr(op.attributes[name]).value


def lower_batch_norm(op):
    x, scale, bias, mean, var = op.operands
    result = _result(op)
    rank = len(result.shape)
    eps = _float(op, "epsilon")
    channel = lb.dims_map(rank, [1])

    # y = (x - mean) * scale / sqrt(var + eps) + bias, per channel
    def body(x, scale, bias, mean, var, _):
        inv_std = math.rsqrt(arith.addf(var, lb.const(eps, var.type)))
        return arith.addf(arith.mulf(arith.mulf(arith.subf(x, mean), inv_std), scale), bias)

    init = lb.empty(list(result.shape), result.element_type, x)
    return lb.generic([x, scale, bias, mean, var], [init],
                      [lb.identity_map(rank), channel, channel, channel, channel,
                       lb.identity_map(rank)], ["parallel"] * rank, body)


def _inv_count(x, axes, elem) -> ir.Value:
    """1 / (the number of elements over `axes`), read at run time when one of them is dynamic."""
    shape = lb.shape_of(x)
    if not any(lb.is_dynamic(shape[a]) for a in axes):
        return lb.const(1.0 / pymath.prod(shape[a] for a in axes), elem)
    count = arith.constant(ir.IndexType.get(), 1)
    for a in axes:
        count = arith.muli(count, lb.dim(x, a))
    count = arith.sitofp(elem, arith.index_cast(ir.IntegerType.get_signless(64), count))
    return arith.divf(lb.const(1.0, elem), count)


def _standardize(x, axes, eps: float):
    """(x - mean) / sqrt(var + eps) with mean and (biased) var over `axes`; also the mean and
    1 / sqrt(var + eps) themselves, over the kept dims."""
    shape, elem = lb.shape_of(x), lb.elem_of(x)
    rank = len(shape)
    kept = [d for d in range(rank) if d not in axes]
    kept_type = lb.tensor_of([shape[d] for d in kept], elem)
    inv_count = _inv_count(x, axes, elem)
    full, reduced = lb.identity_map(rank), lb.dims_map(rank, kept)
    parallel = ["parallel"] * rank
    total = lb.reduce(x, axes, lb.const(0, elem), lb.add)
    mean = lb.elementwise(kept_type, [total], lambda t: arith.mulf(t, inv_count))
    centered = lb.generic([x, mean], [lb.empty(shape, elem, x)], [full, reduced, full], parallel,
                          lambda v, m, _: arith.subf(v, m))
    squares = lb.generic([centered], [lb.filled(kept_type.shape, elem, lb.const(0, elem),
                                                [(x, d) for d in kept])],
                         [full, reduced],
                         ["reduction" if d in axes else "parallel" for d in range(rank)],
                         lambda c, acc: arith.addf(acc, arith.mulf(c, c)))
    inv_std = lb.elementwise(kept_type, [squares], lambda sq: math.rsqrt(arith.addf(
        arith.mulf(sq, inv_count), lb.const(eps, elem))))
    y = lb.generic([centered, inv_std], [lb.empty(shape, elem, x)], [full, reduced, full], parallel,
                   lambda c, s, _: arith.mulf(c, s))
    return y, mean, inv_std


def _per_channel_affine(result, y, scale, bias):
    """result[n, c, ...] = y[n, c, ...] * scale[c] + bias[c]."""
    rank = len(result.shape)
    channel = lb.dims_map(rank, [1])
    return lb.generic([y, scale, bias], [lb.empty(list(result.shape), result.element_type)],
                      [lb.identity_map(rank), channel, channel, lb.identity_map(rank)],
                      ["parallel"] * rank, lambda v, s, b, _: arith.addf(arith.mulf(v, s), b))


def lower_layer_norm(op):
    x, scale = op.operands[0], op.operands[1]
    result = _result(op)
    rank = len(result.shape)
    axis = ir.IntegerAttr(op.attributes["axis"]).value
    y, mean, inv_std = _standardize(x, list(range(axis, rank)), _float(op, "epsilon"))
    if len(op.operands) == 3:
        y = lb.elementwise(result, [y, scale, op.operands[2]],
                           lambda v, s, b: arith.addf(arith.mulf(v, s), b))
    else:
        y = lb.elementwise(result, [y, scale], arith.mulf)
    stats_shape = list(ir.RankedTensorType(op.results[1].type).shape)
    return [y, lb.collapse_to(mean, stats_shape), lb.collapse_to(inv_std, stats_shape)]


def lower_rms_norm(op):
    x, scale = op.operands
    result = _result(op)
    shape, elem = list(result.shape), result.element_type
    rank = len(shape)
    axis = ir.IntegerAttr(op.attributes["axis"]).value
    axes = list(range(axis, rank))
    kept = list(range(axis))
    inv_count = _inv_count(x, axes, elem)
    eps = _float(op, "epsilon")
    full, reduced = lb.identity_map(rank), lb.dims_map(rank, kept)
    squares = lb.generic([x], [lb.filled(shape[:axis], elem, lb.const(0, elem), x)],
                         [full, reduced],
                         ["reduction" if d in axes else "parallel" for d in range(rank)],
                         lambda v, acc: arith.addf(acc, arith.mulf(v, v)))
    inv_rms = lb.elementwise(lb.tensor_of(shape[:axis], elem), [squares], lambda sq: math.rsqrt(
        arith.addf(arith.mulf(sq, inv_count), lb.const(eps, elem))))
    y = lb.generic([x, inv_rms], [lb.empty(shape, elem, x)], [full, reduced, full],
                   ["parallel"] * rank, lambda v, r, _: arith.mulf(v, r))
    return lb.elementwise(result, [y, scale], arith.mulf)


def lower_instance_norm(op):
    x, scale, bias = op.operands
    result = _result(op)
    y, _, _ = _standardize(x, list(range(2, len(result.shape))), _float(op, "epsilon"))
    return _per_channel_affine(result, y, scale, bias)


def lower_group_norm(op):
    x, scale, bias = op.operands
    result = _result(op)
    shape = list(result.shape)
    groups = ir.IntegerAttr(op.attributes["num_groups"]).value
    # [N, C, ...] viewed as [N, G, C/G * spatial]: each group is one row to standardize.
    rows = lb.collapse_to(x, [shape[0], groups, pymath.prod(shape[1:]) // groups])
    y = lb.collapse_to(_standardize(rows, [2], _float(op, "epsilon"))[0], shape)
    return _per_channel_affine(result, y, scale, bias)


def lower_lrn(op):
    x = op.operands[0]
    result = _result(op)
    elem = result.element_type
    shape = list(result.shape)
    size = ir.IntegerAttr(op.attributes["size"]).value
    alpha, beta, bias = _float(op, "alpha"), _float(op, "beta"), _float(op, "bias")
    square = lb.elementwise(result, [x], lambda v: arith.mulf(v, v))
    low, high = (size - 1) // 2, size - 1 - (size - 1) // 2
    padded = lb.pad(square, [0, low] + [0] * (len(shape) - 2),
                    [0, high] + [0] * (len(shape) - 2), lb.const(0, elem))
    # y = x / (bias + alpha / size * window) ** beta
    def normalize(v, s):
        base = arith.addf(lb.const(bias, elem), arith.mulf(lb.const(alpha / size, elem), s))
        return arith.divf(v, math.powf(base, lb.const(beta, elem)))

    if result.has_static_shape:
        # window = the sum of `size` slices of the padded squares, shifted along the channels:
        # with x, one elementwise op (vectorized along the rows), not a reduction loop.
        taps = [tensor.extract_slice(result, padded, [], [], [], [0, k] + [0] * (len(shape) - 2),
                                     shape, [1] * len(shape)) for k in range(size)]

        def tapped(v, *squares):
            total = squares[0]
            for other in squares[1:]:
                total = arith.addf(total, other)
            return normalize(v, total)

        return lb.elementwise(result, [x, *taps], tapped)
    # window[n, c, ...] = sum over k < size of square[n, c + k - low, ...]
    rank = len(shape) + 1
    d = [ir.AffineDimExpr.get(i) for i in range(rank)]
    k = d[-1]
    padded_map = lb.affine_map(rank, [d[0], d[1] + k, *d[2:-1]])
    taps = lb.empty([size], elem)  # gives the k loop its bound
    acc = lb.filled(shape, elem, lb.const(0, elem))
    window = lb.generic([padded, taps], [acc],
                        [padded_map, lb.dims_map(rank, [rank - 1]), lb.dims_map(rank, range(rank - 1))],
                        ["parallel"] * (rank - 1) + ["reduction"],
                        lambda s, _t, a: arith.addf(a, s))
    return lb.elementwise(result, [x, window], normalize)


def lower_softmax(op):
    x = op.operands[0]
    result = _result(op)
    elem = result.element_type
    shape = list(result.shape)
    axis = ir.IntegerAttr(op.attributes["axis"]).value
    rank = len(shape)
    kept = [dd for dd in range(rank) if dd != axis]
    peak = lb.reduce(x, [axis], lb.lowest(elem), lb.maximum)
    maps = [lb.identity_map(rank), lb.dims_map(rank, kept), lb.identity_map(rank)]
    shifted = lb.generic([x, peak], [lb.empty(shape, elem, x)], maps, ["parallel"] * rank,
                         lambda v, m, _: math.exp(arith.subf(v, m)))
    total = lb.reduce(shifted, [axis], lb.const(0, elem), lb.add)
    return lb.generic([shifted, total], [lb.empty(shape, elem, x)], maps, ["parallel"] * rank,
                      lambda e, s, _: arith.divf(e, s))


def lower_hardmax(op):
    """The first index of the maximum along `axis`, then 1 where the index matches."""
    x = op.operands[0]
    result = _result(op)
    elem = result.element_type
    shape = list(result.shape)
    rank = len(shape)
    axis = ir.IntegerAttr(op.attributes["axis"]).value
    kept = [d for d in range(rank) if d != axis]
    i64 = ir.IntegerType.get_signless(64)
    best = lb.filled([shape[d] for d in kept], elem, lb.lowest(elem))
    first = lb.filled([shape[d] for d in kept], i64, lb.const(0, i64))

    def argmax(v, b, i):
        better = (arith.cmpf(arith.CmpFPredicate.OGT, v, b) if lb.is_float(elem)
                  else arith.cmpi(arith.CmpIPredicate.sgt, v, b))
        here = arith.index_cast(i64, linalg.IndexOp(axis).result)
        return [arith.select(better, v, b), arith.select(better, here, i)]

    reduced = lb.dims_map(rank, kept)
    _, index = lb.generic([x], [best, first], [lb.identity_map(rank), reduced, reduced],
                          ["reduction" if d == axis else "parallel" for d in range(rank)], argmax)

    def one_hot(i, _):
        here = arith.index_cast(i64, linalg.IndexOp(axis).result)
        hit = arith.cmpi(arith.CmpIPredicate.eq, here, i)
        return arith.select(hit, lb.const(1, elem), lb.const(0, elem))

    return lb.generic([index], [lb.empty(shape, elem)], [reduced, lb.identity_map(rank)],
                      ["parallel"] * rank, one_hot)


PATTERNS = {
    "mlc.batch_norm": lower_batch_norm,
    "mlc.layer_norm": lower_layer_norm,
    "mlc.instance_norm": lower_instance_norm,
    "mlc.rms_norm": lower_rms_norm,
    "mlc.group_norm": lower_group_norm,
    "mlc.lrn": lower_lrn,
    "mlc.softmax": lower_softmax,
    "mlc.hardmax": lower_hardmax,
}
