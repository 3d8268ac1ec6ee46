"""Ops of data-dependent result size (nonzero, compress, unique, non_max_suppression) -> scf.for
loops on tensors, with tensor.extract / tensor.insert.

Each writes a result of the bound size its type gives, in order, and carries how many entries
it wrote: that becomes its `count` result (tensor<1xi64>). What lies past the count is left
unwritten; the .so's shim drops it (see compiler/importer/data_dependent.py). These ops are not
hot: the loops are plain and sequential, one element at a time, following onnx's reference
implementations (Unique compares slices pairwise, NonMaxSuppression picks the next best box by
a scan, both quadratic).
"""

from mlir import ir
from mlir.dialects import arith, scf, tensor

from mlc.passes import linalg_builders as lb


def _index(v: "int | ir.Value") -> ir.Value:
    return v if isinstance(v, ir.Value) else arith.constant(ir.IndexType.get(), v)


def _i64() -> ir.Type:
    return ir.IntegerType.get_signless(64)


def _for(lo, hi, carried: list, body) -> list:
    """scf.for i in [lo, hi) carrying `carried`: body(i, *carried) -> the new values."""
    loop = scf.ForOp(_index(lo), _index(hi), _index(1), carried)
    with ir.InsertionPoint(loop.body):
        scf.YieldOp(list(body(loop.induction_variable, *loop.inner_iter_args)))
    return list(loop.results)


def _when(cond: ir.Value, carried: list, then) -> list:
    """then(*carried) where `cond` holds, `carried` unchanged otherwise (scf.if)."""
    branch = scf.IfOp(cond, [v.type for v in carried], has_else=True)
    with ir.InsertionPoint(branch.then_block):
        scf.YieldOp(list(then(*carried)))
    with ir.InsertionPoint(branch.else_block):
        scf.YieldOp(list(carried))
    return list(branch.results)


def _cmp(pred: str, a: ir.Value, b: ir.Value) -> ir.Value:
    if lb.is_float(a.type):
        return arith.cmpf(getattr(arith.CmpFPredicate, pred.upper()), a, b)
    return arith.cmpi(getattr(arith.CmpIPredicate, pred), a, b)


def _nonzero(v: ir.Value) -> ir.Value:
    zero = lb.const(0, v.type)
    # une: NaN counts as nonzero, as in numpy
    return _cmp("une" if lb.is_float(v.type) else "ne", v, zero)


def _plus1(k: ir.Value) -> ir.Value:
    return arith.addi(k, _index(1))


def _count(k: ir.Value) -> ir.Value:
    return tensor.from_elements(lb.tensor_of([1], _i64()), [arith.index_cast(_i64(), k)])


def lower_nonzero(op):
    x = op.operands[0]
    shape = list(ir.DenseI64ArrayAttr(op.attributes["shape"]))
    result = ir.RankedTensorType(op.results[0].type)

    def visit(i, out, k):
        def record(out, k):
            rest = i
            for d in reversed(range(len(shape))):
                coord = arith.remui(rest, _index(shape[d]))
                rest = arith.divui(rest, _index(shape[d]))
                out = tensor.insert(arith.index_cast(_i64(), coord), out, [_index(d), k])
            return [out, _plus1(k)]
        return _when(_nonzero(tensor.extract(x, [i])), [out, k], record)

    out, k = _for(0, result.shape[1], [lb.empty(list(result.shape), _i64()), _index(0)], visit)
    return [out, _count(k)]


def _copy_slice(x: ir.Value, src: ir.Value, out: ir.Value, dst: ir.Value) -> ir.Value:
    """out[:, dst, :] = x[:, src, :] for [outer, along, inner] tensors."""
    outer, _, inner = lb.shape_of(x)

    def row(o, out):
        def element(i, out):
            return [tensor.insert(tensor.extract(x, [o, src, i]), out, [o, dst, i])]
        return _for(0, inner, [out], element)
    return _for(0, outer, [out], row)[0]


def lower_compress(op):
    x, condition = op.operands
    result = ir.RankedTensorType(op.results[0].type)

    def visit(j, out, k):
        def take(out, k):
            return [_copy_slice(x, j, out, k), _plus1(k)]
        return _when(_nonzero(tensor.extract(condition, [j])), [out, k], take)

    init = lb.empty(list(result.shape), result.element_type)
    out, k = _for(0, result.shape[1], [init, _index(0)], visit)
    return [out, _count(k)]


