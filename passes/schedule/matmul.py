"""The matmul kernel: cut into tile-divisible pieces, then a register-tiled, vectorized schedule.

`split_matmul` replaces one static f32 `linalg.matmul` by matmuls on slices (main block, then
edges of whole vectors, then edges narrower than a vector) whose shapes their register tiles
divide. Each piece
is tagged `mlc.kernel = "<id>"` so its schedule can find it.

`schedule_matmul` emits the Transform-dialect ops of one piece: for a large one, a parallel
loop over chunks of m or n (`mlc.passes.schedule.parallel`); cache tiles (n, k, m order),
a register tile mr x nr x 1 (n, m, k order) and vectorization of the tiled op alone. After
vector contraction formation (before any canonicalization, or unit-k reductions become
mul+add without FMA), `hoist_matmul` lifts the C tile out of the k loop while still on
tensors, so the accumulators stay in registers across k.
"""

from mlir import ir
from mlir.dialects import linalg, tensor, transform
from mlir.dialects.transform import loop, structured

from mlc.passes import linalg_builders as lb
from mlc.passes.schedule.config import (MatmulConfig, matmul_config, panel_matmul_config,
                                        register_budget, split_points)

KERNEL_ATTR = "mlc.kernel"


def static_f32_shape(value: ir.Value) -> list[int] | None:
    t = value.type
    if not isinstance(t, ir.RankedTensorType) or not t.has_static_shape:
        return None
    if not isinstance(t.element_type, ir.F32Type):
        return None
    return list(t.shape)


def _slice(value: ir.Value, offsets, sizes) -> ir.Value:
    t = ir.RankedTensorType(value.type)
    out = ir.RankedTensorType.get(list(sizes), t.element_type)
    return tensor.extract_slice(out, value, [], [], [], list(offsets), list(sizes), [1] * len(sizes))


def _insert(value: ir.Value, into: ir.Value, offsets) -> ir.Value:
    sizes = list(ir.RankedTensorType(value.type).shape)
    return tensor.insert_slice(value, into, [], [], [], list(offsets), sizes, [1] * len(sizes))


_RESHAPES = ("tensor.collapse_shape", "tensor.expand_shape")


def packed_operand(b: ir.Value) -> ir.Value | None:
    """The panels Bp[N/nr, K, nr] that `b` [K, N] is a view of (mlc-pack-matmul-weights stores
    a constant B so: a reshape of a [1, 0, 2] transpose of Bp), or None."""
    value = b
    while (op := lb.producer(value)) is not None and op.name in _RESHAPES:
        value = op.operands[0]
    if op is None or not is_panel_view(op):
        return None
    panels = op.operands[0]
    j, k, nr = lb.shape_of(panels)
    return panels if lb.shape_of(b) == [k, j * nr] else None


def is_panel_view(op) -> bool:
    """Whether `op` is the transpose that views constant panels Bp[N/nr, K, nr] as [K, N/nr, nr]."""
    if op.name != "linalg.transpose":
        return False
    if list(ir.DenseI64ArrayAttr(op.attributes["permutation"])) != [1, 0, 2]:
        return False
    source = lb.producer(op.operands[0])
    return source is not None and source.name == "arith.constant" and \
        static_f32_shape(op.operands[0]) is not None


def _panel_matmul(a: ir.Value, panels: ir.Value, c: ir.Value) -> ir.Value:
    """C[m, j*nr + r] += A[m, k] * Bp[j, k, r], a generic over (m, j, r, k) on C viewed as
    [M, N/nr, nr] (a free reshape)."""
    m = lb.shape_of(c)[0]
    j, _, nr = lb.shape_of(panels)
    c3 = tensor.expand_shape(lb.tensor_of([m, j, nr], lb.elem_of(c)), c, [[0], [1, 2]], [], [m, j, nr])
    maps = [lb.dims_map(4, [0, 3]), lb.dims_map(4, [1, 3, 2]), lb.dims_map(4, [0, 1, 2])]
    out = lb.generic([a, panels], [c3], maps, ["parallel", "parallel", "parallel", "reduction"],
                     lambda x, w, acc: lb.add(acc, lb.mul(x, w)))
    return out


def _collapse_panels(c3: ir.Value) -> ir.Value:
    m, j, nr = lb.shape_of(c3)
    return tensor.collapse_shape(lb.tensor_of([m, j * nr], lb.elem_of(c3)), c3, [[0], [1, 2]])


def matmul_pieces(a: ir.Value, b: ir.Value, c: ir.Value, target, fresh_tag) -> tuple[ir.Value, list]:
    """Builds C + A @ B as tile-divisible tagged matmuls; returns (result, [(tag, config)])."""
    m, k = static_f32_shape(a)
    n = static_f32_shape(b)[1]
    budget = register_budget(target)
    panels = packed_operand(b)
    if panels is not None and lb.shape_of(panels)[2] == budget.cols:
        return _panel_pieces(a, panels, c, target, fresh_tag)
    rows, cols = split_points(m, n, budget)
    kernels = []
    result = c
    for r0, rn in rows:
        for c0, cn in cols:
            whole = (rn, cn) == (m, n)
            pa = a if rn == m else _slice(a, [r0, 0], [rn, k])
            pb = b if cn == n else _slice(b, [0, c0], [k, cn])
            pc = result if whole else _slice(result, [r0, c0], [rn, cn])
            piece = linalg.matmul(pa, pb, outs=[pc])
            tag = fresh_tag()
            piece.owner.attributes[KERNEL_ATTR] = ir.StringAttr.get(tag)
            kernels.append((tag, matmul_config(rn, cn, k, target)))
            result = piece if whole else _insert(piece, result, [r0, c0])
    return result, kernels


