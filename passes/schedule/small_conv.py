"""Strided convs over few input channels (an RGB stem) -> a row kernel over all filters at once.

As an im2col GEMM, a 3-channel 3x3 conv has K = 27: building the column matrix costs about
as much as the GEMM, and its bias and Clip cost a pass over the output each. Computed
directly, per output row oh and chunk of n outputs (taps picked out of one unit-stride read
per input row by shuffles, as in `depthwise_rows`):

    for oh (an scf.forall over row chunks when large), for each chunk c of the row:
      acc[f] = bias[f]                          for a block of filters (one register each)
      for ci, i:  wide = x[ci, oh*sh + i*dh, s*c : s*c + s*n + (KW-1)*dw]
                  for j:  tap = wide[j*dw :: s][:n];  acc[f] = fma(tap, w[f, ci, i, j], acc[f])
      y[f, oh, c : c + n] = epilogue(acc[f])

Taken for convs with a width stride and at most MAX_TAPS = C*KH*KW products per output, so
that the filter block's accumulators, a tap and a row stay in registers.
"""

from mlir import ir
from mlir.dialects import arith, math, scf, tensor, vector

from mlc.passes import linalg_builders as lb
from mlc.passes.schedule.depthwise_rows import _index, replace_conv, row_chunks, vector_epilogue
from mlc.passes.schedule.parallel import MIN_ELEMENTS, chunk_count

MAX_TAPS = 32
MAX_FILTERS = 24  # accumulators per block: 24 of 32 AVX-512 registers


def _maps(op) -> list[ir.AffineMap]:
    return [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(op.attributes["indexing_maps"])]


def _filter_bias(init):
    """The [F] vector `init` broadcasts (read at (d1)), or None."""
    source, read_at = lb.broadcast_source(init)
    return source if read_at == lb.dims_map(4, [1]) else None


def applies(op) -> bool:
    if op.name != "linalg.conv_2d_nchw_fchw":
        return False
    x, w, init = (ir.RankedTensorType(v.type) for v in op.operands[:3])
    if not (x.has_static_shape and w.has_static_shape and init.has_static_shape):
        return False
    if x.shape[0] != 1 or not isinstance(x.element_type, ir.F32Type):
        return False
    strides = [int(v) for v in ir.DenseIntElementsAttr(op.attributes["strides"])]
    _, c, kh, kw = w.shape
    return strides[1] > 1 and c * kh * kw <= MAX_TAPS and kh * kw > 1


def describe_fusion(op) -> str:
    """What `rewrite` will fuse, for `mlc compile --report`."""
    parts = ["direct row kernel over all filters (no im2col)"]
    if _filter_bias(op.operands[2]) is not None:
        parts.append("bias fused (the sums start from it)")
    consumer = _consumer(op)
    if consumer is not None and vector_epilogue(consumer, 0) is not None:
        parts.append("its elementwise consumer fused")
    return "; ".join(parts)


def _consumer(op):
    uses = list(op.results[0].uses)
    if len(uses) != 1:
        return None
    user = uses[0].owner
    user = user.operation if hasattr(user, "operation") else user
    if user.name != "linalg.generic" or len(user.operands) != 2 or uses[0].operand_number != 0:
        return None
    if any("parallel" not in str(it) for it in ir.ArrayAttr(user.attributes["iterator_types"])):
        return None
    if _maps(user) != [lb.identity_map(4)] * 2:
        return None
    return user, 0


