"""Depthwise convs -> one kernel over the output: taps, bias and epilogue fused.

A depthwise conv (`conv_2d_ngchw_gfchw`, one input and one output channel per group) is

    y[g, oh, ow] = init[g, oh, ow] + sum_{i,j} w[g, i, j] * x[g, oh*sh + i*dh, ow*sw + j*dw]

When the conv's elementwise consumer (the BatchNorm-folded Clip / ReLU6) reads nothing else,
the whole of it runs as the row kernel of `mlc.passes.schedule.depthwise_rows`: sums in
registers over a row of outputs, the input rows read once per filter row whatever the stride.

Otherwise (a consumer that reads another tensor, such as a residual add) the sum is one
all-parallel linalg.generic whose inputs are the KH*KW tap slices of the padded input and the
KH*KW filter columns, with the bias and the consumer's body in the same body; the elementwise
schedule vectorizes it along output rows. A tap is a unit-stride row only when the width
stride is 1 (a strided vector read would be scalar loads): for a width stride s the input is
first split into its s column phases, phase p holding columns p, p+s, p+2s, ...
(`column_phases`: per row, one vector load and s shuffles), and tap (i, j) reads phase
(j*dw) mod s from column ow + (j*dw) div s. Row strides stay slice strides.

The row kernel reads a zero-padded input where it lies, unpadded (`_unpadded`): the padding
is never built, so the op producing the input writes a plain tensor and nothing copies it.
The generic's padded input is rebuilt with only its border filled, before the op that
produces its interior, so that op writes straight into it (`_padded_in_place`).
"""

from mlir import ir
from mlir.dialects import arith, math, scf, tensor, vector

from mlc.passes import linalg_builders as lb
from mlc.passes.schedule import depthwise_rows

RANK = 5  # [1, G, 1, H, W]: the iteration space of the fused generic is the conv's output


def _slice(value, offsets, sizes, result_shape, strides=None):
    return tensor.extract_slice(lb.tensor_of(result_shape, lb.elem_of(value)), value, [], [], [],
                                offsets, sizes, strides or [1] * len(sizes))


def _maps(op) -> list[ir.AffineMap]:
    return [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(op.attributes["indexing_maps"])]


def _is_parallel_generic(op) -> bool:
    return (op is not None and op.name == "linalg.generic" and len(op.results) == 1
            and all("parallel" in str(it) for it in ir.ArrayAttr(op.attributes["iterator_types"]))
            and not any(o.name == "linalg.index" for o in op.regions[0].blocks[0].operations))


def is_depthwise(op) -> bool:
    """A grouped conv with one input and one output channel per group, on static shapes."""
    if op.name != "linalg.conv_2d_ngchw_gfchw":
        return False
    x, w = (ir.RankedTensorType(v.type) for v in op.operands[:2])
    return x.has_static_shape and w.has_static_shape and x.shape[2] == 1 and w.shape[1] == 1


def describe_fusion(op) -> str:
    """What `rewrite_depthwise` will fuse, for `mlc compile --report`."""
    parts = ["taps fused into one elementwise kernel (one write of the output)"]
    if lb.broadcast_source(op.operands[2])[0] != op.operands[2]:
        parts.append("bias fused (the sum starts from it)")
    if elementwise_consumer(op) is not None:
        parts.append("its elementwise consumer fused (the kernel's nodes name it)")
    return "; ".join(parts)


def elementwise_consumer(op) -> tuple | None:
    """(consumer, operand index) when the conv's only user is an all-parallel generic reading
    it with the identity map and writing the same shape (a Clip, a ReLU, ...); None otherwise."""
    uses = list(op.results[0].uses)
    if len(uses) != 1:
        return None
    user = uses[0].owner
    user = user.operation if hasattr(user, "operation") else user
    if not _is_parallel_generic(user):
        return None
    index, maps = uses[0].operand_number, _maps(user)
    identity = lb.identity_map(RANK)
    if index >= len(user.operands) - 1 or maps[index] != identity or maps[-1] != identity:
        return None
    return user, index


def _pad_of(x: ir.Value):
    """(insert_slice, fill, its constant, (top, left)) when `x` is a padded tensor built as
    the expanded `insert_slice(src into fill(c))` (lb.pad) of static 4-D shapes, the pad on H
    and W only, `src` at (top, left); None otherwise."""
    reshape = lb.producer(x)
    insert = lb.producer(reshape.operands[0]) if reshape is not None \
        and reshape.name == "tensor.expand_shape" else None
    if insert is None or insert.name != "tensor.insert_slice" or len(insert.operands) != 2:
        return None
    fill = lb.producer(insert.operands[1])
    value = lb.producer(fill.operands[0]) if fill is not None and fill.name == "linalg.fill" \
        else None
    offsets = list(ir.DenseI64ArrayAttr(insert.attributes["static_offsets"]))
    strides = list(ir.DenseI64ArrayAttr(insert.attributes["static_strides"]))
    if value is None or value.name != "arith.constant" or strides != [1] * len(strides) \
            or len(offsets) != 4 or offsets[:2] != [0, 0]:
        return None
    return insert, fill, value, (offsets[2], offsets[3])


