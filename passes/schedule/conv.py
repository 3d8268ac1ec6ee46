"""Convolutions -> matmul kernels, on NHWC images (the common case) or NCHW ones.

`mlc-nhwc-layout` moves each group-1 conv over 16+ channels (and RGB stems that
`small_conv` does not take) to NHWC; for one image, `conv_2d_nhwc_hwcf` is
Y[OH*OW, F] = col[OH*OW, KH*KW*C] @ W[KH*KW*C, F], the orientation the panel kernel is fast
in (many rows, a constant right-hand side in column panels). A 1x1 stride-1 conv needs no
col (it is the input, collapsed); with the filter in panels, every other conv has the panel
kernel gather col's rows from the padded input in place (`panel_gemm.ConvRows`: a kernel
row's taps are one contiguous run of KW*C channels), so no conv builds an im2col copy or
computes a pixel it drops, and each takes its consumer as the kernel's epilogue. A filter
without panels falls back to wide rows for a stride-1 KxK conv (`_wide_rows_gemm`) or an
im2col copy. The layout's edges, 4-D transposes between NCHW and NHWC, run as 2-D
register-tile transposes (`layout_transpose`).

The convs left NCHW (`conv_2d_nchw_fchw`: an RGB stem, 1x1 convs among NCHW-only ops) are
Y[F, OH*OW] = W[F, C*KH*KW] @ col[C*KH*KW, OH*OW]: the filter is the left operand as it is
stored, and the output comes out in NCHW. Grouped convs (`conv_2d_ngchw_gfchw`) become one
such matmul conv per group; depthwise ones (one input and one output channel per group)
become one kernel over the output (`mlc.passes.schedule.depthwise`), and so do strided convs
over few input channels, such as an RGB stem (`mlc.passes.schedule.small_conv`).
"""

from dataclasses import replace

from mlir import ir
from mlir.dialects import arith, linalg, scf, tensor

from mlc.passes import linalg_builders as lb
from mlc.passes.schedule import depthwise, small_conv
from mlc.passes.schedule.config import conv_config, runs_wide
from mlc.passes.schedule.matmul import (fuse_into_consumer, matmul_pieces, panels_behind,
                                        static_f32_shape)
from mlc.passes.schedule.panel_gemm import ConvRows, find_epilogue
from mlc.passes.schedule.parallel import MIN_MATMUL_FLOPS, chunk_count, forall_blocks

CONV_OPS = ("linalg.conv_2d_nchw_fchw", "linalg.conv_2d_nhwc_hwcf", "linalg.conv_2d_ngchw_gfchw")


def _ints(op, name: str) -> list[int]:
    return [int(v) for v in ir.DenseIntElementsAttr(op.attributes[name])]


def _collapse(value: ir.Value, shape, reassociation) -> ir.Value:
    elem = ir.RankedTensorType(value.type).element_type
    return tensor.collapse_shape(ir.RankedTensorType.get(shape, elem), value, reassociation)


def _expand(value: ir.Value, shape, reassociation) -> ir.Value:
    elem = ir.RankedTensorType(value.type).element_type
    return tensor.expand_shape(ir.RankedTensorType.get(shape, elem), value, reassociation, [], shape)


def _copy_tap(col: ir.Value, source: ir.Value, tap_type, offsets, sizes, strides, slot,
              slot_sizes) -> ir.Value:
    """col with the strided slice `source[offsets; sizes; strides]` (shaped `tap_type`)
    copied into its slot at `slot` (a unit-stride slice of `slot_sizes`)."""
    tap = tensor.extract_slice(tap_type, source, [], [], [], offsets, sizes, strides)
    ones = [1] * len(slot)
    dest = tensor.extract_slice(tap_type, col, [], [], [], slot, slot_sizes, ones)
    copied = linalg.copy(tap, outs=[dest])
    return tensor.insert_slice(copied, col, [], [], [], slot, slot_sizes, ones)