def rewrite(op, lanes: int) -> bool:
    """Replaces the conv `op` (and its elementwise consumer) by the row kernel; False when
    the consumer's body cannot run on vectors (the caller keeps its GEMM path)."""
    x, w, init = op.operands[0], op.operands[1], op.operands[2]
    consumer = _consumer(op)
    epilogue = vector_epilogue(consumer, 0)
    if epilogue is None:
        consumer, epilogue = None, vector_epilogue(None, 0)
    bias = _filter_bias(init)
    _, c, hp, wp = lb.shape_of(x)
    f, _, kh, kw = lb.shape_of(w)
    _, _, oh, ow = lb.shape_of(init)
    (sh, sw), (dh, dw) = ([int(v) for v in ir.DenseIntElementsAttr(op.attributes[a])]
                          for a in ("strides", "dilations"))
    elem = lb.elem_of(x)
    last = consumer[0] if consumer else op
    chunks = row_chunks(ow, lanes)
    minor = ir.AffineMap.get_minor_identity(4, 1)
    blocks = [(b, min(MAX_FILTERS, f - b)) for b in range(0, f, MAX_FILTERS)]

    def rows(first, count, result):
        """Output rows first .. first+count of `result` (a [1, F, count, OW] block)."""
        loop = scf.ForOp(_index(0), _index(count), _index(1), [result])
        with ir.InsertionPoint(loop.body):
            local, acc_t = loop.induction_variable, loop.inner_iter_args[0]
            y = arith.addi(first, local) if first is not None else local
            def chunk(start, n, acc_t, at=None):
                """Outputs start .. start+n of row y, all filters (at: the index start as a
                loop value, when the chunk is one step of a loop over plain chunks)."""
                at = at if at is not None else _index(start)
                col = arith.muli(at, _index(sw))
                vtype = ir.VectorType.get([n], elem)
                for b, nf in blocks:
                    if bias is not None:
                        accs = [vector.broadcast(vtype, tensor.extract(bias, [_index(b + k)]))
                                for k in range(nf)]
                    else:
                        accs = [vector.transfer_read(vtype, init, [_index(0), _index(b + k), y, at],
                                                     minor, lb.const(0, elem), [start + n <= ow])
                                for k in range(nf)]
                    for ci in range(c):
                        for i in range(kh):
                            row = arith.addi(arith.muli(y, _index(sh)), _index(i * dh))
                            length = sw * n + (kw - 1) * dw
                            wide = vector.transfer_read(
                                ir.VectorType.get([length], elem), x,
                                [_index(0), _index(ci), row, col], minor,
                                lb.const(0, elem), [sw * start + length <= wp])
                            for j in range(kw):
                                tap = vector.shuffle(wide, wide,
                                                     [j * dw + sw * k for k in range(n)])
                                for k in range(nf):
                                    weight = tensor.extract(w, [_index(b + k), _index(ci),
                                                                _index(i), _index(j)])
                                    accs[k] = math.fma(tap, vector.broadcast(vtype, weight),
                                                       accs[k])
                    for k in range(nf):
                        acc_t = vector.transfer_write(
                            acc_t.type, epilogue(accs[k]), acc_t,
                            [_index(0), _index(b + k), local, at], minor, [start + n <= ow])
                return acc_t

            plain = [(s_, n) for s_, n in chunks
                     if n == lanes and sw * s_ + sw * n + (kw - 1) * dw <= wp]
            rest = [ch for ch in chunks if ch not in plain]
            if len(plain) >= 2:  # one loop step per whole, in-bounds chunk: a small body
                loop_c = scf.ForOp(_index(plain[0][0]), _index(plain[-1][0] + lanes),
                                   _index(lanes), [acc_t])
                with ir.InsertionPoint(loop_c.body):
                    scf.YieldOp([chunk(plain[0][0], lanes, loop_c.inner_iter_args[0],
                                       loop_c.induction_variable)])
                acc_t = loop_c.results[0]
            else:
                rest = chunks
            for start, n in rest:
                acc_t = chunk(start, n, acc_t)
            scf.YieldOp([acc_t])
        return loop.results[0]

    with ir.InsertionPoint(last), op.location:
        out = last.operands[1] if consumer else lb.empty([1, f, oh, ow], elem)
        parts = chunk_count(oh) if f * oh * ow >= MIN_ELEMENTS else 0
        if not parts:
            result = rows(None, oh, out)
        else:
            size = oh // parts
            forall = scf.ForallOp([0], [parts], [1], [out])
            dynamic = ir.ShapedType.get_dynamic_size()
            with ir.InsertionPoint(forall.body):
                first = arith.muli(forall.induction_variables[0], _index(size))
                block_t = lb.tensor_of([1, f, size, ow], elem)
                mine = tensor.extract_slice(block_t, forall.inner_iter_args[0], [first], [], [],
                                            [0, 0, dynamic, 0], [1, f, size, ow], [1, 1, 1, 1])
                done = rows(first, size, mine)
                with ir.InsertionPoint(forall.terminator().block):
                    tensor.parallel_insert_slice(done, forall.inner_iter_args[0], [first], [],
                                                 [], [0, 0, dynamic, 0], [1, f, size, ow],
                                                 [1, 1, 1, 1])
            result = forall.results[0]
    replace_conv(op, last, result, init)
    return True
