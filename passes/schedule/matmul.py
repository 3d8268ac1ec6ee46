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

from dataclasses import replace

from mlir import ir
from mlir.dialects import linalg, tensor, transform
from mlir.dialects.transform import loop, structured

from mlc.passes import linalg_builders as lb
from mlc.passes.schedule import epilogue as gemm_epilogue
from mlc.passes.schedule.config import MatmulConfig, register_budget, split_points, matmul_config

KERNEL_ATTR = "mlc.kernel"
PIECE_ATTR = "mlc.piece"  # a matmul piece inside an epilogue kernel: already split


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


def _is_piece(value: ir.Value) -> bool:
    op = lb.producer(value)
    return op is not None and PIECE_ATTR in op.attributes


def _piece(a, b, c, target, fresh_tag, kernels, epilogue=None) -> ir.Value:
    """C + A @ B as one tagged matmul (A, B, C already the piece's rows and columns); with
    `epilogue` = (extras, maps, body, dest), the epilogue op on it is the kernel instead."""
    (rn, k), cn = static_f32_shape(a), static_f32_shape(b)[1]
    piece = linalg.matmul(a, b, outs=[c])
    tag = fresh_tag()
    config = matmul_config(rn, cn, k, target)
    if epilogue is not None:
        extras, maps, body, dest = epilogue
        lb.producer(piece).attributes[PIECE_ATTR] = ir.UnitAttr.get()
        piece = lb.generic([piece, *extras], [dest], maps, ["parallel"] * 2, body)
        # No k cache tile: the epilogue needs the whole sum in registers.
        config = replace(config, kc=0, epilogue=True, tile_init=_is_piece(c))
    lb.producer(piece).attributes[KERNEL_ATTR] = ir.StringAttr.get(tag)
    kernels.append((tag, config))
    return piece


def matmul_pieces(a: ir.Value, b: ir.Value, c: ir.Value, target, fresh_tag,
                  epilogue=None) -> tuple[ir.Value, list]:
    """Builds C + A @ B as tile-divisible tagged matmuls; returns (result, [(tag, config)]).

    With an `Epilogue` (see `mlc.passes.schedule.epilogue`) the result is the epilogue of
    C + A @ B, each piece ending in the epilogue on its own rows and columns; when C is a
    fill or a bias broadcast, each piece builds its own C (in registers, once scheduled)."""
    m, k = static_f32_shape(a)
    n = static_f32_shape(b)[1]
    rows, cols = split_points(m, n, register_budget(target))
    kernels = []
    result = c if epilogue is None else epilogue.dest
    init = None if epilogue is None else gemm_epilogue.tile_init(c, epilogue.groups)
    for r0, rn in rows:
        for c0, cn in cols:
            whole = (rn, cn) == (m, n)
            pa = a if rn == m else _slice(a, [r0, 0], [rn, k])
            pb = b if cn == n else _slice(b, [0, c0], [k, cn])
            if epilogue is None:
                pc = result if whole else _slice(result, [r0, c0], [rn, cn])
                piece = _piece(pa, pb, pc, target, fresh_tag, kernels)
            else:
                if init is not None:
                    pc = gemm_epilogue.build_init(init, [r0, c0], [rn, cn])
                    lb.producer(pc).attributes[PIECE_ATTR] = ir.UnitAttr.get()
                else:
                    pc = c if whole else _slice(c, [r0, c0], [rn, cn])
                extras, maps = epilogue.piece([r0, c0], [rn, cn])
                dest = result if whole else _slice(result, [r0, c0], [rn, cn])
                piece = _piece(pa, pb, pc, target, fresh_tag, kernels,
                               (extras, maps, epilogue.body, dest))
            result = piece if whole else _insert(piece, result, [r0, c0])
    return result, kernels


def reshaped_result(op) -> tuple[ir.Value, list]:
    """(the value a consumer of matmul `op` sees, how its dims collapse into [M, N]): the
    result itself, or the tensor.expand_shape that is its only user (an N-D MatMul)."""
    uses = list(op.results[0].uses)
    if len(uses) == 1:
        user = uses[0].owner
        user = user.operation if hasattr(user, "operation") else user
        if user.name == "tensor.expand_shape":
            groups = [[int(ir.IntegerAttr(d).value) for d in ir.ArrayAttr(g)]
                      for g in ir.ArrayAttr(user.attributes["reassociation"])]
            return user.results[0], groups
    return op.results[0], [[0], [1]]