def _columns(x: ir.Value, kh: int, kw: int, oh: int, ow: int, strides, dilations,
             lanes: int) -> ir.Value:
    """col[c, i, j, y, x] = input[0, c, y*sh + i*dh, x*sw + j*dw], as [C*KH*KW, OH*OW].

    With a width stride s > 1 each tap copies from the input's column phases (see
    `depthwise.column_phases`), so every copied row is unit-stride and moves whole vectors."""
    _, c, _, _ = static_f32_shape(x)
    (sh, sw), (dh, dw) = strides, dilations
    elem = ir.RankedTensorType(x.type).element_type
    col = tensor.empty([c, kh, kw, oh, ow], elem)
    tap_type = ir.RankedTensorType.get([c, oh, ow], elem)
    phases = depthwise.column_phases(x, sw, ow + (kw - 1) * dw // sw, lanes) if sw != 1 else None
    for i in range(kh):
        for j in range(kw):
            if phases is None:
                source, offsets = x, [0, 0, i * dh, j * dw]
                sizes, tap_strides = [1, c, oh, ow], [1, 1, sh, 1]
            else:
                source, offsets = phases, [0, 0, i * dh, j * dw % sw, j * dw // sw]
                sizes, tap_strides = [1, c, oh, 1, ow], [1, 1, sh, 1, 1]
            col = _copy_tap(col, source, tap_type, offsets, sizes, tap_strides,
                            [0, i, j, 0, 0], [c, 1, 1, oh, ow])
    return _collapse(col, [c * kh * kw, oh * ow], [[0, 1, 2], [3, 4]])


def _conv_into_consumer(op, target, tags) -> list | None:
    """A 1x1 stride-1 conv's GEMM with its elementwise consumer as the panel kernel's epilogue
    (`fuse_into_consumer`): the kernels, or None when it does not apply."""
    x, w, init = op.operands[0], op.operands[1], op.operands[2]
    _, c, h, wd = static_f32_shape(x)
    f, _, kh, kw = static_f32_shape(w)
    _, _, oh, ow = static_f32_shape(init)
    if (kh, kw) != (1, 1) or _ints(op, "strides") != [1, 1] or (h, wd) != (oh, ow):
        return None
    found = find_epilogue(op.results[0], f, oh * ow)
    if found is None:
        return None
    a = _collapse(w, [f, c], [[0], [1, 2, 3]])
    b = _collapse(x, [c, h * wd], [[0, 1], [2, 3]])
    return fuse_into_consumer(op, a, b, _collapse(init, [f, oh * ow], [[0, 1], [2, 3]]), target,
                              tags, found)


def _conv_as_matmul(x, w, init, strides, dilations, target, tags):
    """One image's conv (x [1,C,H,W], w [F,C,KH,KW], init [1,F,OH,OW]) as matmul pieces."""
    _, c, h, wd = static_f32_shape(x)
    f, _, kh, kw = static_f32_shape(w)
    _, _, oh, ow = static_f32_shape(init)
    a = _collapse(w, [f, c * kh * kw], [[0], [1, 2, 3]])
    out = _collapse(init, [f, oh * ow], [[0, 1], [2, 3]])
    if (kh, kw) == (1, 1) and strides == [1, 1] and (h, wd) == (oh, ow):
        b = _collapse(x, [c, h * wd], [[0, 1], [2, 3]])
    else:
        b = _columns(x, kh, kw, oh, ow, strides, dilations, target.f32_lanes)
    result, pieces = matmul_pieces(a, b, out, target, tags)
    return _expand(result, [1, f, oh, ow], [[0, 1], [2, 3]]), pieces


def _nhwc_columns(xt: ir.Value, kh: int, kw: int, oh: int, ow: int, strides, dilations) -> ir.Value:
    """col[y, x, i, j, c] = xt[y*sh + i*dh, x*sw + j*dw, c], as [OH*OW, KH*KW*C]."""
    _, _, c = lb.shape_of(xt)
    elem = lb.elem_of(xt)
    col = tensor.empty([oh, ow, kh, kw, c], elem)
    tap_type = ir.RankedTensorType.get([oh, ow, c], elem)
    for i in range(kh):
        for j in range(kw):
            col = _copy_tap(col, xt, tap_type, [i * dilations[0], j * dilations[1], 0],
                            [oh, ow, c], [strides[0], strides[1], 1],
                            [0, 0, i, j, 0], [oh, ow, 1, 1, c])
    return _collapse(col, [oh * ow, kh * kw * c], [[0, 1], [2, 3, 4]])


def nhwc_epilogue(conv_op) -> tuple | None:
    """(consumer, operand index) when the output pass of the wide-row NHWC conv `conv_op`
    can absorb the conv's only user: an all-parallel linalg.generic reading the conv with the
    identity map and writing the same shape (a bias-free ReLU, a residual add, ...); None
    otherwise."""
    if conv_op.name != "linalg.conv_2d_nhwc_hwcf" or not nhwc_wide(conv_op):
        return None
    uses = list(conv_op.results[0].uses)
    if len(uses) != 1:
        return None
    user = uses[0].owner
    user = user.operation if hasattr(user, "operation") else user
    if user.name != "linalg.generic" or len(user.results) != 1:
        return None
    if any("parallel" not in str(it) for it in ir.ArrayAttr(user.attributes["iterator_types"])):
        return None
    n_inputs = len(user.operands) - 1
    index = uses[0].operand_number
    maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(user.attributes["indexing_maps"])]
    identity = lb.identity_map(4)
    if index >= n_inputs or maps[index] != identity or maps[-1] != identity:
        return None
    if any(o.name == "linalg.index" for o in user.regions[0].blocks[0].operations):
        return None
    return user, index


def _column_pieces(size: int, lanes: int) -> list[tuple[int, int]]:
    """[(offset, length)] covering `size`: whole vectors, then what is left."""
    main = size // lanes * lanes
    return [(o, n) for o, n in ((0, main), (main, size - main)) if n]


def _transposed(src, dst, lanes: int):
    """dst[i, j] = src[j, i] over 2-D tensors, in pieces of whole vectors along both dims and
    then the rests, so that every piece but the thin edges is made of square register-tile
    transposes (see `elementwise_config`); a dim that vectors do not divide would otherwise
    leave the whole transpose to strided gathers."""
    result = dst
    rows, cols = lb.shape_of(dst)
    for r0, rn in _column_pieces(rows, lanes):
        for c0, cn in _column_pieces(cols, lanes):
            part_src = _slice(src, [c0, r0], [cn, rn], [cn, rn])
            part_out = _slice(result, [r0, c0], [rn, cn], [rn, cn])
            done = lb.generic([part_src], [part_out], [lb.dims_map(2, [1, 0]), lb.identity_map(2)],
                              ["parallel"] * 2, lambda v, _: v)
            result = _insert(done, result, [r0, c0], [rn, cn])
    return result


LAYOUT_PERMS = ((0, 2, 3, 1), (0, 3, 1, 2))  # NCHW -> NHWC, NHWC -> NCHW


def layout_transpose(op, lanes: int) -> bool:
    """A `linalg.transpose` of one image between NCHW and NHWC (`mlc-nhwc-layout`'s edges) as
    the 2-D transpose it is ([C, H*W] <-> [H*W, C]) in square register tiles; False when
    `op` is not one."""
    if op.name != "linalg.transpose":
        return False
    perm = tuple(ir.DenseI64ArrayAttr(op.attributes["permutation"]))
    shape = static_f32_shape(op.operands[0])
    if perm not in LAYOUT_PERMS or shape is None or shape[0] != 1:
        return False
    out_shape = lb.shape_of(op.results[0])
    with ir.InsertionPoint(op), op.location:
        if perm == (0, 2, 3, 1):
            src = _collapse(op.operands[0], [shape[1], shape[2] * shape[3]], [[0, 1], [2, 3]])
            dst = [shape[2] * shape[3], shape[1]]
            out_groups = [[0, 1, 2], [3]]
        else:
            src = _collapse(op.operands[0], [shape[1] * shape[2], shape[3]], [[0, 1, 2], [3]])
            dst = [shape[3], shape[1] * shape[2]]
            out_groups = [[0, 1], [2, 3]]
        moved = _transposed(src, lb.empty(dst, lb.elem_of(src)), lanes)
        result = _expand(moved, out_shape, out_groups)
    op.results[0].replace_all_uses_with(result)
    op.erase()
    return True


def _through_consumer(y, init, epilogue):
    """One pass: init + y (both shaped like the output), through the absorbed consumer when
    there is one (built at the consumer, whose output it writes)."""
    shape, elem = lb.shape_of(init), lb.elem_of(init)
    identity = lb.identity_map(len(shape))
    init, init_map = lb.broadcast_source(init)
    if epilogue is None:
        return lb.generic([y, init], [lb.empty(shape, elem)], [identity, init_map, identity],
                          ["parallel"] * len(shape), lambda v, bias, _: lb.add(bias, v))
    consumer, index = epilogue
    n_inputs = len(consumer.operands) - 1
    maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(consumer.attributes["indexing_maps"])]
    others = [i for i in range(n_inputs) if i != index]
    body_ops = list(consumer.regions[0].blocks[0].operations)
    args = consumer.regions[0].blocks[0].arguments

    def body(v, bias, *rest):
        mapping = {args[index]: lb.add(bias, v)}
        mapping.update({args[i]: value for i, value in zip(others + [n_inputs], rest)})
        mapping = lb.clone_ops(body_ops[:-1], mapping)
        return [mapping.get(r, r) for r in body_ops[-1].operands]

    with ir.InsertionPoint(consumer), consumer.location:
        return lb.generic([y, init, *[consumer.operands[i] for i in others]],
                          [consumer.operands[n_inputs]],
                          [identity, init_map, *[maps[i] for i in others], maps[-1]],
                          ["parallel"] * len(shape), body)


