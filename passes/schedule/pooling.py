"""2-D max and sum pooling as two separable passes of elementwise ops.

A rectangular window's max (or sum) is the max over its columns of the max over its rows:
    r[nc, y, w] = op_i x[nc, y*sh + i*dh, w]          (KH taps, whole input rows)
    out[nc, y, x] = op_j r[nc, y, x*sw + j*dw]        (KW taps)
Each pass is one elementwise op over its taps (strided slices), so the elementwise schedule
vectorizes the row pass (its rows are contiguous) and the window costs KH + KW operations per
output instead of KH * KW. A column pass with a width stride would read every sw-th column (no
vector load does that): stride 2 reads its rows as column pairs (`_paired_columns`), other
strides read the rows' column phases (`depthwise.column_phases`), both unit-stride. The
`linalg.pooling_nchw_*` op, which no schedule matches, is gone. An NHWC image's max pool
(`mlc-nhwc-layout`'s) takes the same two passes over [H, W, C], where every tap's rows of
channels are contiguous whatever the stride.
"""

import numpy as np
from mlir import ir
from mlir.dialects import arith, tensor

from mlc.passes import linalg_builders as lb
from mlc.passes.schedule.depthwise import column_phases
from mlc.passes.schedule.matmul import static_f32_shape

POOLING_OPS = {"linalg.pooling_nchw_max": lb.maximum, "linalg.pooling_nchw_sum": lb.add,
               "linalg.pooling_nhwc_max": lb.maximum, "linalg.pooling_nhwc_sum": lb.add}


def _ints(op, name: str) -> list[int]:
    return [int(v) for v in ir.DenseIntElementsAttr(op.attributes[name])]


def _taps(acc: ir.Value, source: ir.Value, offsets_of, sizes, strides, count: int, combine,
          fresh: bool = False, source_sizes=None) -> ir.Value:
    """acc = combine(acc, tap_0, ..., tap_{count-1}) over `count` strided slices of `source`
    (each `source_sizes` of it, rank-reduced to `sizes`, when given), in one pass; with
    `fresh`, acc's values are not read (it only gives the shape)."""
    identity = lb.identity_map(3)
    taps = [tensor.extract_slice(lb.tensor_of(sizes, lb.elem_of(source)), source, [], [], [],
                                 offsets_of(t), source_sizes or sizes, strides)
            for t in range(count)]

    def body(*args):
        value = args[0]
        for other in args[1:count]:
            value = combine(value, other)
        return value if fresh else combine(args[-1], value)

    return lb.generic(taps, [acc], [identity] * (count + 1), ["parallel"] * 3, body)


def _paired_columns(init3: ir.Value, rows: ir.Value, kw: int, ow: int, fill: ir.Value,
                    combine) -> ir.Value:
    """The column pass of a stride-2 window over `rows` [NC, OH, W'] without strided reads:
    columns 2x + j are pair x + j // 2, lane j % 2, of rows viewed as [NC, OH, W'/2, 2].
    One generic reduces each output's pairs (the lane is its innermost, reduction dim), so
    every read is contiguous; the odd window's last lane is masked to `fill` (a constant
    [1, 0] chooses). `rows` is at least 2 * (ow + kw // 2) wide."""
    nc, oh, _ = lb.shape_of(rows)
    elem = lb.elem_of(rows)
    pairs = (kw + 1) // 2
    ins, maps = [], []
    for q in range(pairs):
        cols = tensor.extract_slice(lb.tensor_of([nc, oh, 2 * ow], elem), rows, [], [], [],
                                    [0, 0, 2 * q], [nc, oh, 2 * ow], [1, 1, 1])
        ins.append(tensor.expand_shape(lb.tensor_of([nc, oh, ow, 2], elem), cols,
                                       [[0], [1], [2, 3]], [], [nc, oh, ow, 2]))
        maps.append(lb.identity_map(4))
    if kw % 2:
        mask_type = lb.tensor_of([2], elem)
        ins.append(arith.constant(mask_type, ir.DenseElementsAttr.get(
            np.array([1.0, 0.0], dtype=np.float32), type=mask_type)))
        maps.append(lb.dims_map(4, [3]))

    def body(*args):
        values, acc = list(args[:pairs]), args[-1]
        if kw % 2:
            keep = arith.cmpf(arith.CmpFPredicate.OGT, args[pairs], lb.const(0.5, elem))
            values[-1] = arith.select(keep, values[-1], fill)
        value = values[0]
        for other in values[1:]:
            value = combine(value, other)
        return combine(acc, value)

    return lb.generic(ins, [init3], maps + [lb.dims_map(4, [0, 1, 2])],
                      ["parallel"] * 3 + ["reduction"], body)