def _order(x: ir.Value, a: ir.Value, b: ir.Value, unsigned: bool) -> ir.Value:
    """How slice a of [outer, along, inner] `x` compares with slice b, lexicographically:
    -1, 0 or 1 (i8). Floats order NaN last, all NaNs equal (numpy's unique)."""
    outer, _, inner = lb.shape_of(x)
    i8 = ir.IntegerType.get_signless(8)

    def less(u, v):
        if lb.is_float(u.type):
            return arith.ori(_cmp("olt", u, v), arith.andi(_cmp("uno", v, v), _cmp("ord", u, u)))
        return _cmp("ult" if unsigned else "slt", u, v)

    def element(e, state):
        o, i = arith.divui(e, _index(inner)), arith.remui(e, _index(inner))
        u, v = tensor.extract(x, [o, a, i]), tensor.extract(x, [o, b, i])
        here = arith.select(less(u, v), lb.const(-1, i8),
                            arith.select(less(v, u), lb.const(1, i8), lb.const(0, i8)))
        undecided = arith.cmpi(arith.CmpIPredicate.eq, state, lb.const(0, i8))
        return [arith.select(undecided, here, state)]

    return _for(0, outer * inner, [lb.const(0, i8)], element)[0]


def lower_unique(op):
    x = op.operands[0]
    _, along, _ = lb.shape_of(x)
    elem = lb.elem_of(x)
    keep_sorted = bool(ir.IntegerAttr(op.attributes["sorted"]).value)
    unsigned = bool(ir.IntegerAttr(op.attributes["unsigned"]).value)
    i8 = ir.IntegerType.get_signless(8)
    vector = lb.empty([along], _i64())

    def order(a, b):
        return _order(x, a, b, unsigned)

    def is_(value, pred, target):
        return arith.cmpi(getattr(arith.CmpIPredicate, pred), value, target)

    def read(t, i):
        return arith.index_cast(ir.IndexType.get(), tensor.extract(t, [i]))

    def write(t, i, value):
        return tensor.insert(arith.index_cast(_i64(), value), t, [i])

    # first[i]: the first slice equal to slice i; slice i is unique when first[i] == i
    def find_first(i, first, count):
        def scan(j, found):
            def compare(found):
                same = is_(order(j, i), "eq", lb.const(0, i8))
                return [arith.select(same, j, found)]
            return _when(is_(found, "eq", i), [found], compare)
        found = _for(0, i, [i], scan)[0]
        unique = is_(found, "eq", i)
        return [write(first, i, found), arith.select(unique, _plus1(count), count)]

    first, count = _for(0, along, [vector, _index(0)], find_first)

    # pos[i] of a unique slice: its place in the result (sorted: how many unique slices are
    # smaller; else how many came before)
    def place(i, pos, seen):
        def unique(pos, seen):
            if not keep_sorted:
                return [write(pos, i, seen), _plus1(seen)]

            def smaller(j, n):
                below = arith.andi(is_(read(first, j), "eq", j),
                                   is_(order(j, i), "eq", lb.const(-1, i8)))
                return [arith.select(below, _plus1(n), n)]
            return [write(pos, i, _for(0, along, [_index(0)], smaller)[0]), _plus1(seen)]
        return _when(is_(read(first, i), "eq", i), [pos, seen], unique)

    pos, _ = _for(0, along, [vector, _index(0)], place)

    def fill(i, y, indices, inverse, counts):
        f = read(first, i)
        p = read(pos, f)
        inverse = write(inverse, i, p)
        counts = write(counts, p, _plus1(read(counts, p)))

        def first_seen(y, indices):
            return [_copy_slice(x, i, y, p), write(indices, p, i)]
        y, indices = _when(is_(f, "eq", i), [y, indices], first_seen)
        return [y, indices, inverse, counts]

    zeros = lb.filled([along], _i64(), lb.const(0, _i64()))
    y, indices, inverse, counts = _for(
        0, along, [lb.empty(lb.shape_of(x), elem), vector, vector, zeros], fill)
    return [y, indices, inverse, counts, _count(count)]