DYNAMIC = ir.ShapedType.get_dynamic_stride_or_offset()


def _dynamic_slice(value, row, sizes):
    """value[row : row + sizes[0], 0 : sizes[1]], `row` an index value."""
    result = lb.tensor_of(sizes, lb.elem_of(value))
    return tensor.extract_slice(result, value, [row], [], [], [DYNAMIC, 0], sizes, [1, 1])


def _wide_rows_gemm(xt, b, dims, block_rows, target, tags):
    """Yw[OH*W, F] of a stride-1 conv on xt[rows, C], the padded input as rows of channels
    (at least H*W + KW-1 rows, the last ones zeros): output pixel (y, x) of "wide" row
    p = y*W + x reads tap (i, j) from row p + i*W + j, so each tap's left operand is a plain
    row slice of xt, and Yw = sum over taps of xt[i*W + j :][:OH*W] @ B_tap[C, F]; the KW-1
    last columns of each wide row wrap into the next input row and are garbage. (A filter
    with panels takes `ConvRows` instead.) With `block_rows`, an scf.for
    runs every tap on one block of wide rows before the next."""
    kh, kw, wd, oh = dims
    c, f = lb.shape_of(xt)[1], lb.shape_of(b)[1]
    elem = lb.elem_of(xt)
    rows = oh * wd
    yw = lb.filled([rows, f], elem, lb.const(0, elem))
    block = block_rows or rows
    index = ir.IndexType.get()
    loop = scf.ForOp(arith.constant(index, 0), arith.constant(index, rows),
                     arith.constant(index, block), [yw])
    with ir.InsertionPoint(loop.body):
        start = loop.induction_variable
        acc = _dynamic_slice(loop.inner_iter_args[0], start, [block, f])
        # The taps in loops too (dynamic slices of static shapes): one kernel, not KH*KW.
        rows_loop = scf.ForOp(arith.constant(index, 0), arith.constant(index, kh),
                              arith.constant(index, 1), [acc])
        with ir.InsertionPoint(rows_loop.body):
            i = rows_loop.induction_variable
            cols_loop = scf.ForOp(arith.constant(index, 0), arith.constant(index, kw),
                                  arith.constant(index, 1), [rows_loop.inner_iter_args[0]])
            with ir.InsertionPoint(cols_loop.body):
                j = cols_loop.induction_variable
                shift = arith.addi(arith.muli(i, arith.constant(index, wd)), j)
                a = _dynamic_slice(xt, arith.addi(start, shift), [block, c])
                tap_row = arith.muli(arith.addi(arith.muli(i, arith.constant(index, kw)), j),
                                     arith.constant(index, c))
                tap = _dynamic_slice(b, tap_row, [c, f])
                done, pieces = matmul_pieces(a, tap, cols_loop.inner_iter_args[0], target, tags)
                scf.YieldOp([done])
            scf.YieldOp([cols_loop.results[0]])
        scf.YieldOp([tensor.insert_slice(rows_loop.results[0], loop.inner_iter_args[0], [start],
                                         [], [], [DYNAMIC, 0], [block, f], [1, 1])])
    return loop.results[0], pieces


