"""Small builders that make lowerings read like the math: tensors, scalars and linalg.generic.

Every function builds at the current insertion point and location. Element-type dispatch
(float vs. integer arith ops) lives here once, so op lowerings never branch on types.

Dynamic dims: a builder that makes a tensor (`empty`, `filled`, `elementwise`, `reduce`) takes
each dynamic size from an operand with `tensor.dim`; `like` says which operand dim a result
dim has the size of (one value of the same rank, or one `(value, dim)` or None per dim).
"""

from collections.abc import Callable, Sequence
from math import prod

from mlir import ir
from mlir.dialects import arith, linalg, math, tensor



def iterator(kind: str) -> ir.Attribute:
    return ir.Attribute.parse(f"#linalg.iterator_type<{kind}>")


def is_float(t: ir.Type) -> bool:
    return isinstance(t, (ir.F16Type, ir.BF16Type, ir.F32Type, ir.F64Type))


def ranked(value: ir.Value) -> ir.RankedTensorType:
    return ir.RankedTensorType(value.type)


def shape_of(value: ir.Value) -> list[int]:
    return list(ranked(value).shape)


def elem_of(value: ir.Value) -> ir.Type:
    return ranked(value).element_type


def tensor_of(shape: Sequence[int], elem: ir.Type) -> ir.RankedTensorType:
    return ir.RankedTensorType.get(list(shape), elem)


DYNAMIC = ir.ShapedType.get_dynamic_size()


def is_dynamic(size: int) -> bool:
    return size == DYNAMIC


def dim(value: ir.Value, d: int) -> ir.Value:
    """The run-time size of `value`'s dim d (an index)."""
    return tensor.dim(value, arith.constant(ir.IndexType.get(), d))


def _sizes(shape: Sequence[int], like) -> list:
    """`shape` with each dynamic size replaced by the `tensor.dim` that `like` names for it."""
    if isinstance(like, ir.Value):
        like = [(like, d) for d in range(len(shape))]
    sizes = []
    for d, size in enumerate(shape):
        if not is_dynamic(size):
            sizes.append(size)
        elif like is None or like[d] is None:
            from mlc.errors import CompilerBug
            raise CompilerBug(f"no operand gives the size of dynamic dim {d} of a "
                              f"tensor<{'x'.join('?' if is_dynamic(x) else str(x) for x in shape)}>")
        else:
            sizes.append(dim(*like[d]))
    return sizes


def broadcast_sources(inputs: Sequence[ir.Value], out_shape: Sequence[int]) -> list:
    """For each dim of a broadcast result: an input (value, dim) with that size, for `like`.

    The importer admits a dynamic dim only against the same symbol or a static 1, so any input
    whose aligned dim is dynamic has the result's size."""
    rank, sources = len(out_shape), []
    for d in range(rank):
        found = None
        for v in inputs:
            shape = shape_of(v)
            i = d - (rank - len(shape))
            if i >= 0 and is_dynamic(shape[i]):
                found = (v, i)
                break
        sources.append(found)
    return sources


# -- scalars ---------------------------------------------------------------------------------
def const(value: float | int, elem: ir.Type) -> ir.Value:
    if is_float(elem):
        return arith.constant(elem, ir.FloatAttr.get(elem, float(value)))
    return arith.constant(elem, ir.IntegerAttr.get(elem, int(value)))


def lowest(elem: ir.Type) -> ir.Value:
    """The identity of max: -inf for floats, the minimum integer otherwise."""
    if is_float(elem):
        return const(float("-inf"), elem)
    width = ir.IntegerType(elem).width
    return const(-(1 << (width - 1)), elem)


def add(a, b):
    return arith.addf(a, b) if is_float(a.type) else arith.addi(a, b)


def sub(a, b):
    return arith.subf(a, b) if is_float(a.type) else arith.subi(a, b)


def mul(a, b):
    return arith.mulf(a, b) if is_float(a.type) else arith.muli(a, b)


def div(a, b):
    return arith.divf(a, b) if is_float(a.type) else arith.divsi(a, b)


