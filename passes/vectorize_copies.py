"""mlc-vectorize-copies: the copies and fills bufferization leaves become loops of vector moves.

Input: bufferized IR, after `convert-memref-copy-to-linalg`. Bufferization itself writes
copies and fills that no schedule has seen: a padded input (a fill of the whole buffer, then a
copy of the input into its interior), a concat's pieces, an im2col tap, a tensor inserted
into a larger one. As `linalg.copy` / `linalg.fill` on memrefs they would lower to scalar
loops (one element a load and a store), which LLVM's code generator does not vectorize.

Output: each such op on a static shape whose innermost dimension is contiguous (stride 1 on
every memref operand) is an `scf.for` nest over the outer dimensions around whole-row vector
transfers: rows cut into `ROW_BYTES` steps, then one narrower transfer for what is left. A
large one (`PARALLEL_BYTES` written, outside any parallel loop) runs its outermost loop over
more than one row as an `scf.forall`, on the model's threads: a padded input's interior or a
concat's piece (Inception-v2 had 3.4 ms of such copies a run, serial, in 28 ms at 2 threads).
Other copies and fills stay as they are.
"""

import math

from mlir import ir
from mlir.dialects import arith, scf, vector

from mlc.passes import linalg_builders as lb
from mlc.passes.pattern_utils import patterns_pass
from mlc.passes.schedule import parallel

ROW_BYTES = 256  # bytes one loop step moves: four 512-bit (eight 256-bit) registers
MIN_ELEMENTS = 16  # a copy this small is not worth a loop
PARALLEL_BYTES = 4 * parallel.MIN_ELEMENTS  # as an elementwise op's f32 output


def _contiguous_rows(t: ir.Type) -> bool:
    if not isinstance(t, ir.MemRefType) or not t.has_static_shape or t.rank == 0:
        return False
    strides, _ = ir.MemRefType(t).get_strides_and_offset()
    return strides[-1] == 1


def _element_bytes(t: ir.MemRefType) -> int | None:
    width = getattr(t.element_type, "width", None)  # integer and float types have one
    return width // 8 if width and width % 8 == 0 else None


def _index(i: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), i)


def _row_loops(shape: list[int], body, forked: bool = False) -> None:
    """Calls body(outer_ivs) inside an scf.for nest over every dimension but the last; when
    `forked`, the first of them over more than one row is an scf.forall."""
    def level(d: int, ivs: list[ir.Value], forked: bool) -> None:
        if d == len(shape) - 1:
            body(ivs)
            return
        if forked and shape[d] > 1:
            loop = scf.ForallOp([0], [shape[d]], [1], [])
            with ir.InsertionPoint(loop.body):
                level(d + 1, ivs + [loop.induction_variables[0]], False)
                scf.InParallelOp()
            return
        loop = scf.ForOp(_index(0), _index(shape[d]), _index(1))
        with ir.InsertionPoint(loop.body):
            level(d + 1, ivs + [loop.induction_variable], forked)
            scf.YieldOp([])
    level(0, [], forked)


def _in_parallel_loop(op) -> bool:
    parent = op.parent
    while parent is not None and parent.name != "func.func":
        if parent.name in ("scf.forall", "scf.parallel"):
            return True
        parent = parent.parent
    return False


def _row_moves(n: int, step: int, move) -> None:
    """Calls move(offset, length) for the vector pieces of one row of n elements."""
    full = n // step * step
    if full > step:
        loop = scf.ForOp(_index(0), _index(full), _index(step))
        with ir.InsertionPoint(loop.body):
            move(loop.induction_variable, step)
            scf.YieldOp([])
    elif full:
        move(_index(0), step)
    if n > full:
        move(_index(full), n - full)


def _vectorized(op, source: ir.Value, target: ir.Value) -> bool:
    """Builds the vector loops moving `source` (a memref) or the fill scalar into `target`
    (the operands of `op`)."""
    t = ir.MemRefType(target.type)
    nbytes = _element_bytes(t)
    operands = [target] + ([source] if isinstance(source.type, ir.MemRefType) else [])
    if nbytes is None or not all(_contiguous_rows(v.type) for v in operands):
        return False
    shape = list(t.shape)
    if math.prod(shape) < MIN_ELEMENTS:
        return False
    step = max(1, ROW_BYTES // nbytes)
    elem = t.element_type
    rank = len(shape)
    identity = ir.AffineMap.get_minor_identity(rank, 1)

    def body(outer):
        def move(offset, length):
            vtype = ir.VectorType.get([length], elem)
            indices = outer + [offset]
            if isinstance(source.type, ir.MemRefType):
                pad = arith.constant(elem, ir.FloatAttr.get(elem, 0.0) if lb.is_float(elem)
                                     else ir.IntegerAttr.get(elem, 0))
                value = vector.transfer_read(vtype, source, indices, identity, pad, [True])
            else:
                value = vector.broadcast(vtype, source)
            vector.transfer_write(None, value, target, indices, identity, [True])
        _row_moves(shape[-1], step, move)

    forked = math.prod(shape) * nbytes >= PARALLEL_BYTES and not _in_parallel_loop(op)
    _row_loops(shape, body, forked)
    return True


def lower_copy(op):
    source, target = op.operands[0], op.operands[1]
    if not isinstance(source.type, ir.MemRefType) or not _vectorized(op, source, target):
        return None
    return []


def lower_fill(op):
    value, target = op.operands[0], op.operands[1]
    if not isinstance(target.type, ir.MemRefType) or not _vectorized(op, value, target):
        return None
    return []


run = patterns_pass({"linalg.copy": lower_copy, "linalg.fill": lower_fill})
