"""2-D max and sum pooling as two separable passes of elementwise ops.

A rectangular window's max (or sum) is the max over its columns of the max over its rows:
    r[nc, y, w] = op_i x[nc, y*sh + i*dh, w]          (KH taps, whole input rows)
    out[nc, y, x] = op_j r[nc, y, x*sw + j*dw]        (KW taps)
Each tap is one elementwise op over a slice, so the elementwise schedule vectorizes both
passes (a width stride reads the row pass's column phases, `depthwise.column_phases`, so the
column taps stay unit-stride) and the window costs KH + KW operations per output instead of
KH * KW. The `linalg.pooling_nchw_*` op, which no schedule matches, is gone.
"""

from mlir import ir
from mlir.dialects import tensor

from mlc.passes import linalg_builders as lb
from mlc.passes.schedule.depthwise import column_phases
from mlc.passes.schedule.matmul import static_f32_shape

POOLING_OPS = {"linalg.pooling_nchw_max": lb.maximum, "linalg.pooling_nchw_sum": lb.add}


def _ints(op, name: str) -> list[int]:
    return [int(v) for v in ir.DenseIntElementsAttr(op.attributes[name])]


def _taps(acc: ir.Value, source: ir.Value, offsets_of, sizes, strides, count: int, combine,
          source_sizes=None) -> ir.Value:
    """acc = combine(acc, tap) for each of `count` strided slices of `source` (each
    `source_sizes` of it, rank-reduced to `sizes`, when given)."""
    identity = lb.identity_map(3)
    for t in range(count):
        tap = tensor.extract_slice(lb.tensor_of(sizes, lb.elem_of(source)), source, [], [], [],
                                   offsets_of(t), source_sizes or sizes, strides)
        acc = lb.generic([tap], [acc], [identity, identity], ["parallel"] * 3,
                         lambda v, a: combine(a, v))
    return acc


def rewrite_pooling(op, lanes: int = 16) -> bool:
    """Replaces a static f32 2-D pooling op by its two passes; False when it is not one."""
    combine = POOLING_OPS.get(op.name)
    x, window, init = op.operands
    shapes = [static_f32_shape(v) for v in (x, init)]
    if combine is None or any(s is None for s in shapes):
        return False
    (n, c, _, w), (_, _, oh, ow) = shapes
    kh, kw = lb.shape_of(window)
    (sh, sw), (dh, dw) = _ints(op, "strides"), _ints(op, "dilations")
    with ir.InsertionPoint(op), op.location:
        elem = lb.elem_of(x)
        x3 = tensor.collapse_shape(lb.tensor_of([n * c, *lb.shape_of(x)[2:]], elem), x, [[0, 1], [2], [3]])
        init3 = tensor.collapse_shape(lb.tensor_of([n * c, oh, ow], elem), init, [[0, 1], [2], [3]])
        rows = _taps(lb.filled([n * c, oh, w], elem, lb.lowest(elem) if combine is lb.maximum
                               else lb.const(0, elem)),
                     x3, lambda i: [0, i * dh, 0], [n * c, oh, w], [1, sh, 1], kh, combine)
        if sw == 1:
            out = _taps(init3, rows, lambda j: [0, 0, j * dw], [n * c, oh, ow], [1, 1, 1], kw,
                        combine)
        else:  # taps from the rows' column phases: unit-stride, so vectorized
            phases = column_phases(rows, sw, ow + (kw - 1) * dw // sw, lanes)
            out = _taps(init3, phases, lambda j: [0, 0, j * dw % sw, j * dw // sw],
                        [n * c, oh, ow], [1, 1, 1, 1], kw, combine, [n * c, oh, 1, ow])
        result = tensor.expand_shape(ir.RankedTensorType(op.results[0].type), out,
                                     [[0, 1], [2], [3]], [], [n, c, oh, ow])
    op.results[0].replace_all_uses_with(result)
    op.erase()
    return True