def _padded_in_place(x: ir.Value) -> None:
    """When `x` is a padded tensor (`_pad_of`), builds it instead as a tensor of its own
    whose border alone is filled, defined before `src`'s producer: the producer then writes
    its result straight into the interior (eliminate-empty-tensors), which saves a fill of
    the whole buffer and a copy of `src` into it."""
    pad = _pad_of(x)
    if pad is None:
        return
    insert, fill, value, (top, left) = pad
    src_op = lb.producer(insert.operands[0])
    if src_op is None or src_op.name != "linalg.generic" or len(list(insert.results[0].uses)) != 1:
        return
    if len(list(insert.operands[0].uses)) != 1:  # read elsewhere too: bufferization would copy
        return
    inner, outer = lb.shape_of(insert.operands[0]), lb.shape_of(insert.operands[1])
    (_, g, h, w), (_, _, hp, wp) = inner, outer
    elem = lb.elem_of(x)
    # (offsets, sizes) of the border: rows above and below, columns left and right.
    border = [([0, 0, 0, 0], [1, g, top, wp]), ([0, 0, top + h, 0], [1, g, hp - top - h, wp]),
              ([0, 0, top, 0], [1, g, h, left]), ([0, 0, top, left + w], [1, g, h, wp - left - w])]
    with ir.InsertionPoint(src_op), insert.location:
        # The producer's own output tensor: an empty shared with other ops would be replaced
        # for all of them, and bufferization would copy around the conflicts.
        src_op.operands[len(src_op.operands) - 1] = tensor.empty(inner, elem)
        c = arith.constant(elem, value.attributes["value"])
        padded = tensor.empty(outer, elem)
        for at, sizes in border:
            if 0 not in sizes:
                padded = tensor.insert_slice(lb.filled(sizes, elem, c), padded, [], [], [], at,
                                             sizes, [1] * 4)
    with ir.InsertionPoint(insert), insert.location:
        result = tensor.insert_slice(insert.operands[0], padded, [], [], [], [0, 0, top, left],
                                     inner, [1] * 4)
    insert.results[0].replace_all_uses_with(result)
    insert.erase()
    if not list(fill.results[0].uses):  # CSE may have shared one fill between two pads
        fill.erase()


def _unpadded(x: ir.Value) -> tuple[ir.Value, tuple[int, int]]:
    """(src, (top, left)) when `x` is `src` padded with zeros at (top, left) (`_pad_of`);
    (x, (0, 0)) otherwise."""
    pad = _pad_of(x)
    if pad is None or ir.FloatAttr(pad[2].attributes["value"]).value != 0.0:
        return x, (0, 0)
    return pad[0].operands[0], pad[3]


def _index(i: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), i)


def column_phases(x: ir.Value, s: int, length: int, lanes: int) -> ir.Value:
    """x [..., W] -> [..., s, length] with out[..., p, c] = x[..., c*s + p] (0 past W).

    Per row, chunks of `lanes` outputs: one unit-stride load of s*lanes inputs, then one
    shuffle per phase picking every s-th element."""
    shape = lb.shape_of(x)
    lead, width, elem = shape[:-1], shape[-1], lb.elem_of(x)
    rows = 1
    for d in lead:
        rows *= d
    flat = lb.collapse_to(x, [rows, width])
    out = tensor.empty([rows, s, length], elem)
    read_map = ir.AffineMap.get_minor_identity(2, 1)
    write_map = ir.AffineMap.get_minor_identity(3, 1)
    zero = lb.const(0, elem)
    loop = scf.ForOp(_index(0), _index(rows), _index(1), [out])
    with ir.InsertionPoint(loop.body):
        row, acc = loop.induction_variable, loop.inner_iter_args[0]
        for start in range(0, length, lanes):
            n = min(lanes, length - start)
            fits = s * (start + n) <= width
            wide = vector.transfer_read(ir.VectorType.get([s * n], elem), flat,
                                        [row, _index(s * start)], read_map, zero, [fits])
            for p in range(s):
                phase = vector.shuffle(wide, wide, [s * k + p for k in range(n)])
                acc = vector.transfer_write(acc.type, phase, acc,
                                            [row, _index(p), _index(start)], write_map, [True])
        scf.YieldOp([acc])
    return lb.collapse_to(loop.results[0], [*lead, s, length])