def nhwc_wide(op) -> bool:
    """Whether the NHWC conv `op` reads wide rows of its input in place: a stride-1 KxK conv
    whose filter has no column panels (with panels, the panel kernel gathers its rows)."""
    kh, kw = lb.shape_of(op.operands[1])[:2]
    return panels_behind(op.operands[1]) is None and runs_wide(
        (kh, kw), lb.shape_of(op.operands[2])[2], _ints(op, "strides"), _ints(op, "dilations"))


def _own_pad(x: ir.Value, rows_below: int = 0) -> ir.Value | None:
    """When x [1, H, W, C] is a pad (a slice inserted into a filled tensor), the same pad,
    `rows_below` image rows taller, on a fill of its own; else None. CSE merges the fills of
    equal-shaped pads, and a shared fill is copied whole before each insert: a fill each is
    written in place."""
    op = lb.producer(x)
    fill = op is not None and op.name == "tensor.insert_slice" and lb.producer(op.operands[1])
    if not fill or fill.name != "linalg.fill" or len(op.operands) != 2:
        return None
    _, h, wd, c = lb.shape_of(x)
    source = op.operands[0]
    offsets = list(ir.DenseI64ArrayAttr(op.attributes["static_offsets"]))
    return tensor.insert_slice(source, lb.filled([1, h + rows_below, wd, c], lb.elem_of(x),
                                                 fill.operands[0]),
                               [], [], [], offsets, lb.shape_of(source), [1, 1, 1, 1])


