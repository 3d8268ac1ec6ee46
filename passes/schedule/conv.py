"""Convolutions -> matmul kernels on the NCHW layout, with no weight transform.

For one image, `conv_2d_nchw_fchw` is Y[F, OH*OW] = W[F, C*KH*KW] @ col[C*KH*KW, OH*OW]: the
filter is the left operand as it is stored, and the output comes out in NCHW. A 1x1 stride-1
conv needs no `col` (it is the input, collapsed); any other conv builds `col` one filter tap at
a time, each tap a strided slice of the (already padded) input. The matmul then goes through
the register-tiled matmul schedule, cut into tile-divisible pieces.
"""

from mlir import ir
from mlir.dialects import linalg, tensor

from mlc.passes.schedule.matmul import matmul_pieces, static_f32_shape

CONV_OPS = ("linalg.conv_2d_nchw_fchw",)


def _ints(op, name: str) -> list[int]:
    return [int(v) for v in ir.DenseIntElementsAttr(op.attributes[name])]


def _collapse(value: ir.Value, shape, reassociation) -> ir.Value:
    elem = ir.RankedTensorType(value.type).element_type
    return tensor.collapse_shape(ir.RankedTensorType.get(shape, elem), value, reassociation)


def _expand(value: ir.Value, shape, reassociation) -> ir.Value:
    elem = ir.RankedTensorType(value.type).element_type
    return tensor.expand_shape(ir.RankedTensorType.get(shape, elem), value, reassociation, [], shape)


def _columns(x: ir.Value, kh: int, kw: int, oh: int, ow: int, strides, dilations) -> ir.Value:
    """col[c, i, j, y, x] = input[0, c, y*sh + i*dh, x*sw + j*dw], as [C*KH*KW, OH*OW]."""
    _, c, _, _ = static_f32_shape(x)
    elem = ir.RankedTensorType(x.type).element_type
    col = tensor.empty([c, kh, kw, oh, ow], elem)
    tap_type = ir.RankedTensorType.get([c, oh, ow], elem)
    for i in range(kh):
        for j in range(kw):
            tap = tensor.extract_slice(tap_type, x, [], [], [], [0, 0, i * dilations[0], j * dilations[1]],
                                       [1, c, oh, ow], [1, 1, strides[0], strides[1]])
            dest = tensor.extract_slice(tap_type, col, [], [], [], [0, i, j, 0, 0], [c, 1, 1, oh, ow],
                                        [1] * 5)
            copied = linalg.copy(tap, outs=[dest])
            col = tensor.insert_slice(copied, col, [], [], [], [0, i, j, 0, 0], [c, 1, 1, oh, ow],
                                      [1] * 5)
    return _collapse(col, [c * kh * kw, oh * ow], [[0, 1, 2], [3, 4]])


def rewrite_conv(op, target, tags, kernels) -> str | None:
    """Rewrites `op` into matmul pieces (appended to `kernels`); why not, when it cannot."""
    x, w, init = op.operands[0], op.operands[1], op.operands[2]
    shapes = [static_f32_shape(v) for v in (x, w, init)]
    if any(s is None for s in shapes):
        return "not a static f32 conv"
    (n, c, h, wd), (f, _, kh, kw), (_, _, oh, ow) = shapes
    if n != 1:
        return f"batch {n} > 1 is not scheduled yet"
    strides, dilations = _ints(op, "strides"), _ints(op, "dilations")
    with ir.InsertionPoint(op), op.location:
        a = _collapse(w, [f, c * kh * kw], [[0], [1, 2, 3]])
        out = _collapse(init, [f, oh * ow], [[0, 1], [2, 3]])
        if (kh, kw) == (1, 1) and strides == [1, 1] and (h, wd) == (oh, ow):
            b = _collapse(x, [c, h * wd], [[0, 1], [2, 3]])
        else:
            b = _columns(x, kh, kw, oh, ow, strides, dilations)
        result, pieces = matmul_pieces(a, b, out, target, tags)
        result = _expand(result, [1, f, oh, ow], [[0, 1], [2, 3]])
    op.results[0].replace_all_uses_with(result)
    op.erase()
    kernels += pieces
    return None