def maximum(a, b):
    return arith.maximumf(a, b) if is_float(a.type) else arith.maxsi(a, b)


def exp(a):
    return math.exp(a)


# -- tensors ----------------------------------------------------------------------------------
def empty(shape: Sequence[int], elem: ir.Type, like=None) -> ir.Value:
    return tensor.empty(_sizes(shape, like), elem)


def filled(shape: Sequence[int], elem: ir.Type, value: ir.Value, like=None) -> ir.Value:
    return linalg.fill(value, outs=[empty(shape, elem, like)])


def pad(value: ir.Value, low: Sequence[int], high: Sequence[int], fill: ir.Value) -> ir.Value:
    """`value` inside a border of `fill`: a filled tensor with `value` inserted at `low`.

    Not tensor.pad, which bufferizes into a scalar loop nest; a linalg.fill and an inserted
    slice become vector stores and a vectorized copy. Dynamic shapes keep tensor.pad."""
    if not any(low) and not any(high):
        return value
    inner = shape_of(value)
    if any(is_dynamic(s) for s in inner):
        # A dynamic dim takes no padding (the callers pad only static dims).
        shape = [s if is_dynamic(s) else s + lo + hi for s, lo, hi in zip(inner, low, high)]
        op = tensor.PadOp(tensor_of(shape, elem_of(value)), value, [], [], list(low), list(high))
        block = op.region.blocks.append(*[ir.IndexType.get()] * len(shape))
        with ir.InsertionPoint(block):
            tensor.yield_(fill)
        return op.result
    shape = [s + lo + hi for s, lo, hi in zip(inner, low, high)]
    border = filled(shape, elem_of(value), fill)
    return tensor.insert_slice(value, border, [], [], [], list(low), inner, [1] * len(shape))


def update_slice(value: ir.Value, dim: int, offset: int, size: int, update) -> ir.Value:
    """`value` with its slice offset .. offset+size along `dim` replaced by `update(slice)`
    (static shapes; bufferization writes it in place)."""
    shape = shape_of(value)
    offsets = [offset if d == dim else 0 for d in range(len(shape))]
    sizes = [size if d == dim else n for d, n in enumerate(shape)]
    ones = [1] * len(shape)
    piece = tensor.extract_slice(tensor_of(sizes, elem_of(value)), value, [], [], [], offsets,
                                 sizes, ones)
    return tensor.insert_slice(update(piece), value, [], [], [], offsets, sizes, ones)


def collapse_to(value: ir.Value, shape: Sequence[int]) -> ir.Value:
    """Reshape by collapsing everything to 1-D and expanding to `shape` (static shapes); with
    dynamic dims, each stays and only the static dims between them are regrouped."""
    src = shape_of(value)
    if src == list(shape):
        return value
    if any(map(is_dynamic, [*src, *shape])):
        return _reshape_dynamic(value, list(shape))
    elem = elem_of(value)
    flat = value
    if not src:  # rank 0 grows to [1] by an expand; a collapse cannot raise the rank
        flat = tensor.expand_shape(tensor_of([1], elem), value, [], [], [1])
    elif len(src) != 1:
        flat = tensor.collapse_shape(tensor_of([prod(src)], elem), value, [list(range(len(src)))])
    if len(shape) == 1:
        return flat
    if not shape:  # [1] shrinks to rank 0 by a collapse
        return tensor.collapse_shape(tensor_of([], elem), flat, [])
    return tensor.expand_shape(tensor_of(shape, elem), flat, [list(range(len(shape)))], [],
                               list(shape))


def _core_groups(shape: Sequence[int]) -> tuple[list[int], list[list[int]]]:
    """The shape's core: each dynamic dim alone, and each run of static dims between them
    collapsed to its product; runs whose product is 1 join a neighbour's group. Returns the
    core's sizes and the reassociation from the shape to it."""
    core, groups, run = [], [], []

    def close_run():
        if run and prod(shape[d] for d in run) != 1:
            core.append(prod(shape[d] for d in run))
            groups.append(list(run))
        elif run and groups:
            groups[-1].extend(run)
        elif run:
            leftover.extend(run)
        run.clear()

    leftover: list[int] = []
    for d, size in enumerate(shape):
        if is_dynamic(size):
            close_run()
            core.append(size)
            groups.append(leftover + [d])
            leftover = []
        else:
            run.append(d)
    close_run()
    if leftover and groups:
        groups[0] = sorted(leftover + groups[0])
    return core, groups