def _rows_with_zeros_below(x: ir.Value) -> ir.Value:
    """x [1, H, W, C] (padded) as rows of channels [(H+1)*W, C], one image row more below,
    so that the wide GEMM's last taps read in bounds. When x is a pad, the taller one is
    built instead of it, with no extra copy."""
    _, h, wd, c = lb.shape_of(x)
    taller = _own_pad(x, 1)
    if taller is None:
        taller = lb.pad(x, [0, 0, 0, 0], [0, 1, 0, 0], lb.const(0, lb.elem_of(x)))
    return _collapse(taller, [(h + 1) * wd, c], [[0, 1, 2], [3]])


def _nhwc_conv(op, target, tags) -> list:
    """One NHWC image's conv (x [1,H,W,C] padded, w [KH,KW,C,F], init [1,OH,OW,F]) as a GEMM
    with pixels for rows, Y[OH*OW, F] = col @ W[KH*KW*C, F], replacing `op` (and the
    consumer it absorbs); returns the kernels. A 1x1 stride-1 conv reads the input as it
    lies; with the filter in column panels, any other conv has the panel kernel gather its
    rows from the input in place (`ConvRows`); both take their consumer as the GEMM's
    epilogue when they can (`fuse_into_consumer`). Without panels, a stride-1 KxK conv reads
    wide rows in place (`_wide_rows_gemm`) and one pass drops the wrapped columns, adds init
    and applies the consumer; other convs build an im2col copy."""
    x, w, init = op.operands[0], op.operands[1], op.operands[2]
    _, h, wd, c = static_f32_shape(x)
    kh, kw, _, f = static_f32_shape(w)
    _, oh, ow, _ = static_f32_shape(init)
    strides, dilations = _ints(op, "strides"), _ints(op, "dilations")
    rows_of = [[0, 1, 2], [3]]
    conv = None
    with ir.InsertionPoint(op), op.location:
        b = _collapse(w, [kh * kw * c, f], [[0, 1, 2], [3]])
        if nhwc_wide(op):
            epilogue = nhwc_epilogue(op)
            config = conv_config((kh, kw), (f, oh, ow), target)
            yw, pieces = _wide_rows_gemm(_rows_with_zeros_below(x), b, (kh, kw, wd, oh),
                                         config.block_rows, target, tags)
            yw4 = _expand(yw, [1, oh, wd, f], rows_of)
            kept = _slice(yw4, [0, 0, 0, 0], [1, oh, ow, f], [1, oh, ow, f])
            result = _through_consumer(kept, init, epilogue)
            replaced = epilogue[0] if epilogue else op
            replaced.results[0].replace_all_uses_with(result)
            if epilogue:
                replaced.erase()
            op.erase()
            return pieces
        if (kh, kw) == (1, 1) and strides == [1, 1] and (h, wd) == (oh, ow):
            a = _collapse(x, [oh * ow, c], rows_of)
        elif panels_behind(w) is not None:
            a = _collapse(_own_pad(x) or x, [h * wd * c], [[0, 1, 2, 3]])
            conv = ConvRows(ow, wd, c, (kh, kw), tuple(strides), tuple(dilations))
        else:
            xt = _collapse(x, [h, wd, c], [[0, 1], [2], [3]])
            a = _nhwc_columns(xt, kh, kw, oh, ow, strides, dilations)
        c2 = _collapse(init, [oh * ow, f], rows_of)
    found = find_epilogue(op.results[0], oh * ow, f)
    fused = found and fuse_into_consumer(op, a, b, c2, target, tags, found, conv)
    if fused:
        return fused
    with ir.InsertionPoint(op), op.location:
        result, pieces = matmul_pieces(a, b, c2, target, tags, conv)
        result = _expand(result, [1, oh, ow, f], rows_of)
    op.results[0].replace_all_uses_with(result)
    op.erase()
    return pieces


