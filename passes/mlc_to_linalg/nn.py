"""Convolution and pooling mlc ops -> linalg named ops on padded NCHW tensors.

Padding is an explicit tensor.pad (zeros for conv and average, -inf for max); ceil-mode
pooling pads the high side further so the last window fits. Grouped and depthwise convs go
through linalg's grouped convolution on an [N, G, C/G, H, W] view.
"""

import numpy as np
from mlir import ir
from mlir.dialects import linalg, tensor

from mlc.passes import linalg_builders as lb


def _ints(op, name: str) -> list[int]:
    return list(ir.DenseI64ArrayAttr(op.attributes[name]))


def _result(op) -> ir.RankedTensorType:
    return ir.RankedTensorType(op.results[0].type)


def _padded_input(op, kernel, fill):
    """The input padded by `pads`, plus extra high padding so every output window fits."""
    x = op.operands[0]
    in_shape, out_shape = lb.shape_of(x), list(_result(op).shape)
    strides, dilations, pads = _ints(op, "strides"), _ints(op, "dilations"), _ints(op, "pads")
    rank = len(kernel)
    low, high = pads[:rank], pads[rank:]
    for i in range(rank):
        needed = (out_shape[2 + i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1
        high[i] = max(high[i], needed - in_shape[2 + i] - low[i])
    return lb.pad(x, [0, 0, *low], [0, 0, *high], fill), strides, dilations


def lower_conv(op):
    filt = op.operands[1]
    result = _result(op)
    elem = result.element_type
    out_shape = list(result.shape)
    kernel = lb.shape_of(filt)[2:]
    if len(kernel) != 2:
        return None
    x, strides, dilations = _padded_input(op, kernel, lb.const(0, elem))
    group = ir.IntegerAttr(op.attributes["group"]).value
    if len(op.operands) == 3:  # the accumulator starts as the bias, broadcast over N, H, W
        init = lb.generic([op.operands[2]], [lb.empty(out_shape, elem)],
                          [lb.dims_map(4, [1]), lb.identity_map(4)], ["parallel"] * 4,
                          lambda b, _: b)
    else:
        init = lb.filled(out_shape, elem, lb.const(0, elem))
    if group == 1:
        return linalg.conv_2d_nchw_fchw(x, filt, outs=[init], strides=strides, dilations=dilations)
    n, c, h, w = lb.shape_of(x)
    f = out_shape[1]
    xg = tensor.expand_shape(lb.tensor_of([n, group, c // group, h, w], elem), x,
                             [[0], [1, 2], [3], [4]], [], [n, group, c // group, h, w])
    fshape = lb.shape_of(filt)
    wg_shape = [group, f // group, *fshape[1:]]
    wg = tensor.expand_shape(lb.tensor_of(wg_shape, elem), filt, [[0, 1], [2], [3], [4]], [],
                             wg_shape)
    init_shape = [n, group, f // group, *out_shape[2:]]
    init_g = tensor.expand_shape(lb.tensor_of(init_shape, elem), init, [[0], [1, 2], [3], [4]],
                                 [], init_shape)
    yg = linalg.conv_2d_ngchw_gfchw(xg, wg, outs=[init_g], strides=strides, dilations=dilations)
    return tensor.collapse_shape(result, yg, [[0], [1, 2], [3], [4]])


def lower_max_pool(op):
    kernel = _ints(op, "kernel")
    result = _result(op)
    elem = result.element_type
    if len(kernel) != 2:
        return None
    x, strides, dilations = _padded_input(op, kernel, lb.lowest(elem))
    init = lb.filled(list(result.shape), elem, lb.lowest(elem))
    window = lb.empty(kernel, elem)
    return linalg.pooling_nchw_max(x, window, outs=[init], strides=strides, dilations=dilations)


def _window_counts(size, out, k, s, d, low, high, include_pad) -> np.ndarray:
    """How many window taps of each output position fall inside the counted range."""
    lo, hi = (-low, size + high) if include_pad else (0, size)
    starts = np.arange(out) * s - low
    taps = starts[:, None] + np.arange(k)[None, :] * d
    return ((taps >= lo) & (taps < hi)).sum(axis=1)


def lower_avg_pool(op):
    kernel = _ints(op, "kernel")
    result = _result(op)
    elem = result.element_type
    if len(kernel) != 2:
        return None
    x, strides, dilations = _padded_input(op, kernel, lb.const(0, elem))
    init = lb.filled(list(result.shape), elem, lb.const(0, elem))
    window = lb.empty(kernel, elem)
    total = linalg.pooling_nchw_sum(x, window, outs=[init], strides=strides, dilations=dilations)
    pads = _ints(op, "pads")
    include = bool(ir.IntegerAttr(op.attributes["count_include_pad"]).value)
    in_hw, out_hw = lb.shape_of(op.operands[0])[2:], list(result.shape)[2:]
    counts = [_window_counts(in_hw[i], out_hw[i], kernel[i], strides[i], _ints(op, "dilations")[i],
                             pads[i], pads[2 + i], include) for i in range(2)]
    scale = (1.0 / np.outer(counts[0], counts[1])).astype(np.float32)
    scale_type = lb.tensor_of(out_hw, elem)
    if np.all(scale == scale.flat[0]):
        attr = ir.DenseElementsAttr.get_splat(scale_type, ir.FloatAttr.get(elem, float(scale.flat[0])))
    else:
        attr = ir.DenseElementsAttr.get(scale, type=elem)
    from mlir.dialects import arith
    scale_value = arith.constant(scale_type, attr)
    return lb.elementwise(result, [total, scale_value], lb.mul)


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
    "mlc.max_pool": lower_max_pool,
    "mlc.avg_pool": lower_avg_pool,
    "mlc.global_avg_pool": lower_global_avg_pool,
}