def _panel_pieces(a, panels, c, target, fresh_tag) -> tuple[ir.Value, list]:
    """C + A @ B on B's panels: one piece per run of rows the register tile divides."""
    m, k = static_f32_shape(a)
    j, _, nr = lb.shape_of(panels)
    rows, _ = split_points(m, j * nr, register_budget(target))
    kernels, result = [], c
    for r0, rn in rows:
        pa = a if rn == m else _slice(a, [r0, 0], [rn, k])
        pc = result if rn == m else _slice(result, [r0, 0], [rn, j * nr])
        piece = _panel_matmul(pa, panels, pc)
        tag = fresh_tag()
        piece.owner.attributes[KERNEL_ATTR] = ir.StringAttr.get(tag)
        kernels.append((tag, panel_matmul_config(rn, j * nr, k, target)))
        flat = _collapse_panels(piece)
        result = flat if rn == m else _insert(flat, result, [r0, 0])
    return result, kernels


def split_matmul(op, target, fresh_tag) -> list | None:
    """Replaces a static f32 linalg.matmul by tagged pieces; None when it is not one."""
    a, b = op.operands[0], op.operands[1]
    c = op.operands[2]
    if any(static_f32_shape(v) is None for v in (a, b, c)):
        return None
    with ir.InsertionPoint(op), op.location:
        result, kernels = matmul_pieces(a, b, c, target, fresh_tag)
    op.results[0].replace_all_uses_with(result)
    op.erase()
    _erase_unused(b)
    return kernels


def _erase_unused(value: ir.Value) -> None:
    """Erases the chain of ops behind `value` (a panel view the pieces no longer read) while
    nothing uses them, up to the constant."""
    while (op := lb.producer(value)) is not None and not list(op.results[0].uses) \
            and op.name in (*_RESHAPES, "linalg.transpose", "tensor.empty"):
        inputs = list(op.operands)
        op.erase()
        if not inputs:
            return
        value = inputs[0]


def schedule_matmul(mm: ir.Value, config: MatmulConfig) -> ir.Value:
    """Tiles and vectorizes the matmul handle `mm`; returns the k loop, for `hoist_matmul`.

    Contraction formation runs later, once for every kernel (see `mlc.passes.schedule`).
    """
    if config.panels:
        return _schedule_panels(mm, config)
    if config.parallel_chunk:
        sizes = [0, 0, 0]
        sizes[config.parallel_dim] = config.parallel_chunk
        mm = structured.TileUsingForallOp(mm, tile_sizes=sizes).tiled_op
    if config.mc or config.nc or config.kc:
        mm = structured.TileUsingForOp(mm, sizes=[config.mc, config.nc, config.kc],
                                       interchange=[1, 2, 0]).tiled_linalg_op
    tiled = structured.TileUsingForOp(mm, sizes=[config.mr, config.nr, 1],
                                      interchange=[1, 0, 2] if config.n_outer else [0, 1, 2])
    structured.VectorizeOp(tiled.tiled_linalg_op)
    return tiled.loops[2]


def _schedule_panels(mm: ir.Value, config: MatmulConfig) -> ir.Value:
    """`schedule_matmul` on a panel matmul's dims (m, j, r, k): the register tile is mr rows of
    one panel (r whole), so each k step reads nr contiguous values of B."""
    if config.parallel_chunk:
        sizes = [0, 0, 0, 0]
        if config.parallel_dim == 0:
            sizes[0] = config.parallel_chunk
        else:
            sizes[1] = config.parallel_chunk // config.nr
        mm = structured.TileUsingForallOp(mm, tile_sizes=sizes).tiled_op
    if config.mc or config.kc:
        mm = structured.TileUsingForOp(mm, sizes=[config.mc, 0, 0, config.kc],
                                       interchange=[1, 2, 3, 0]).tiled_linalg_op
    tiled = structured.TileUsingForOp(mm, sizes=[config.mr, 1, 0, 1],
                                      interchange=[1, 0, 2, 3] if config.n_outer else [0, 1, 2, 3])
    structured.VectorizeOp(tiled.tiled_linalg_op)
    return tiled.loops[2]


def hoist_matmul(k_loop: ir.Value) -> None:
    """Keeps the C tile in registers across the k loop (run after contraction formation).

    Twice: the C tile's extract/insert_slice pair first, then its transfer_read/write pair,
    so the loop carries the accumulators as a vector value.
    """
    loop.HoistLoopInvariantSubsetsOp(k_loop)
    loop.HoistLoopInvariantSubsetsOp(k_loop)