def keeps_dynamic_dims(src: Sequence[int], dst: Sequence[int]) -> bool:
    """Whether a reshape from `src` to `dst` keeps each dynamic dim as itself, in order (only
    the static dims between them regrouped): what `collapse_to` handles."""
    if not any(map(is_dynamic, [*src, *dst])):
        return True
    return _core_groups(src)[0] == _core_groups(dst)[0] and bool(_core_groups(src)[0])


def _reshape_dynamic(value: ir.Value, shape: list[int]) -> ir.Value:
    """A reshape that keeps each dynamic dim and regroups the static dims between them (the
    importer admits only those): collapse to the core, then expand to `shape`."""
    src, elem = shape_of(value), elem_of(value)
    src_core, src_groups = _core_groups(src)
    dst_core, dst_groups = _core_groups(shape)
    if src_core != dst_core or not src_core:
        from mlc.errors import CompilerBug
        raise CompilerBug(f"reshape {src} -> {shape} moves a dynamic dim")
    core = value
    if len(src_core) != len(src):
        core = tensor.collapse_shape(tensor_of(src_core, elem), value, src_groups)
    if len(dst_core) == len(shape):
        return core
    out_sizes = []
    for k, group in enumerate(dst_groups):
        for d in group:
            out_sizes.append(dim(core, k) if is_dynamic(shape[d]) else shape[d])
    dynamic = [x for x in out_sizes if isinstance(x, ir.Value)]
    return tensor.expand_shape(tensor_of(shape, elem), core, dst_groups, dynamic, list(shape))


def producer(value: ir.Value):
    """The op defining `value` (an `ir.Operation`), or None for a block argument."""
    owner = value.owner
    return owner.operation if hasattr(owner, "operation") else None


# -- linalg.generic ---------------------------------------------------------------------------
def broadcast_source(value: ir.Value) -> tuple[ir.Value, ir.AffineMap]:
    """(source, map) when `value` is a broadcast, a linalg.generic whose body only yields its
    one input and whose output map is the identity (a conv's bias spread over N, H and W):
    reading the source by its map wherever `value` would be read spares writing the
    broadcast. Else (value, the identity)."""
    op = producer(value)
    rank = len(shape_of(value))
    if op is not None and op.name == "linalg.generic" and len(op.operands) == 2:
        block = op.regions[0].blocks[0]
        body = list(block.operations)
        maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(op.attributes["indexing_maps"])]
        if len(body) == 1 and body[0].operands[0] == block.arguments[0] \
                and maps[1] == identity_map(rank):
            return op.operands[0], maps[0]
    return value, identity_map(rank)


def affine_map(rank: int, exprs: Sequence[ir.AffineExpr]) -> ir.AffineMap:
    return ir.AffineMap.get(rank, 0, list(exprs))


def broadcast_map(in_shape: Sequence[int], out_shape: Sequence[int]) -> ir.AffineMap:
    """numpy broadcasting: align right, a size-1 input dim reads index 0."""
    rank, offset = len(out_shape), len(out_shape) - len(in_shape)
    exprs = [ir.AffineConstantExpr.get(0) if size == 1 and out_shape[offset + i] != 1
             else ir.AffineDimExpr.get(offset + i) for i, size in enumerate(in_shape)]
    return affine_map(rank, exprs)


