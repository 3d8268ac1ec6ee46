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
length whose reads and store are masked. The epilogue is the conv's elementwise consumer (a
Clip), its scalar body applied to whole vectors.
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


def _zero_padding_free(start: int, length: int, columns) -> bool:
    return columns is None or (columns[0] <= start and start + length <= columns[1])


def _zero_padding(wide: ir.Value, start: int, columns) -> ir.Value:
    """`wide` (columns start, start+1, ...) with zeros outside `columns` (first, end)."""
    length = ir.VectorType(wide.type).shape[0]
    valid = [columns is None or columns[0] <= start + k < columns[1] for k in range(length)]
    if all(valid):
        return wide
    flags = ir.VectorType.get([length], ir.IntegerType.get_signless(1))
    mask = arith.constant(flags, ir.Attribute.parse(
        f"dense<[{', '.join('true' if v else 'false' for v in valid)}]> : {flags}"))
    zeros = arith.constant(wide.type, ir.DenseElementsAttr.get_splat(
        wide.type, ir.FloatAttr.get(ir.VectorType(wide.type).element_type, 0.0)))
    return arith.select(mask, wide, zeros)


def _channel_bias(bias, bias_map, groups: int, ch):
    """The scalar channel `ch`'s sums start from, when `bias` is per channel ([G, 1...] read
    at (g, 0...)); else None."""
    shape = lb.shape_of(bias)
    dims = [str(e) for e in bias_map.results]
    if shape and shape[0] == groups and dims[0] == "d1" and all(s == 1 for s in shape[1:]):
        return tensor.extract(bias, [ch] + [_index(0)] * (len(shape) - 1))
    return None


def row_kernel(x, w, init, bias, bias_map, out, strides, dilations, epilogue, lanes,
               location, columns=None) -> ir.Value:
    """y [1,G,1,OH,OW] of the depthwise conv (x [1,G,1,Hp,Wp] padded, w [G,1,1,KH,KW]),
    its sums started from `bias` (per channel) or read from `init`, through `epilogue`,
    written into `out`. `columns` (first, end): only these columns of x hold data, the
    others are zero padding never written, so reads select zeros there."""
    _, g, _, hp, wp = lb.shape_of(x)
    _, _, _, kh, kw = lb.shape_of(w)
    _, _, _, oh, ow = lb.shape_of(out)
    (sh, sw), (dh, dw) = strides, dilations
    elem = lb.elem_of(x)
    x3 = tensor.collapse_shape(lb.tensor_of([g, hp, wp], elem), x, [[0, 1, 2], [3], [4]])
    w2 = tensor.collapse_shape(lb.tensor_of([g, kh * kw], elem), w, [[0, 1, 2], [3, 4]])
    init3 = tensor.collapse_shape(lb.tensor_of([g, oh, ow], elem), init, [[0, 1, 2], [3], [4]])
    out3 = tensor.collapse_shape(lb.tensor_of([g, oh, ow], elem), out, [[0, 1, 2], [3], [4]])
    zero = lb.const(0, elem)
    chunks = row_chunks(ow, lanes)
    minor = ir.AffineMap.get_minor_identity(3, 1)

    def channel(ch, local, result):
        """Computes channel `ch` into row block `local` of `result`."""
        scalars = [tensor.extract(w2, [ch, _index(t)]) for t in range(kh * kw)]
        # The filter, broadcast once per channel for each chunk width.
        weights = {n: [vector.broadcast(ir.VectorType.get([n], elem), v) for v in scalars]
                   for n in sorted({n for _, n in chunks})}
        start = _channel_bias(bias, bias_map, g, ch)
        rows = scf.ForOp(_index(0), _index(oh), _index(1), [result])
        with ir.InsertionPoint(rows.body):
            y, acc_t = rows.induction_variable, rows.inner_iter_args[0]
            def chunk(c, n, acc_t, at=None):
                """Outputs c .. c+n of row y (at: the index c as a loop value, when the chunk
                is one step of a loop over plain chunks)."""
                at = at if at is not None else _index(c)
                vtype = ir.VectorType.get([n], elem)
                if start is not None:
                    acc = vector.broadcast(vtype, start)
                else:
                    acc = vector.transfer_read(vtype, init3, [ch, y, at], minor, zero,
                                               [c + n <= ow])
                for i in range(kh):
                    row = arith.addi(arith.muli(y, _index(sh)), _index(i * dh))
                    length = sw * n + (kw - 1) * dw
                    col = arith.muli(at, _index(sw)) if sw != 1 else at
                    wide = vector.transfer_read(ir.VectorType.get([length], elem), x3,
                                                [ch, row, col], minor, zero,
                                                [sw * c + length <= wp])
                    wide = _zero_padding(wide, sw * c, columns)
                    for j in range(kw):
                        tap = vector.shuffle(wide, wide, [j * dw + sw * k for k in range(n)])
                        acc = math.fma(tap, weights[n][i * kw + j], acc)
                return vector.transfer_write(acc_t.type, epilogue(acc), acc_t, [local, y, at],
                                             minor, [c + n <= ow])

            for group in _runs(chunks, lambda c, n: n == lanes and c + n <= ow
                               and sw * c + sw * n + (kw - 1) * dw <= wp
                               and _zero_padding_free(sw * c, sw * n + (kw - 1) * dw, columns)):
                if len(group) < 2:
                    acc_t = chunk(*group[0], acc_t)
                    continue
                # Plain chunks (whole, in bounds, no padding to mask): one loop step each.
                first_c, last_c = group[0][0], group[-1][0]
                loop = scf.ForOp(_index(first_c), _index(last_c + lanes), _index(lanes), [acc_t])
                with ir.InsertionPoint(loop.body):
                    scf.YieldOp([chunk(first_c, lanes, loop.inner_iter_args[0],
                                       loop.induction_variable)])
                acc_t = loop.results[0]
            scf.YieldOp([acc_t])
        return rows.results[0]

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
