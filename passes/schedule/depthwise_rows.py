"""Depthwise convs -> a row kernel: sums in registers, the taps picked out by shuffles.

Per output row and chunk of n <= lanes outputs, the kernel loads each input row it needs once
(one unit-stride vector of s*n + (KW-1)*dw elements, s the width stride) and picks each filter
tap's columns out of it with a shuffle (a shift for stride 1, an even/odd pick for stride 2:
one or two permutes on AVX-512), so a strided conv reads its input where it lies, with no
strided loads and no deinterleaved copy:

    for g, oh:                        (an scf.forall over channel chunks when large)
      for each chunk c of the row:
        acc = bias[g]
        for i:  wide = x[g, oh*sh + i*dh, s*c : s*c + s*n + (KW-1)*dw]
                for j:  acc = fma(wide[j*dw :: s][:n], w[g, i, j], acc)
        y[g, oh, c : c + n] = epilogue(acc)

A row whose width is not a multiple of the vector ends in one vector of the next power-of-two
length whose reads and store are masked. Zero padding is not stored: a kernel row that falls
in it is skipped (the output rows that meet it, one or two at each end, are unrolled), and the
columns before the input's first are shifted into the row's first read as zeros. The epilogue
is the conv's elementwise consumer (a Clip), its scalar body applied to whole vectors.
"""

from mlir import ir
from mlir.dialects import arith, math, scf, tensor, vector

from mlc.passes import linalg_builders as lb
from mlc.passes.schedule.parallel import MIN_ELEMENTS, chunk_count

VECTOR_DIALECTS = ("arith.", "math.")  # body ops that apply to vectors as they are


def _index(i: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), i)


def is_vector_body(block) -> bool:
    """Whether a linalg body is elementwise arith/math ops alone (each applies to vectors)."""
    ops = list(block.operations)
    return all(o.name.startswith(VECTOR_DIALECTS) and len(o.results) == 1 for o in ops[:-1])


def body_on_vectors(block, mapping: dict, lanes: int) -> ir.Value:
    """The yielded value of a vector body (`is_vector_body`) computed on vectors of `lanes`:
    `mapping` gives the block arguments' vectors; other scalars it reads are broadcast."""
    def operand(v):
        return mapping[v] if v in mapping else vector.broadcast(ir.VectorType.get([lanes], v.type), v)

    ops = list(block.operations)
    for o in ops[:-1]:
        new = ir.Operation.create(
            o.name, results=[ir.VectorType.get([lanes], r.type) for r in o.results],
            operands=[operand(v) for v in o.operands],
            attributes={name: o.attributes[name] for name in o.attributes}, loc=o.location)
        mapping[o.results[0]] = new.results[0]
    return operand(ops[-1].operands[0])


def vector_epilogue(consumer, index: int):
    """A function applying the consumer's body to a vector (its operand `index` being the
    vector), or None when the body is not made of elementwise arith/math ops on the one
    operand (other operands would need their own reads)."""
    if consumer is None:
        return lambda acc: acc
    user, _ = consumer
    block = user.regions[0].blocks[0]
    if len(user.operands) != 2 or list(block.arguments[1].uses) or not is_vector_body(block):
        return None

    def apply(acc):
        with user.location:
            return body_on_vectors(block, {block.arguments[index]: acc},
                                   ir.VectorType(acc.type).shape[0])
    return apply


def row_chunks(width: int, lanes: int) -> list[tuple[int, int]]:
    """(start, vector length) of the pieces a row of `width` outputs is computed in: whole
    vectors, then the rest as one vector of the next power-of-two length, its store masked
    (14 outputs: one masked zmm, not an 8 + 4 + 2 split)."""
    chunks = [(c, lanes) for c in range(0, width - width % lanes, lanes)]
    rest = width % lanes
    if rest:
        chunks.append((width - rest, min(lanes, 1 << (rest - 1).bit_length())))
    return chunks


def _runs(chunks, plain) -> list[list[tuple[int, int]]]:
    """`chunks` in order, consecutive plain ones grouped, every other one alone."""
    runs = []
    for c, n in chunks:
        if plain(c, n) and runs and len(runs[-1]) and plain(*runs[-1][-1]):
            runs[-1].append((c, n))
        else:
            runs.append([(c, n)])
    return runs


