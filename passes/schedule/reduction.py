"""Row reductions: a `linalg.generic` reducing its innermost dims, one vector per output element.

Softmax's max and sum, LayerNorm's mean and variance, a global average pool (with the ReLU
before it fused in) reduce contiguous rows. As naive loops they ran one scalar load, add and
store per element, the accumulator going through memory every step. Here every parallel dim
is tiled by one and the tile is vectorized whole: one row of `size` elements is read as
vectors and reduced by a `vector.multi_reduction`, which the script's cleanup lowers to
`vector.reduction`s (a tree of vector adds, with `reassociate-fp-reductions` at the LLVM
lowering).

Scheduled: static f32 generics with one result whose reduction dims are the trailing loop
dims, read by every input that uses them as its own trailing dims in loop order (contiguous
rows), with at most `MAX_ROW` elements reduced per output element. A short reduction (at most
`MAX_SHORT` elements, a stride-2 pooling window's column pairs) is vectorized across a row
of outputs instead: the [row, few] block is transposed by one shuffle and reduced with
elementwise ops. A reduction reading `parallel.MIN_ELEMENTS` or more first gets a parallel
loop over chunks of one of its parallel dims (`mlc.passes.schedule.parallel`).
"""

import math
from dataclasses import dataclass

from mlir import ir
from mlir.dialects import transform
from mlir.dialects.transform import structured, vector

from mlc.passes.schedule.parallel import MIN_ELEMENTS, best_split

MAX_ROW = 1024  # elements one output element reduces: 64 AVX-512 registers


MAX_SHORT = 4  # a reduction this short is across vectors: each lane reduces its own few


@dataclass(frozen=True)
class ReductionConfig:
    tile: tuple[int, ...]  # parallel dims: 1 (the innermost: a row, when short); reduction: 0
    short: bool = False  # a few elements per output: reduced lane-wise across vectors
    parallel: tuple[int, ...] = ()  # tile sizes of an outer parallel loop (0: not tiled)

    def describe(self) -> str:
        tile = "x".join(str(t) for t in self.tile)
        text = f"{'short' if self.short else 'row'} reduction tile {tile}"
        if self.parallel:
            text += f", parallel {'x'.join(map(str, self.parallel))}"
        return text


def _dims(affine_map: ir.AffineMap) -> list[int] | None:
    dims = []
    for expr in affine_map.results:
        expr = expr.maybe_downcast()
        if not isinstance(expr, ir.AffineDimExpr):
            return None
        dims.append(expr.position)
    return dims


def _largest_divisor(n: int, limit: int) -> int:
    return next(d for d in range(min(n, limit), 0, -1) if n % d == 0)


def reduction_config(op, lanes: int) -> ReductionConfig | None:
    if op.name != "linalg.generic" or len(op.results) != 1:
        return None
    iterators = ["reduction" in str(it) for it in ir.ArrayAttr(op.attributes["iterator_types"])]
    rank = len(iterators)
    reduced = [d for d in range(rank) if iterators[d]]
    if not reduced or len(reduced) == rank or reduced != list(range(rank - len(reduced), rank)):
        return None
    for value in list(op.operands) + list(op.results):
        t = value.type
        if not isinstance(t, ir.RankedTensorType) or not t.has_static_shape:
            return None
        if not isinstance(ir.RankedTensorType(t).element_type, ir.F32Type):
            return None
    maps = [_dims(ir.AffineMapAttr(m).value) for m in ir.ArrayAttr(op.attributes["indexing_maps"])]
    if any(m is None for m in maps) or any(d in reduced for d in maps[-1]):
        return None
    sizes = {}
    for value, dims in zip(op.operands, maps):
        uses = [d for d in dims if d in reduced]
        if uses and (uses != reduced or dims[-len(reduced):] != reduced):
            return None
        sizes.update(zip(dims, ir.RankedTensorType(value.type).shape))
    if any(o.name == "linalg.index" for o in op.regions[0].blocks[0].operations):
        return None
    size = math.prod(sizes[d] for d in reduced)
    if size > MAX_ROW:
        return None
    tile = [0 if r else 1 for r in iterators]
    short = size <= MAX_SHORT
    if short:
        inner = reduced[0] - 1
        tile[inner] = _largest_divisor(sizes[inner], 2 * lanes)
    parallel = ()
    if math.prod(sizes.values()) >= MIN_ELEMENTS:
        split = best_split([(d, sizes[d], tile[d]) for d in range(rank) if not iterators[d]])
        if split:
            parallel = tuple(split[1] if d == split[0] else 0 for d in range(rank))
    return ReductionConfig(tuple(tile), short, parallel)


def schedule_reduction(op: ir.Value, config: ReductionConfig) -> None:
    if config.parallel:
        op = structured.TileUsingForallOp(op, tile_sizes=list(config.parallel)).tiled_op
    tiled = structured.TileUsingForOp(op, sizes=list(config.tile))
    structured.VectorizeOp(tiled.tiled_linalg_op)
    if config.short:
        # [row, few] -> [few, row] by one shuffle, then elementwise ops between whole rows.
        lower = transform.ApplyPatternsOp(tiled.loops[0])
        with ir.InsertionPoint(lower.patterns):
            vector.ApplyLowerMultiReductionPatternsOp(
                lowering_strategy=vector.VectorMultiReductionLowering.InnerParallel)
            vector.ApplyLowerTransposePatternsOp(
                lowering_strategy=vector.VectorTransposeLowering.Shuffle1D)