def _taps(x, kh, kw, oh, ow, strides, dilations, lanes) -> list[ir.Value]:
    """The KH*KW input slices [1, G, 1, OH, OW] that filter taps (i, j) multiply, each a
    unit-stride row slice (through column phases when the width stride is not 1)."""
    _, g, _, _, _ = lb.shape_of(x)
    (sh, sw), (dh, dw) = strides, dilations
    out_shape = [1, g, 1, oh, ow]
    if sw != 1:
        phases = column_phases(x, sw, ow + (kw - 1) * dw // sw, lanes)
        return [_slice(phases, [0, 0, 0, i * dh, j * dw % sw, j * dw // sw],
                       [1, g, 1, oh, 1, ow], out_shape, [1, 1, 1, sh, 1, 1])
                for i in range(kh) for j in range(kw)]
    return [_slice(x, [0, 0, 0, i * dh, j * dw], out_shape, out_shape, [1, 1, 1, sh, 1])
            for i in range(kh) for j in range(kw)]


def rewrite_depthwise(op, target) -> None:
    """Replaces the depthwise conv `op` (x [1,G,1,H,W], w [G,1,1,KH,KW], init [1,G,1,OH,OW])
    and its elementwise consumer, when it has one, by the fused generic."""
    x, w, init = op.operands[0], op.operands[1], op.operands[2]
    _, g, _, _, _ = lb.shape_of(x)
    _, _, _, kh, kw = lb.shape_of(w)
    _, _, _, oh, ow = lb.shape_of(init)
    strides = [int(v) for v in ir.DenseIntElementsAttr(op.attributes["strides"])]
    dilations = [int(v) for v in ir.DenseIntElementsAttr(op.attributes["dilations"])]
    consumer = elementwise_consumer(op)
    epilogue = depthwise_rows.vector_epilogue(consumer, consumer[1] if consumer else 0)
    if epilogue is not None:
        last = consumer[0] if consumer else op
        with ir.InsertionPoint(last), last.location:
            bias, bias_map = lb.broadcast_source(init)
            out = last.operands[1] if consumer else lb.empty(lb.shape_of(init), lb.elem_of(init))
            source, pads = _unpadded(x)
            result = depthwise_rows.row_kernel(source, pads, w, init, bias, bias_map, out,
                                               strides, dilations, epilogue, target.f32_lanes,
                                               op.location)
        depthwise_rows.replace_conv(op, last, result, init)
        return
    _padded_in_place(x)
    with ir.InsertionPoint(op), op.location:
        taps = _taps(x, kh, kw, oh, ow, strides, dilations, target.f32_lanes)
        # Unreduced [G, 1, 1, 1, 1] slices: the innermost dim keeps stride 1, so each weight
        # is a plain load (a [G] column of stride KH*KW would be a one-element strided read).
        weights = [_slice(w, [0, 0, 0, i, j], [g, 1, 1, 1, 1], [g, 1, 1, 1, 1])
                   for i in range(kh) for j in range(kw)]
        bias, bias_map = lb.broadcast_source(init)
    k = kh * kw
    identity = lb.identity_map(RANK)
    zero = ir.AffineConstantExpr.get(0)
    per_channel = lb.affine_map(RANK, [ir.AffineDimExpr.get(1), zero, zero, zero, zero])
    maps = [identity] * k + [per_channel] * k + [bias_map]

    def sum_of_taps(args):
        acc = args[2 * k]
        with op.location:  # the kernel's nodes: the conv, then its consumer's
            for t in range(k):
                acc = math.fma(args[t], args[k + t], acc)
        return acc

    if consumer is None:
        with ir.InsertionPoint(op), op.location:
            out = lb.empty(lb.shape_of(init), lb.elem_of(init))
            result = lb.generic([*taps, *weights, bias], [out], [*maps, identity],
                                ["parallel"] * RANK, lambda *args: sum_of_taps(args))
        depthwise_rows.replace_conv(op, op, result, init)
        return

    user, index = consumer
    n_inputs = len(user.operands) - 1
    others = [i for i in range(n_inputs) if i != index]
    user_maps = _maps(user)
    block = user.regions[0].blocks[0]
    body_ops = list(block.operations)

    def body(*args):
        mapping = {block.arguments[index]: sum_of_taps(args)}
        rest = args[2 * k + 1:]
        mapping.update({block.arguments[i]: v for i, v in zip(others + [n_inputs], rest)})
        mapping = lb.clone_ops(body_ops[:-1], mapping)
        return [mapping.get(r, r) for r in body_ops[-1].operands]

    # At the consumer: its other operands may be defined after the conv.
    with ir.InsertionPoint(user), user.location:
        result = lb.generic([*taps, *weights, bias, *[user.operands[i] for i in others]],
                            [user.operands[n_inputs]],
                            [*maps, *[user_maps[i] for i in others], user_maps[-1]],
                            ["parallel"] * RANK, body)
    depthwise_rows.replace_conv(op, user, result, init)
