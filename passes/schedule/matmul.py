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
from mlc.passes.schedule.panel_gemm import (RESHAPES, accumulator_start, behind_reshapes,
                                            find_epilogue, make_epilogue, owner_of, panel_gemm)
from mlc.passes.schedule.config import (MatmulConfig, matmul_config, panel_matmul_config,
                                        register_budget, split_points)

KERNEL_ATTR = "mlc.kernel"
# Rows of A for which a run-time B is worth copying into panels (each panel then serves 8+
# register tiles); grouped 1x1 convs of 32 rows per group gained nothing from it.
PACK_MIN_ROWS = 64


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


def panels_behind(value: ir.Value) -> ir.Value | None:
    """The constant panels Bp[ceil(N/nr), K, nr] that `value` is a reshaped view of
    (mlc-pack-matmul-weights and mlc-nhwc-layout store them so: a reshape of a
    [1, 0, 2] transpose of Bp), or None. Builds nothing."""
    op = behind_reshapes(value)
    if op is not None and op.name == "tensor.extract_slice" and _leading_slice(op):
        op = behind_reshapes(op.operands[0])  # the zero columns of a padded last panel cut off
    return _panel_source(op) if op is not None else None


def _leading_slice(op) -> bool:
    """Whether the extract_slice `op` keeps the leading part of each dim (offsets 0, unit
    strides, static)."""
    return all(v == 0 for v in ir.DenseI64ArrayAttr(op.attributes["static_offsets"])) and \
        all(v == 1 for v in ir.DenseI64ArrayAttr(op.attributes["static_strides"])) and \
        len(op.operands) == 1


def packed_operand(b: ir.Value) -> ir.Value | None:
    """The panels behind `b` [K, N] (`panels_behind`), or None."""
    panels = panels_behind(b)
    if panels is None:
        return None
    j, k, nr = lb.shape_of(panels)
    rows, cols = lb.shape_of(b)
    return panels if rows == k and (j - 1) * nr < cols <= j * nr else None


def is_panel_view(op) -> bool:
    """Whether `op` is the transpose that views constant panels Bp[N/nr, K, nr] as [K, N/nr, nr]."""
    return _panel_source(op) is not None


def _panel_source(op) -> ir.Value | None:
    """Bp when `op` is a transpose viewing constant panels Bp[N/nr, K, nr] as [K, N/nr, nr]:
    permutation [1, 0, 2], or the same on Bp with its dims split (an expand_shape, which
    reshape propagation makes when it spreads K over two dims: [1, 2, 0, 3] for K split in
    two); else None."""
    if op.name != "linalg.transpose":
        return None
    perm = list(ir.DenseI64ArrayAttr(op.attributes["permutation"]))
    source = op.operands[0]
    groups = [[0], [1], [2]]
    split = lb.producer(source)
    if split is not None and split.name == "tensor.expand_shape":
        reassociation = ir.ArrayAttr(split.attributes["reassociation"])
        groups = [[int(d) for d in ir.ArrayAttr(g)] for g in reassociation]
        source = split.operands[0]
    producer = lb.producer(source)
    if len(groups) != 3 or perm != groups[1] + groups[0] + groups[2]:
        return None
    if producer is None or producer.name != "arith.constant" or static_f32_shape(source) is None:
        return None
    return source


def _from_constant(value: ir.Value) -> bool:
    """Whether `value` is a constant, or a slice or reshape of one (a filter tap, say)."""
    while (op := lb.producer(value)) is not None and op.name in (*RESHAPES, "tensor.extract_slice",
                                                                 "linalg.transpose"):
        value = op.operands[0]
    return op is not None and op.name == "arith.constant"


def _pack_panels(b: ir.Value, nr: int) -> ir.Value:
    """Bp[j, k, r] = B[k, j*nr + r]: one pass copying a run-time B [K, N] into ceil(N/nr)
    panels; the last one's columns past N are zero (only that panel is filled first)."""
    k, n = lb.shape_of(b)
    elem = lb.elem_of(b)
    full, rest = n // nr, n % nr
    panels = lb.empty([full + (rest > 0), k, nr], elem)
    if full:
        main = b if not rest else _slice(b, [0, 0], [k, full * nr])
        b3 = tensor.expand_shape(lb.tensor_of([k, full, nr], elem), main, [[0], [1, 2]], [],
                                 [k, full, nr])
        moved = lb.generic([b3], [lb.empty([full, k, nr], elem)],
                           [lb.dims_map(3, [1, 0, 2]), lb.identity_map(3)], ["parallel"] * 3,
                           lambda v, _: v)
        panels = tensor.insert_slice(moved, panels, [], [], [], [0, 0, 0], [full, k, nr], [1, 1, 1])
    if rest:
        last = lb.pad(_slice(b, [0, full * nr], [k, rest]), [0, 0], [0, nr - rest],
                      lb.const(0, elem))
        panels = tensor.insert_slice(last, panels, [], [], [], [full, 0, 0], [1, k, nr], [1, 1, 1])
    return panels


def worth_packing(m: int, n: int, budget) -> bool:
    """A run-time B is copied into panels when each panel then serves enough register tiles
    (PACK_MIN_ROWS rows of A) to repay the copy, and B fills most of a panel at least."""
    return m >= PACK_MIN_ROWS and n >= budget.cols


def _panels_for(b: ir.Value, m: int, n: int, budget) -> ir.Value | None:
    """B's column panels: the constant ones behind it, or (when `worth_packing`) a run-time
    copy; None when it gets none."""
    panels = packed_operand(b)
    if panels is None and not _from_constant(b) and worth_packing(m, n, budget):
        panels = _pack_panels(b, budget.cols)
    return panels if panels is not None and lb.shape_of(panels)[2] == budget.cols else None