def generic(inputs: Sequence[ir.Value], inits: Sequence[ir.Value], maps: Sequence[ir.AffineMap],
            iterators: Sequence[str], body: Callable[..., ir.Value | Sequence[ir.Value]]) -> ir.Value:
    """linalg.generic whose region is `body(*input_scalars, *init_scalars) -> yielded`."""
    op = linalg.GenericOp([i.type for i in inits], list(inputs), list(inits),
                          ir.ArrayAttr.get([ir.AffineMapAttr.get(m) for m in maps]),
                          ir.ArrayAttr.get([iterator(k) for k in iterators]))
    elems = [elem_of(v) for v in [*inputs, *inits]]
    block = op.regions[0].blocks.append(*elems)
    with ir.InsertionPoint(block):
        result = body(*block.arguments)
        linalg.YieldOp(list(result) if isinstance(result, (list, tuple)) else [result])
    return op.results[0] if len(op.results) == 1 else list(op.results)


def clone_ops(ops: Sequence, mapping: dict) -> dict:
    """Clones `ops` (from another region) at the insertion point, each operand found in
    `mapping` replaced by its image; returns `mapping` with the clones' results added."""
    for op in ops:
        clone = op.clone()
        for i, operand in enumerate(clone.operands):
            for old, new in mapping.items():
                if operand == old:
                    clone.operands[i] = new
                    break
        for old, new in zip(op.results, clone.results):
            mapping[old] = new
    return mapping


def elementwise(result_type: ir.RankedTensorType, inputs: Sequence[ir.Value],
                body: Callable[..., ir.Value]) -> ir.Value:
    """result[i...] = body(inputs broadcast to the result shape at i...)."""
    out_shape = list(result_type.shape)
    rank = len(out_shape)
    maps = [broadcast_map(shape_of(v), out_shape) for v in inputs]
    maps.append(affine_map(rank, [ir.AffineDimExpr.get(d) for d in range(rank)]))
    init = empty(out_shape, result_type.element_type, broadcast_sources(inputs, out_shape))
    return generic(inputs, [init], maps, ["parallel"] * rank, lambda *args: body(*args[:-1]))


def identity_map(rank: int) -> ir.AffineMap:
    return affine_map(rank, [ir.AffineDimExpr.get(d) for d in range(rank)])


def dims_map(rank: int, dims: Sequence[int]) -> ir.AffineMap:
    """The map (d0, ..., d{rank-1}) -> (d{dims[0]}, d{dims[1]}, ...)."""
    return affine_map(rank, [ir.AffineDimExpr.get(d) for d in dims])


def reduce(value: ir.Value, axes: Sequence[int], init: ir.Value,
           combine: Callable[[ir.Value, ir.Value], ir.Value]) -> ir.Value:
    """Reduces `value` over `axes` (dropped from the result) starting from scalar `init`."""
    shape = shape_of(value)
    rank = len(shape)
    kept = [d for d in range(rank) if d not in axes]
    acc = filled([shape[d] for d in kept], elem_of(value), init, [(value, d) for d in kept])
    iterators = ["reduction" if d in axes else "parallel" for d in range(rank)]
    return generic([value], [acc], [identity_map(rank), dims_map(rank, kept)], iterators,
                   lambda x, a: combine(a, x))


def expand_dims_to(value: ir.Value, shape: Sequence[int]) -> ir.Value:
    """Reshape a tensor to `shape` that only adds unit dims (e.g. a reduced axis kept)."""
    return collapse_to(value, shape)


def loop_nest(shape: Sequence[int], init: ir.Value,
              body: Callable[[list[ir.Value], ir.Value], ir.Value]) -> ir.Value:
    """Sequential scf.for loops over `shape` carrying one tensor: `body(ivs, acc) -> acc`.

    For updates whose order matters (scatters with duplicate indices); bufferization turns the
    carried tensor into one buffer updated in place.
    """
    from mlir.dialects import scf

    index = ir.IndexType.get()
    c0, c1 = arith.constant(index, 0), arith.constant(index, 1)

    def level(d: int, ivs: list[ir.Value], acc: ir.Value) -> ir.Value:
        if d == len(shape):
            return body(ivs, acc)
        loop = scf.ForOp(c0, arith.constant(index, shape[d]), c1, [acc])
        with ir.InsertionPoint(loop.body):
            scf.YieldOp([level(d + 1, ivs + [loop.induction_variable], loop.inner_iter_args[0])])
        return loop.results[0]

    return level(0, [], init)
