"""Convolution and pooling mlc ops -> linalg on padded NC... tensors (1-D, 2-D and 3-D).

Padding is a filled tensor with the input inserted (zeros for conv and average, -inf for
max); ceil-mode pooling pads the high side further so the last window fits. Where linalg has a named op for
the layout (conv_1d_ncw_fcw, conv_2d_nchw_fchw, conv_3d_ncdhw_fcdhw, pooling_ncw_*,
pooling_nchw_*) the lowering uses it; 2-D grouped and depthwise convs go through
conv_2d_ngchw_gfchw on an [N, G, C/G, H, W] view, and the cases linalg names no op for
(grouped 1-D/3-D convs, 3-D pooling) are the same computation as a linalg.generic.
ConvTranspose is a stride-1 convolution of the input spread out by the strides (zeros
between the elements) with the kernel flipped and its channel dims swapped per group.
"""

import functools

import numpy as np
from mlir import ir
from mlir.dialects import arith, linalg, math, tensor

from mlc.passes import linalg_builders as lb


def _ints(op, name: str) -> list[int]:
    return list(ir.DenseI64ArrayAttr(op.attributes[name]))


def _result(op) -> ir.RankedTensorType:
    return ir.RankedTensorType(op.results[0].type)


def _padded_input(op, kernel, fill, x=None, channels_last: bool = False):
    """The input (or `x` in its place) padded by `pads`, plus extra high padding so every
    output window fits. Its spatial dims follow N and C, or (`channels_last`) sit between."""
    x = op.operands[0] if x is None else x
    in_shape, out_shape = lb.shape_of(x), list(_result(op).shape)
    strides, dilations, pads = _ints(op, "strides"), _ints(op, "dilations"), _ints(op, "pads")
    rank = len(kernel)
    first = 1 if channels_last else 2
    low, high = pads[:rank], pads[rank:]
    for i in range(rank):
        needed = (out_shape[first + i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1
        high[i] = max(high[i], needed - in_shape[first + i] - low[i])
    if channels_last:
        return lb.pad(x, [0, *low, 0], [0, *high, 0], fill), strides, dilations
    return lb.pad(x, [0, 0, *low], [0, 0, *high], fill), strides, dilations


def _batch_like(op, out_shape) -> list:
    """`like` for a result whose only dynamic dim can be the batch (N, dim 0 of the input)."""
    return [(op.operands[0], 0)] + [None] * (len(out_shape) - 1)


def _conv_init(op, out_shape, elem, channel_dim: int = 1):
    """The accumulator: the bias broadcast over N and the spatial dims, or zeros."""
    rank = len(out_shape)
    like = _batch_like(op, out_shape)
    if len(op.operands) == 3:
        return lb.generic([op.operands[2]], [lb.empty(out_shape, elem, like)],
                          [lb.dims_map(rank, [channel_dim]), lb.identity_map(rank)],
                          ["parallel"] * rank, lambda b, _: b)
    return lb.filled(out_shape, elem, lb.const(0, elem), like)


def _split_dim(value, dim: int, group: int):
    """Views dim `dim` (static) of `value` as [group, size / group]."""
    shape = lb.shape_of(value)
    new_shape = shape[:dim] + [group, shape[dim] // group] + shape[dim + 1:]
    reassoc = [[d] for d in range(dim)] + [[dim, dim + 1]] + [[d + 1] for d in range(dim + 1, len(shape))]
    sizes = [lb.dim(value, d) for d in range(len(shape)) if lb.is_dynamic(shape[d])]
    return tensor.expand_shape(lb.tensor_of(new_shape, lb.elem_of(value)), value, reassoc, sizes,
                               new_shape)


def _merge_dim(result_type, value, dim: int):
    rank = len(lb.shape_of(value))
    reassoc = [[d] for d in range(dim)] + [[dim, dim + 1]] + [[d] for d in range(dim + 2, rank)]
    return tensor.collapse_shape(result_type, value, reassoc)


def _grouped_conv_generic(xg, wg, init_g, strides, dilations):
    """out[n,g,f,o..] += x[n,g,c,o*s+k*d..] * w[g,f,c,k..] as one linalg.generic, any rank."""
    r = len(strides)
    d = [ir.AffineDimExpr.get(i) for i in range(4 + 2 * r)]
    n, g, f, c = d[0], d[1], d[2], d[3 + r]
    o, k = d[3:3 + r], d[4 + r:]
    rank = len(d)
    x_map = lb.affine_map(rank, [n, g, c] + [o[i] * strides[i] + k[i] * dilations[i] for i in range(r)])
    w_map = lb.affine_map(rank, [g, f, c, *k])
    out_map = lb.affine_map(rank, [n, g, f, *o])
    iterators = ["parallel"] * (3 + r) + ["reduction"] * (1 + r)
    return lb.generic([xg, wg], [init_g], [x_map, w_map, out_map], iterators,
                      lambda a, b, acc: lb.add(acc, lb.mul(a, b)))


_NAMED_CONV = {1: linalg.conv_1d_ncw_fcw, 2: linalg.conv_2d_nchw_fchw, 3: linalg.conv_3d_ncdhw_fcdhw}


def _convolve(result, x, filt, init, group, strides, dilations):
    """The convolution of the already padded `x`, accumulated into `init`."""
    rank = len(strides)
    if group == 1 and rank in _NAMED_CONV:
        return _NAMED_CONV[rank](x, filt, outs=[init], strides=strides, dilations=dilations)
    xg, wg, init_g = _split_dim(x, 1, group), _split_dim(filt, 0, group), _split_dim(init, 1, group)
    if rank == 2:
        yg = linalg.conv_2d_ngchw_gfchw(xg, wg, outs=[init_g], strides=strides, dilations=dilations)
    else:
        yg = _grouped_conv_generic(xg, wg, init_g, strides, dilations)
    return _merge_dim(result, yg, 1)


def lower_conv(op):
    filt = op.operands[1]
    result = _result(op)
    elem = result.element_type
    kernel = lb.shape_of(filt)[2:]
    x, strides, dilations = _padded_input(op, kernel, lb.const(0, elem))
    group = ir.IntegerAttr(op.attributes["group"]).value
    init = _conv_init(op, list(result.shape), elem)
    return _convolve(result, x, filt, init, group, strides, dilations)


def lower_conv_nhwc(op):
    """out[n, y, x, f] = bias[f] + sum x_pad[n, y*sh + i*dh, x*sw + j*dw, c] * w[i, j, c, f]."""
    result = _result(op)
    elem = result.element_type
    kernel = lb.shape_of(op.operands[1])[:2]
    x, strides, dilations = _padded_input(op, kernel, lb.const(0, elem), channels_last=True)
    init = _conv_init(op, list(result.shape), elem, channel_dim=3)
    return linalg.conv_2d_nhwc_hwcf(x, op.operands[1], outs=[init], strides=strides,
                                    dilations=dilations)


def _spread_input(op, kernel):
    """ConvTranspose's input as a stride-1 conv sees it: strided zeros between the elements,
    (k - 1) * d - pad_begin zeros before and (k - 1) * d - pad_end + output_padding after
    (a negative amount crops)."""
    x = op.operands[0]
    shape, elem = lb.shape_of(x), lb.elem_of(x)
    strides, dilations, pads = _ints(op, "strides"), _ints(op, "dilations"), _ints(op, "pads")
    extra = _ints(op, "output_padding")
    r = len(kernel)
    low = [(kernel[i] - 1) * dilations[i] - pads[i] for i in range(r)]
    high = [(kernel[i] - 1) * dilations[i] - pads[r + i] + extra[i] for i in range(r)]
    spread = [(shape[2 + i] - 1) * strides[i] + 1 for i in range(r)]
    full = shape[:2] + [spread[i] + max(low[i], 0) + max(high[i], 0) for i in range(r)]
    zeros = lb.filled(full, elem, lb.const(0, elem))
    x = tensor.insert_slice(x, zeros, [], [], [], [0, 0] + [max(lo, 0) for lo in low], shape,
                            [1, 1] + strides)
    if any(lo < 0 for lo in low) or any(hi < 0 for hi in high):
        sizes = shape[:2] + [full[2 + i] - max(-low[i], 0) - max(-high[i], 0) for i in range(r)]
        x = tensor.extract_slice(lb.tensor_of(sizes, elem), x, [], [], [],
                                 [0, 0] + [max(-lo, 0) for lo in low], sizes, [1] * len(sizes))
    return x


def _flipped_filter(filt, group: int):
    """[C, F/G, k..] -> [F, C/G, k..] with every spatial dim reversed, per group.

    The reversed taps are read with tensor.extract at computed coordinates: an indexing map
    with a negative coefficient (k - 1 - d) is one that linalg's tiling rejects.
    """
    shape, elem = lb.shape_of(filt), lb.elem_of(filt)
    c, fg, kernel = shape[0], shape[1], shape[2:]
    r = len(kernel)
    cg = c // group
    index = ir.IndexType.get()

    def body(_):
        at = [linalg.IndexOp(d).result for d in range(2 + r)]  # over the result [F, C/G, k..]
        g = arith.divui(at[0], arith.constant(index, fg))
        f = arith.remui(at[0], arith.constant(index, fg))
        src_c = arith.addi(arith.muli(g, arith.constant(index, cg)), at[1])
        taps = [arith.subi(arith.constant(index, kernel[i] - 1), at[2 + i]) for i in range(r)]
        return tensor.extract(filt, [src_c, f, *taps])

    out_shape = [group * fg, cg, *kernel]
    return lb.generic([], [lb.empty(out_shape, elem)], [lb.identity_map(2 + r)],
                      ["parallel"] * (2 + r), body)


def lower_conv_transpose(op):
    filt = op.operands[1]
    result = _result(op)
    elem = result.element_type
    kernel = lb.shape_of(filt)[2:]
    group = ir.IntegerAttr(op.attributes["group"]).value
    x = _spread_input(op, kernel)
    init = _conv_init(op, list(result.shape), elem)
    return _convolve(result, x, _flipped_filter(filt, group), init, group, [1] * len(kernel),
                     _ints(op, "dilations"))


def _pool_generic(x, kernel, init, strides, dilations, combine):
    """out[n,c,o..] = combine over k.. of x[n,c,o*s+k*d..], for ranks with no named op."""
    r = len(kernel)
    d = [ir.AffineDimExpr.get(i) for i in range(2 + 2 * r)]
    o, k = d[2:2 + r], d[2 + r:]
    rank = len(d)
    x_map = lb.affine_map(rank, d[:2] + [o[i] * strides[i] + k[i] * dilations[i] for i in range(r)])
    window = lb.empty(kernel, lb.elem_of(x))  # gives the k loops their bounds
    return lb.generic([x, window], [init],
                      [x_map, lb.affine_map(rank, k), lb.affine_map(rank, d[:2 + r])],
                      ["parallel"] * (2 + r) + ["reduction"] * r,
                      lambda v, _w, acc: combine(acc, v))


_NAMED_POOL = {("max", 1): linalg.pooling_ncw_max, ("max", 2): linalg.pooling_nchw_max,
               ("sum", 1): linalg.pooling_ncw_sum, ("sum", 2): linalg.pooling_nchw_sum}


def _pool(kind: str, x, kernel, init, strides, dilations):
    named = _NAMED_POOL.get((kind, len(kernel)))
    if named:
        return named(x, lb.empty(kernel, lb.elem_of(x)), outs=[init], strides=strides,
                     dilations=dilations)
    return _pool_generic(x, kernel, init, strides, dilations,
                         lb.maximum if kind == "max" else lb.add)


def lower_max_pool(op):
    kernel = _ints(op, "kernel")
    result = _result(op)
    elem = result.element_type
    x, strides, dilations = _padded_input(op, kernel, lb.lowest(elem))
    init = lb.filled(list(result.shape), elem, lb.lowest(elem), _batch_like(op, result.shape))
    return _pool("max", x, kernel, init, strides, dilations)


def lower_max_pool_nhwc(op):
    """out[n, y, x, c] = max over (i, j) of x_pad[n, y*sh + i*dh, x*sw + j*dw, c]."""
    kernel = _ints(op, "kernel")
    result = _result(op)
    elem = result.element_type
    x, strides, dilations = _padded_input(op, kernel, lb.lowest(elem), channels_last=True)
    init = lb.filled(list(result.shape), elem, lb.lowest(elem))
    return linalg.pooling_nhwc_max(x, lb.empty(kernel, elem), outs=[init], strides=strides,
                                   dilations=dilations)


def lower_max_pool_with_indices(op):
    """Max pooling whose reduction also carries the flat input index of the best tap: the
    first maximum in window order wins, and -inf padding never does."""
    kernel = _ints(op, "kernel")
    result = _result(op)
    elem = result.element_type
    in_shape = lb.shape_of(op.operands[0])
    x, strides, dilations = _padded_input(op, kernel, lb.lowest(elem))
    low = _ints(op, "pads")[:len(kernel)]
    column_major = ir.IntegerAttr(op.attributes["storage_order"]).value == 1
    r = len(kernel)
    d = [ir.AffineDimExpr.get(i) for i in range(2 + 2 * r)]
    o, k = d[2:2 + r], d[2 + r:]
    rank = len(d)
    x_map = lb.affine_map(rank, d[:2] + [o[i] * strides[i] + k[i] * dilations[i] for i in range(r)])
    out_map = lb.affine_map(rank, d[:2 + r])
    i64 = ir.IntegerType.get_signless(64)
    out_shape = list(result.shape)
    best = lb.filled(out_shape, elem, lb.lowest(elem))
    first = lb.filled(out_shape, i64, lb.const(0, i64))

    def body(v, _w, b, i):
        at = [arith.index_cast(i64, linalg.IndexOp(j).result) for j in range(rank)]
        # the tap's position in the unpadded input: o * s + k * d - pad_begin
        pos = [arith.subi(arith.addi(arith.muli(at[2 + j], lb.const(strides[j], i64)),
                                     arith.muli(at[2 + r + j], lb.const(dilations[j], i64))),
                          lb.const(low[j], i64)) for j in range(r)]
        flat = arith.addi(arith.muli(at[0], lb.const(in_shape[1], i64)), at[1])
        order = list(reversed(range(r))) if column_major else list(range(r))
        for j in order:
            flat = arith.addi(arith.muli(flat, lb.const(in_shape[2 + j], i64)), pos[j])
        better = arith.cmpf(arith.CmpFPredicate.OGT, v, b)
        return [arith.select(better, v, b), arith.select(better, flat, i)]

    window = lb.empty(kernel, elem)
    return lb.generic([x, window], [best, first],
                      [x_map, lb.affine_map(rank, k), out_map, out_map],
                      ["parallel"] * (2 + r) + ["reduction"] * r, body)


def _p_power(x, p: float):
    if p == 1:
        return math.absf(x)
    if p == 2:
        return arith.mulf(x, x)
    return math.powf(math.absf(x), lb.const(p, x.type))


def _p_root(x, p: float):
    if p == 1:
        return x
    if p == 2:
        return math.sqrt(x)
    return math.powf(x, lb.const(1.0 / p, x.type))


def lower_lp_pool(op):
    """(sum over the window of |x|^p)^(1/p); padding adds zeros."""
    kernel = _ints(op, "kernel")
    result = _result(op)
    elem = result.element_type
    p = ir.FloatAttr(op.attributes["p"]).value
    x = op.operands[0]
    powered = lb.elementwise(ir.RankedTensorType(x.type), [x], lambda v: _p_power(v, p))
    padded, strides, dilations = _padded_input(op, kernel, lb.const(0, elem), powered)
    init = lb.filled(list(result.shape), elem, lb.const(0, elem))
    total = _pool("sum", padded, kernel, init, strides, dilations)
    return lb.elementwise(result, [total], lambda t: _p_root(t, p))


def _window_counts(size, out, k, s, d, low, high, include_pad) -> np.ndarray:
    """How many window taps of each output position fall inside the counted range."""
    lo, hi = (-low, size + high) if include_pad else (0, size)
    starts = np.arange(out) * s - low
    taps = starts[:, None] + np.arange(k)[None, :] * d
    return ((taps >= lo) & (taps < hi)).sum(axis=1)


def lower_avg_pool(op, channels_last: bool = False):
    """The window sums (zero padding) times 1 / the count of taps each window has: all of
    them with count_include_pad, else those inside the image. `channels_last`: an NHWC
    image (mlc.avg_pool_nhwc), 2-D."""
    kernel = _ints(op, "kernel")
    result = _result(op)
    elem = result.element_type
    x, strides, dilations = _padded_input(op, kernel, lb.const(0, elem),
                                          channels_last=channels_last)
    pads = _ints(op, "pads")
    r = len(kernel)
    include = bool(ir.IntegerAttr(op.attributes["count_include_pad"]).value)
    spatial = slice(1, 1 + r) if channels_last else slice(2, 2 + r)
    in_hw, out_hw = lb.shape_of(op.operands[0])[spatial], list(result.shape)[spatial]
    if channels_last:
        init = lb.filled(list(result.shape), elem, lb.const(0, elem))
        total = linalg.pooling_nhwc_sum(x, lb.empty(kernel, elem), outs=[init], strides=strides,
                                        dilations=dilations)
    else:
        init = lb.filled(list(result.shape), elem, lb.const(0, elem), _batch_like(op, result.shape))
        total = _pool("sum", x, kernel, init, strides, dilations)
    counts = [_window_counts(in_hw[i], out_hw[i], kernel[i], strides[i], _ints(op, "dilations")[i],
                             pads[i], pads[r + i], include) for i in range(r)]
    scale = (1.0 / functools.reduce(np.multiply.outer, counts)).astype(np.float32)
    if channels_last:
        scale, out_hw = scale[..., None], out_hw + [1]  # broadcast along the channels
    scale_type = lb.tensor_of(out_hw, elem)
    if np.all(scale == scale.flat[0]):
        attr = ir.DenseElementsAttr.get_splat(scale_type, ir.FloatAttr.get(elem, float(scale.flat[0])))
    else:
        attr = ir.DenseElementsAttr.get(scale, type=elem)
    scale_value = arith.constant(scale_type, attr)
    return lb.elementwise(result, [total, scale_value], lb.mul)


def lower_global_max_pool(op):
    x = op.operands[0]
    elem = lb.elem_of(x)
    peak = lb.reduce(x, list(range(2, len(lb.shape_of(x)))), lb.lowest(elem), lb.maximum)
    return lb.expand_dims_to(peak, list(_result(op).shape))


def lower_global_avg_pool(op):
    x = op.operands[0]
    result = _result(op)
    elem = result.element_type
    shape = lb.shape_of(x)
    spatial = list(range(2, len(shape)))
    total = lb.reduce(x, spatial, lb.const(0, elem), lb.add)
    count = float(np.prod(shape[2:]))
    mean = lb.elementwise(lb.tensor_of(shape[:2], elem), [total],
                          lambda t: lb.mul(t, lb.const(1.0 / count, elem)))
    return lb.expand_dims_to(mean, list(result.shape))


PATTERNS = {
    "mlc.conv": lower_conv,
    "mlc.conv_nhwc": lower_conv_nhwc,
    "mlc.max_pool_nhwc": lower_max_pool_nhwc,
    "mlc.max_pool": lower_max_pool,
    "mlc.avg_pool": lower_avg_pool,
    "mlc.avg_pool_nhwc": lambda op: lower_avg_pool(op, channels_last=True),
    "mlc.global_avg_pool": lower_global_avg_pool,
    "mlc.global_max_pool": lower_global_max_pool,
    "mlc.lp_pool": lower_lp_pool,
    "mlc.max_pool_with_indices": lower_max_pool_with_indices,
    "mlc.conv_transpose": lower_conv_transpose,
}