def _channel_bias(bias, bias_map, groups: int, ch):
    """The scalar channel `ch`'s sums start from, when `bias` is per channel ([G, 1...] read
    at (g, 0...)); else None."""
    shape = lb.shape_of(bias)
    dims = [str(e) for e in bias_map.results]
    if shape and shape[0] == groups and dims[0] == "d1" and all(s == 1 for s in shape[1:]):
        return tensor.extract(bias, [ch] + [_index(0)] * (len(shape) - 1))
    return None


def _row_ranges(oh: int, height: int, sh: int, dh: int, kh: int, top: int):
    """(first, end, border): output rows first .. end read an input row for every kernel row;
    `border` lists each other output row with the kernel rows that land inside the input."""
    def inside(y):
        return [i for i in range(kh) if 0 <= y * sh + i * dh - top < height]
    full = [y for y in range(oh) if len(inside(y)) == kh]
    first, end = (full[0], full[-1] + 1) if full else (0, 0)
    return first, end, [(y, inside(y)) for y in range(oh) if not first <= y < end]


def row_kernel(x, pads, w, init, bias, bias_map, out, strides, dilations, epilogue, lanes,
               location) -> ir.Value:
    """y [1,G,1,OH,OW] of the depthwise conv of x [1,G,(1,)H,W] padded by `pads` (top, left)
    zeros (w [G,1,1,KH,KW]), its sums started from `bias` (per channel) or read from `init`,
    through `epilogue`, written into `out`. The padding is never built: a kernel row that
    falls in it is skipped (the first and last output rows are unrolled for that), and a
    read reaching into it selects zeros (masked past the end, shifted in at the start)."""
    g, height, width = lb.shape_of(x)[1], lb.shape_of(x)[-2], lb.shape_of(x)[-1]
    _, _, _, kh, kw = lb.shape_of(w)
    _, _, _, oh, ow = lb.shape_of(out)
    (sh, sw), (dh, dw), (top, left) = strides, dilations, pads
    elem = lb.elem_of(x)
    x3 = lb.collapse_to(x, [g, height, width])
    w2 = tensor.collapse_shape(lb.tensor_of([g, kh * kw], elem), w, [[0, 1, 2], [3, 4]])
    init3 = tensor.collapse_shape(lb.tensor_of([g, oh, ow], elem), init, [[0, 1, 2], [3], [4]])
    out3 = tensor.collapse_shape(lb.tensor_of([g, oh, ow], elem), out, [[0, 1, 2], [3], [4]])
    zero = lb.const(0, elem)
    chunks = row_chunks(ow, lanes)
    minor = ir.AffineMap.get_minor_identity(3, 1)
    span = (kw - 1) * dw  # input columns a chunk reads past its strided outputs

    def plain(c, n):
        """Whole, in bounds, clear of the padding: one step of a loop over chunks."""
        return n == lanes and c + n <= ow and sw * c >= left and sw * (c + n) + span - left <= width

    def input_row(ch, row, c, at, length):
        """Input columns sw*c - left .. + length of `row` (zeros outside the input)."""
        vtype = ir.VectorType.get([length], elem)
        if at is not None:  # a plain chunk
            col = arith.subi(arith.muli(at, _index(sw)), _index(left))
            return vector.transfer_read(vtype, x3, [ch, row, col], minor, zero, [True])
        if sw * c >= left:  # masked where it reaches past the end
            return vector.transfer_read(vtype, x3, [ch, row, _index(sw * c - left)], minor, zero,
                                        [sw * c - left + length <= width])
        lead = left - sw * c  # columns of padding before the input's first
        if lead >= length:
            return None
        rest = vector.transfer_read(ir.VectorType.get([length - lead], elem), x3,
                                    [ch, row, _index(0)], minor, zero, [length - lead <= width])
        zeros = vector.broadcast(ir.VectorType.get([lead], elem), zero)
        return vector.shuffle(zeros, rest, list(range(length)))

    def channel(ch, local, result):
        """Computes channel `ch` into row block `local` of `result`."""
        scalars = [tensor.extract(w2, [ch, _index(t)]) for t in range(kh * kw)]
        # The filter, broadcast once per channel for each chunk width.
        weights = {n: [vector.broadcast(ir.VectorType.get([n], elem), v) for v in scalars]
                   for n in sorted({n for _, n in chunks})}
        start = _channel_bias(bias, bias_map, g, ch)

        def chunk(y, kernel_rows, c, n, acc_t, at=None):
            """Outputs c .. c+n of row y (at: the index c as a loop value, when the chunk is
            one step of a loop over plain chunks)."""
            vtype = ir.VectorType.get([n], elem)
            col = _index(c) if at is None else at
            if start is not None:
                acc = vector.broadcast(vtype, start)
            else:
                acc = vector.transfer_read(vtype, init3, [ch, y, col], minor, zero,
                                           [c + n <= ow])
            for i in kernel_rows:
                row = arith.addi(arith.muli(y, _index(sh)), _index(i * dh - top))
                wide = input_row(ch, row, c, at, sw * n + span)
                if wide is None:
                    continue
                for j in range(kw):
                    tap = vector.shuffle(wide, wide, [j * dw + sw * k for k in range(n)])
                    acc = math.fma(tap, weights[n][i * kw + j], acc)
            return vector.transfer_write(acc_t.type, epilogue(acc), acc_t,
                                         [local, y, col], minor, [c + n <= ow])

        def output_row(y, kernel_rows, acc_t):
            for group in _runs(chunks, plain):
                if len(group) < 2:
                    acc_t = chunk(y, kernel_rows, *group[0], acc_t)
                    continue
                first_c, last_c = group[0][0], group[-1][0]
                loop = scf.ForOp(_index(first_c), _index(last_c + lanes), _index(lanes), [acc_t])
                with ir.InsertionPoint(loop.body):
                    scf.YieldOp([chunk(y, kernel_rows, first_c, lanes, loop.inner_iter_args[0],
                                       loop.induction_variable)])
                acc_t = loop.results[0]
            return acc_t

        first, end, border = _row_ranges(oh, height, sh, dh, kh, top)
        for y, kernel_rows in border:
            if y < first:
                result = output_row(_index(y), kernel_rows, result)
        if end > first:
            rows = scf.ForOp(_index(first), _index(end), _index(1), [result])
            with ir.InsertionPoint(rows.body):
                scf.YieldOp([output_row(rows.induction_variable, range(kh),
                                        rows.inner_iter_args[0])])
            result = rows.results[0]
        for y, kernel_rows in border:
            if y >= end:
                result = output_row(_index(y), kernel_rows, result)
        return result

    def channels(first, count, result):
        loop = scf.ForOp(_index(0), _index(count), _index(1), [result])
        with ir.InsertionPoint(loop.body):
            local = loop.induction_variable
            ch = arith.addi(first, local) if first is not None else local
            scf.YieldOp([channel(ch, local, loop.inner_iter_args[0])])
        return loop.results[0]

    with location:
        parts = chunk_count(g) if g * oh * ow >= MIN_ELEMENTS else 0
        if not parts:
            result = channels(None, g, out3)
        else:
            size = g // parts
            forall = scf.ForallOp([0], [parts], [1], [out3])
            with ir.InsertionPoint(forall.body):
                first = arith.muli(forall.induction_variables[0], _index(size))
                block_t = lb.tensor_of([size, oh, ow], elem)
                mine = tensor.extract_slice(block_t, forall.inner_iter_args[0], [first], [], [],
                                            [ir.ShapedType.get_dynamic_size(), 0, 0],
                                            [size, oh, ow], [1, 1, 1])
                done = channels(first, size, mine)
                with ir.InsertionPoint(forall.terminator().block):
                    tensor.parallel_insert_slice(done, forall.inner_iter_args[0], [first], [],
                                                 [], [ir.ShapedType.get_dynamic_size(), 0, 0],
                                                 [size, oh, ow], [1, 1, 1])
            result = forall.results[0]
        return tensor.expand_shape(lb.ranked(out), result, [[0, 1, 2], [3], [4]], [],
                                   lb.shape_of(out))


def replace_conv(conv, last, result, init) -> None:
    """`result` replaces `last` (the conv or its consumer); the conv, and the bias broadcast
    that only it read, go."""
    last.results[0].replace_all_uses_with(result)
    if last != conv:
        last.erase()
    conv.erase()
    broadcast = lb.producer(init)
    if broadcast is not None and not list(broadcast.results[0].uses):
        broadcast.erase()