def _slice(value, offsets, sizes, result_shape, strides=None):
    elem = ir.RankedTensorType(value.type).element_type
    return tensor.extract_slice(ir.RankedTensorType.get(result_shape, elem), value, [], [], [],
                                offsets, sizes, strides or [1] * len(sizes))


def _insert(value, into, offsets, sizes):
    return tensor.insert_slice(value, into, [], [], [], offsets, sizes, [1] * len(sizes))


def _group_slice(value, dim, group, sizes, result_shape):
    """The slice of `value` at offset `group` (an int or an index value) along `dim`."""
    offsets = [0] * len(sizes)
    if isinstance(group, int):
        offsets[dim] = group
        return _slice(value, offsets, sizes, result_shape)
    offsets[dim] = ir.ShapedType.get_dynamic_size()
    return tensor.extract_slice(lb.tensor_of(result_shape, lb.elem_of(value)), value, [group], [],
                                [], offsets, sizes, [1] * len(sizes))


def _grouped(x, w, init, strides, dilations, target, tags):
    """One image's grouped conv (x [1,G,C/G,H,W], ...) as one matmul conv per group. When the
    groups are worth a fork and need no scratch buffer (1x1, stride 1: the matmul reads the
    input as it lies), a parallel loop runs blocks of groups; their matmuls then run whole."""
    _, g, cg, h, wd = static_f32_shape(x)
    _, fg, _, kh, kw = static_f32_shape(w)
    _, _, _, oh, ow = static_f32_shape(init)
    pieces = []

    def groups(first, block):
        """The groups first + j of `block` [1, n, FG, OH, OW] (first: an int or an index)."""
        for j in range(lb.shape_of(block)[1]):
            group = first + j if isinstance(first, int) else (
                first if j == 0 else arith.addi(first, arith.constant(ir.IndexType.get(), j)))
            xg = _group_slice(x, 1, group, [1, 1, cg, h, wd], [1, cg, h, wd])
            wg = _group_slice(w, 0, group, [1, fg, cg, kh, kw], [fg, cg, kh, kw])
            ig = _slice(block, [0, j, 0, 0, 0], [1, 1, fg, oh, ow], [1, fg, oh, ow])
            yg, more = _conv_as_matmul(xg, wg, ig, strides, dilations, target, tags)
            pieces.extend(more)
            block = _insert(yg, block, [0, j, 0, 0, 0], [1, 1, fg, oh, ow])
        return block

    in_place = (kh, kw) == (1, 1) and strides == [1, 1] and (h, wd) == (oh, ow)
    flops = 2 * g * fg * cg * kh * kw * oh * ow
    parts = chunk_count(g) if in_place and flops >= MIN_MATMUL_FLOPS else 0
    if not parts:
        return groups(0, init), pieces
    result = forall_blocks(init, 1, parts, groups)
    return result, [(tag, replace(config, parallel_chunk=0)) for tag, config in pieces]


MAX_GROUPS = 64  # more groups (short of depthwise) stay naive: one kernel set per group


def rewrite_conv(op, target, tags, kernels) -> str | None:
    """Rewrites `op` into matmul pieces or elementwise taps (matmul pieces are appended to
    `kernels`); why not, when it cannot."""
    x, w, init = op.operands[0], op.operands[1], op.operands[2]
    shapes = [static_f32_shape(v) for v in (x, w, init)]
    if any(s is None for s in shapes):
        return "not a static f32 conv"
    if shapes[0][0] != 1:
        return f"batch {shapes[0][0]} > 1 is not scheduled yet"
    if op.name == "linalg.conv_2d_nhwc_hwcf":
        kernels += _nhwc_conv(op, target, tags)
        return None
    if depthwise.is_depthwise(op):
        depthwise.rewrite_depthwise(op, target)
        return None
    if small_conv.applies(op):
        small_conv.rewrite(op, target.f32_lanes)
        return None
    strides, dilations = _ints(op, "strides"), _ints(op, "dilations")
    with ir.InsertionPoint(op), op.location:
        if op.name == "linalg.conv_2d_nchw_fchw":
            fused = _conv_into_consumer(op, target, tags)
            if fused:
                kernels += fused
                return None
            result, pieces = _conv_as_matmul(x, w, init, strides, dilations, target, tags)
        elif shapes[0][1] <= MAX_GROUPS:
            result, pieces = _grouped(x, w, init, strides, dilations, target, tags)
        else:
            return f"{shapes[0][1]} groups > {MAX_GROUPS}"
    op.results[0].replace_all_uses_with(result)
    op.erase()
    kernels += pieces
    return None