def split_matmul(op, target, fresh_tag) -> list | None:
    """Replaces a static f32 linalg.matmul (and its epilogue, see `epilogue.find`) by tagged
    pieces; None when it is not one."""
    a, b = op.operands[0], op.operands[1]
    c = op.operands[2]
    if any(static_f32_shape(v) is None for v in (a, b, c)):
        return None
    seen, groups = reshaped_result(op)
    found = gemm_epilogue.find(seen, groups)
    if found is None:
        with ir.InsertionPoint(op), op.location:
            result, kernels = matmul_pieces(a, b, c, target, fresh_tag)
        op.results[0].replace_all_uses_with(result)
        op.erase()
        return kernels
    consumer = found[0]
    # At the consumer (its other operands may be defined after the matmul), under the
    # matmul's location: the kernel is the matmul's, its body ops keep the consumer's.
    with ir.InsertionPoint(consumer), op.location:
        ep = gemm_epilogue.build(seen, groups)
        result, kernels = matmul_pieces(a, b, c, target, fresh_tag, ep)
        result = ep.expand(result)
    consumer.results[0].replace_all_uses_with(result)
    consumer.erase()
    if seen != op.results[0]:
        lb.producer(seen).erase()
    op.erase()
    return kernels


def schedule_matmul(mm: ir.Value, config: MatmulConfig) -> ir.Value:
    """Tiles and vectorizes the matmul handle `mm`; returns the k loop, for `hoist_matmul`.

    Contraction formation runs later, once for every kernel (see `mlc.passes.schedule`).
    """
    if config.epilogue:
        return _schedule_with_epilogue(mm, config)
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


def _schedule_with_epilogue(ep: ir.Value, config: MatmulConfig) -> ir.Value:
    """The same loops as `schedule_matmul`, tiling the epilogue op `ep` and fusing its matmul
    into each level, so a register tile of the matmul is followed by the epilogue on it.
    (No k cache tile: the epilogue needs the whole sum in the accumulators.)"""
    any_op = transform.AnyOpType.get()
    mm = transform.GetProducerOfOperand(any_op, ep, 0).result

    init = transform.GetProducerOfOperand(any_op, mm, 2).result if config.tile_init else None

    def fuse(mm, loop):
        nonlocal init
        mm = structured.FuseIntoContainingOp(any_op, any_op, mm, loop).fused_op
        if init is not None:
            init = structured.FuseIntoContainingOp(any_op, any_op, init, loop).fused_op
        return mm

    if config.parallel_chunk:
        sizes = [0, 0]
        sizes[config.parallel_dim] = config.parallel_chunk
        tiled = structured.TileUsingForallOp(ep, tile_sizes=sizes)
        ep, mm = tiled.tiled_op, fuse(mm, tiled.forall_op)
    if config.mc or config.nc:
        tiled = structured.TileUsingForOp(ep, sizes=[config.mc, config.nc], interchange=[1, 0])
        ep, mm = tiled.tiled_linalg_op, fuse(mm, tiled.loops[0])
    tiled = structured.TileUsingForOp(ep, sizes=[config.mr, config.nr],
                                      interchange=[1, 0] if config.n_outer else [0, 1])
    ep, mm = tiled.tiled_linalg_op, fuse(mm, tiled.loops[-1])
    k_tiled = structured.TileUsingForOp(mm, sizes=[0, 0, 1])
    structured.VectorizeOp(k_tiled.tiled_linalg_op)
    structured.VectorizeOp(ep)
    if init is not None:
        structured.VectorizeOp(init)
    return k_tiled.loops[0]


def hoist_matmul(k_loop: ir.Value) -> None:
    """Keeps the C tile in registers across the k loop (run after contraction formation).

    Twice: the C tile's extract/insert_slice pair first, then its transfer_read/write pair,
    so the loop carries the accumulators as a vector value.
    """
    loop.HoistLoopInvariantSubsetsOp(k_loop)
    loop.HoistLoopInvariantSubsetsOp(k_loop)