def _channels_last(op, combine) -> None:
    """One NHWC image's pooling as its two passes over [H, W, C]: every tap is a strided
    slice whose rows of channels are contiguous, so both passes vectorize along C."""
    x, window, init = op.operands
    (_, h, w, c), (_, oh, ow, _) = static_f32_shape(x), static_f32_shape(init)
    kh, kw = lb.shape_of(window)
    (sh, sw), (dh, dw) = _ints(op, "strides"), _ints(op, "dilations")
    with ir.InsertionPoint(op), op.location:
        elem = lb.elem_of(x)
        x3 = tensor.collapse_shape(lb.tensor_of([h, w, c], elem), x, [[0, 1], [2], [3]])
        init3 = tensor.collapse_shape(lb.tensor_of([oh, ow, c], elem), init, [[0, 1], [2], [3]])
        rows = _taps(lb.empty([oh, w, c], elem), x3, lambda i: [i * dh, 0, 0], [oh, w, c],
                     [sh, 1, 1], kh, combine, fresh=True)
        out = _taps(init3, rows, lambda j: [0, j * dw, 0], [oh, ow, c], [1, sw, 1], kw, combine)
        result = tensor.expand_shape(ir.RankedTensorType(op.results[0].type), out,
                                     [[0, 1], [2], [3]], [], [1, oh, ow, c])
    op.results[0].replace_all_uses_with(result)
    op.erase()


def rewrite_pooling(op, lanes: int = 16) -> bool:
    """Replaces a static f32 2-D pooling op by its two passes; False when it is not one."""
    combine = POOLING_OPS.get(op.name)
    x, window, init = op.operands
    shapes = [static_f32_shape(v) for v in (x, init)]
    if combine is None or any(s is None for s in shapes):
        return False
    if op.name.startswith("linalg.pooling_nhwc"):
        if shapes[0][0] != 1:
            return False
        _channels_last(op, combine)
        return True
    (n, c, _, w), (_, _, oh, ow) = shapes
    kh, kw = lb.shape_of(window)
    (sh, sw), (dh, dw) = _ints(op, "strides"), _ints(op, "dilations")
    paired = sw == 2 and dw == 1
    with ir.InsertionPoint(op), op.location:
        elem = lb.elem_of(x)
        fill = lb.lowest(elem) if combine is lb.maximum else lb.const(0, elem)
        x3 = tensor.collapse_shape(lb.tensor_of([n * c, *lb.shape_of(x)[2:]], elem), x, [[0, 1], [2], [3]])
        init3 = tensor.collapse_shape(lb.tensor_of([n * c, oh, ow], elem), init, [[0, 1], [2], [3]])
        rows = _taps(lb.empty([n * c, oh, w], elem), x3, lambda i: [0, i * dh, 0],
                     [n * c, oh, w], [1, sh, 1], kh, combine, fresh=True)
        if paired:
            # A stride-2 column pass reads its rows in pairs: room for the last pair.
            width = max(w, 2 * (ow + kw // 2))
            if width != w:
                edge = lb.filled([n * c, oh, width - w], elem, fill)
                border = tensor.insert_slice(edge, lb.empty([n * c, oh, width], elem), [], [], [],
                                             [0, 0, w], [n * c, oh, width - w], [1, 1, 1])
                rows = tensor.insert_slice(rows, border, [], [], [], [0, 0, 0], [n * c, oh, w],
                                           [1, 1, 1])
            out = _paired_columns(init3, rows, kw, ow, fill, combine)
        elif sw == 1:
            out = _taps(init3, rows, lambda j: [0, 0, j * dw], [n * c, oh, ow], [1, 1, 1], kw,
                        combine)
        else:  # taps from the rows' column phases: unit-stride, so vectorized
            phases = column_phases(rows, sw, ow + (kw - 1) * dw // sw, lanes)
            out = _taps(init3, phases, lambda j: [0, 0, j * dw % sw, j * dw // sw],
                        [n * c, oh, ow], [1, 1, 1, 1], kw, combine,
                        source_sizes=[n * c, oh, 1, ow])
        result = tensor.expand_shape(ir.RankedTensorType(op.results[0].type), out,
                                     [[0, 1], [2], [3]], [], [n, c, oh, ow])
    op.results[0].replace_all_uses_with(result)
    op.erase()
    return True