def _box_iou_over(boxes, b, i, j, center: bool, threshold) -> ir.Value:
    """Whether boxes i and j of batch b overlap by more than `threshold` (IoU), as onnx's
    reference decides it (flipped corners allowed; empty boxes never suppress)."""
    f32 = ir.F32Type.get()

    def coord(box, c):
        return tensor.extract(boxes, [b, box, _index(c)])

    def lo_hi(box, axis):
        if center:  # [x_center, y_center, width, height]
            mid, half = coord(box, axis), arith.divf(coord(box, axis + 2), lb.const(2.0, f32))
            return arith.subf(mid, half), arith.addf(mid, half)
        a, z = coord(box, 1 - axis), coord(box, 3 - axis)  # [y1, x1, y2, x2]
        ge = _cmp("oge", a, z)
        return arith.select(ge, z, a), arith.select(ge, a, z)

    def bigger(u, v):  # Python's max(u, v)
        return arith.select(_cmp("ogt", v, u), v, u)

    def smaller(u, v):  # Python's min(u, v)
        return arith.select(_cmp("olt", v, u), v, u)

    spans, areas = [], [lb.const(1.0, f32), lb.const(1.0, f32)]
    for axis in (0, 1):  # x, then y
        (lo1, hi1), (lo2, hi2) = lo_hi(i, axis), lo_hi(j, axis)
        spans.append((bigger(lo1, lo2), smaller(hi1, hi2)))
        areas = [arith.mulf(areas[0], arith.subf(hi1, lo1)), arith.mulf(areas[1], arith.subf(hi2, lo2))]
    inter = arith.mulf(arith.subf(spans[0][1], spans[0][0]), arith.subf(spans[1][1], spans[1][0]))
    union = arith.subf(arith.addf(areas[0], areas[1]), inter)
    zero = lb.const(0.0, f32)
    checks = [_cmp("ogt", hi, lo) for lo, hi in spans] + [
        _cmp("ogt", v, zero) for v in (inter, areas[0], areas[1], union)]
    checks.append(_cmp("ogt", arith.divf(inter, union), threshold))
    result = checks[0]
    for c in checks[1:]:
        result = arith.andi(result, c)
    return result


def lower_non_max_suppression(op):
    boxes, scores, limit, iou, score_min = op.operands
    batches, classes, count_boxes = lb.shape_of(scores)
    center = bool(ir.IntegerAttr(op.attributes["center_point_box"]).value)
    thresholded = bool(ir.IntegerAttr(op.attributes["has_score_threshold"]).value)
    result = ir.RankedTensorType(op.results[0].type)
    f32, i1 = ir.F32Type.get(), ir.IntegerType.get_signless(1)
    zero = _index(0)
    limit = arith.index_cast(ir.IndexType.get(), arith.maxsi(
        tensor.extract(limit, [zero]), lb.const(0, _i64())))
    iou, score_min = tensor.extract(iou, [zero]), tensor.extract(score_min, [zero])
    none = _index(count_boxes)  # "no box"

    def per_class(b, c, out, k):
        start = k

        # The candidates in order: higher score first, the lower index first among equal ones.
        def next_box(prev_score, prev):
            def scan(i, best_score, best):
                s = tensor.extract(scores, [b, c, i])
                after = arith.ori(_cmp("olt", s, prev_score),
                                  arith.andi(_cmp("oeq", s, prev_score), _cmp("sgt", i, prev)))
                if thresholded:
                    after = arith.andi(after, _cmp("ogt", s, score_min))
                better = arith.ori(_cmp("eq", best, none), _cmp("ogt", s, best_score))
                take = arith.andi(after, better)
                return [arith.select(take, s, best_score), arith.select(take, i, best)]
            return _for(0, count_boxes, [lb.const(0.0, f32), none], scan)

        def step(_, out, k, taken, prev_score, prev, live):
            def pick(out, k, taken, prev_score, prev, live):
                best_score, best = next_box(prev_score, prev)
                go = arith.andi(_cmp("ne", best, none), _cmp("slt", taken, limit))

                def consider(out, k, taken):
                    def against(s, hit):
                        other = arith.index_cast(ir.IndexType.get(),
                                                 tensor.extract(out, [s, _index(2)]))
                        return [arith.ori(hit, _box_iou_over(boxes, b, best, other, center, iou))]
                    hit = _for(start, k, [lb.const(0, i1)], against)[0]

                    def keep(out, k, taken):
                        for col, v in enumerate((b, c, best)):
                            out = tensor.insert(arith.index_cast(_i64(), v), out, [k, _index(col)])
                        return [out, _plus1(k), _plus1(taken)]
                    return _when(arith.xori(hit, lb.const(1, i1)), [out, k, taken], keep)
                out, k, taken = _when(go, [out, k, taken], consider)
                return [out, k, taken, best_score, best, go]
            return _when(live, [out, k, taken, prev_score, prev, live], pick)

        inf = lb.const(float("inf"), f32)
        carried = [out, k, zero, inf, _index(-1), lb.const(1, i1)]
        out, k, *_ = _for(0, count_boxes, carried, step)
        return [out, k]

    def per_batch(b, out, k):
        return _for(0, classes, [out, k], lambda c, out, k: per_class(b, c, out, k))

    out, k = _for(0, batches, [lb.empty(list(result.shape), _i64()), zero], per_batch)
    return [out, _count(k)]


PATTERNS = {
    "mlc.nonzero": lower_nonzero,
    "mlc.compress": lower_compress,
    "mlc.unique": lower_unique,
    "mlc.non_max_suppression": lower_non_max_suppression,
}