def panel_kernel(a, panels, dest, k: int, target, fresh_tag, start, epilogue=None,
                 conv=None) -> tuple[ir.Value, list]:
    """One tagged `panel_gemm` kernel writing `dest` [M, N] (its config from M, N, K and the
    target): (its result, [(tag, config)])."""
    m, n = lb.shape_of(dest)
    config = panel_matmul_config(m, n, k, target)
    if conv is not None:
        config = replace(config, kc=0)  # k runs by kernel rows, in one pass
    out = panel_gemm(a, panels, dest, config, target.f32_lanes, start, epilogue, conv)
    tag = fresh_tag()
    out.owner.attributes[KERNEL_ATTR] = ir.StringAttr.get(tag)
    return out, [(tag, config)]


FUSED_ATTR = "mlc.fused"  # on a GEMM kernel: the ONNX nodes it computes, its epilogue's included


def fuse_into_consumer(gemm, a, b, c, target, fresh_tag, found, conv=None) -> list | None:
    """Replaces the GEMM op `gemm` (C + A @ B) and `found`, its consumer (`find_epilogue`), by
    one panel kernel applying the consumer to the accumulators and writing the consumer's
    output; returns its [(tag, config)]. None, changing nothing, when B has no panels or C
    holds data of its own (the consumer's output cannot stand in for it). With `conv`, A is
    a conv's flat input, read in place (`panel_gemm.ConvRows`)."""
    from mlc.passes.schedule.fusion import node_names

    consumer, inputs = found
    (m, n), k = static_f32_shape(c), static_f32_shape(b)[0]
    start = accumulator_start(c)
    if start.kind == "load":
        return None
    with ir.InsertionPoint(consumer), consumer.location:
        panels = _panels_for(b, m, n, register_budget(target))
        if panels is None:
            return None
        epilogue = make_epilogue(consumer, inputs, m, n)
        out, kernels = panel_kernel(a, panels, epilogue.dest, k, target, fresh_tag, start, epilogue,
                                   conv)
        value = lb.collapse_to(out, lb.shape_of(consumer.results[0]))
    names = node_names(gemm) + [name for name in node_names(consumer) if name not in node_names(gemm)]
    out.owner.attributes[FUSED_ATTR] = ir.StringAttr.get(" + ".join(names))
    _replace_consumer(consumer, value, gemm)
    return kernels


def _replace_consumer(consumer, value: ir.Value, gemm) -> None:
    """`value` replaces `consumer`; the consumer, the reshapes between it and the GEMM op
    `gemm`, and `gemm` go."""
    consumer.results[0].replace_all_uses_with(value)
    consumer.erase()
    result = gemm.results[0]
    chain = []
    while list(result.uses):
        user = owner_of(list(result.uses)[0])
        chain.append(user)
        result = user.results[0]
    for op in reversed(chain):
        op.erase()
    gemm.erase()


def matmul_pieces(a: ir.Value, b: ir.Value, c: ir.Value, target, fresh_tag,
                  conv=None) -> tuple[ir.Value, list]:
    """Builds C + A @ B as tile-divisible tagged matmuls; returns (result, [(tag, config)]).

    When B has column panels (a packed constant) or copying it into panels pays
    (`worth_packing`), one panel kernel instead, its accumulators starting from C's
    initializer (which is then not even written). `conv` (A a conv's flat input read in
    place, `panel_gemm.ConvRows`) needs B's panels."""
    (m, n), k = static_f32_shape(c), static_f32_shape(b)[0]
    budget = register_budget(target)
    panels = _panels_for(b, m, n, budget)
    if panels is not None:
        start = accumulator_start(c)
        dest = c if start.kind == "load" else lb.empty([m, n], lb.elem_of(c))
        return panel_kernel(a, panels, dest, k, target, fresh_tag, start, conv=conv)
    assert conv is None, "a conv read in place needs its filter's panels"
    rows, cols = split_points(m, n, budget)
    kernels, result = [], c
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


def split_matmul(op, target, fresh_tag) -> list | None:
    """Replaces a static f32 linalg.matmul by tagged pieces; None when it is not one."""
    a, b = op.operands[0], op.operands[1]
    c = op.operands[2]
    if any(static_f32_shape(v) is None for v in (a, b, c)):
        return None
    found = find_epilogue(op.results[0], *static_f32_shape(c))
    fused = found and fuse_into_consumer(op, a, b, c, target, fresh_tag, found)
    if fused:
        return fused
    with ir.InsertionPoint(op), op.location:
        result, kernels = matmul_pieces(a, b, c, target, fresh_tag)
    op.results[0].replace_all_uses_with(result)
    op.erase()
    return kernels


def schedule_matmul(mm: ir.Value, config: MatmulConfig) -> ir.Value:
    """Tiles and vectorizes the matmul handle `mm`; returns the k loop, for `hoist_matmul`.

    Contraction formation runs later, once for every kernel (see `mlc.passes.schedule`).
    """
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


def hoist_matmul(k_loop: ir.Value) -> None:
    """Keeps the C tile in registers across the k loop (run after contraction formation).

    Twice: the C tile's extract/insert_slice pair first, then its transfer_read/write pair,
    so the loop carries the accumulators as a vector value.
    """
    loop.HoistLoopInvariantSubsetsOp(k_loop)
    loop.HoistLoopInvariantSubsetsOp(k_loop)
