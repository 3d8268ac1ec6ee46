"""Elementwise kernels: all-parallel linalg ops vectorized along their innermost dimension.

`linalg.generic` with only parallel iterators (bias, BatchNorm, ReLU, residual adds, ...),
`linalg.fill`, `linalg.copy`, and transposes that move whole rows, on static shapes: every
outer dimension is tiled by one and the innermost one is cut into rows of at most `max_row`
elements that divide it, so each tile is one vector op per operand; the script's final
cleanup casts the leading unit dims away, so the vectors are 1-D before they reach the LLVM
lowering. A large op first gets a parallel loop over chunks of one dimension
(`mlc.passes.schedule.parallel`).

Not scheduled (left to the naive path): reductions, dynamic shapes, and copies whose source
is a slice with a non-unit innermost stride (a strided vector load has no direct lowering).
"""

import math
from dataclasses import dataclass

from mlir import ir
from mlir.dialects import transform
from mlir.dialects.transform import structured

from mlc.passes.linalg_builders import collapse_to, dims_map, generic, identity_map, producer
from mlc.passes.schedule.parallel import (MIN_ELEMENTS as MIN_PARALLEL_ELEMENTS, best_split,
                                            split_with_rest)

ELEMENTWISE_OPS = ("linalg.generic", "linalg.fill", "linalg.copy")
MIN_ELEMENTS = 64  # below this the loop overhead of a schedule is not worth it


@dataclass(frozen=True)
class ElementwiseConfig:
    op_name: str
    tile: tuple[int, ...]
    parallel: tuple[int, ...] = ()  # tile sizes of an outer parallel loop (0: not tiled)
    flat: bool = False  # all dims collapsed into one first (`_flattens`); tiles are 1-D

    def describe(self) -> str:
        flat = " flat" if self.flat else ""
        text = f"elementwise {self.op_name}{flat} tile {'x'.join(map(str, self.tile))}"
        if self.parallel:
            text += f", parallel {'x'.join(map(str, self.parallel))}"
        return text


def _static_shape(value: ir.Value) -> list[int] | None:
    t = value.type
    if not isinstance(t, ir.RankedTensorType) or not t.has_static_shape:
        return None
    return list(t.shape)


def _row(n: int, lanes: int, max_row: int) -> int:
    """The longest row <= max_row dividing n, preferring whole vectors."""
    if n <= max_row:
        return n
    for multiple in (lanes, 1):
        for d in range(max_row, 0, -1):
            if n % d == 0 and d % multiple == 0:
                return d
    return 1


def _producer_name(value: ir.Value) -> str:
    return getattr(producer(value), "name", "")


def _is_slice(value: ir.Value) -> bool:
    """Whether `value` is a slice of another tensor (or one with a slice inserted), which
    may not be contiguous: collapsing its dims would be a copy."""
    return _producer_name(value) in ("tensor.extract_slice", "tensor.insert_slice")


def _strided_innermost(value: ir.Value) -> bool:
    owner = producer(value)
    if owner is None or owner.name != "tensor.extract_slice":
        return False
    strides = ir.DenseI64ArrayAttr(owner.attributes["static_strides"])
    return len(strides) > 0 and strides[len(strides) - 1] != 1


def _swaps_inner_dims(op) -> bool:
    """Whether an input of the generic `op` reads the two innermost loop dims swapped (a
    2-D transpose: NCHW <-> NHWC around a conv's GEMM), so that rows of the output are
    columns of that input."""
    if op.name != "linalg.generic":
        return False
    maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(op.attributes["indexing_maps"])]
    rank = maps[-1].n_dims
    if rank < 2:
        return False
    swapped = [ir.AffineDimExpr.get(rank - 1), ir.AffineDimExpr.get(rank - 2)]
    return any(len(m.results) >= 2 and list(m.results)[-2:] == swapped for m in maps[:-1])


def elementwise_config(op, target) -> ElementwiseConfig | None:
    name = op.name
    if name == "linalg.generic":
        iterators = ir.ArrayAttr(op.attributes["iterator_types"])
        if any("parallel" not in str(it) for it in iterators):
            return None
    shapes = [_static_shape(v) for v in op.operands]
    shapes += [_static_shape(r) for r in op.results]
    if not op.results or any(s is None for s in shapes[1 if name == "linalg.fill" else 0:]):
        return None
    if any(_strided_innermost(v) for v in op.operands):
        return None
    out = shapes[-1]
    if not out or math.prod(out) < MIN_ELEMENTS:
        return None
    lanes = target.f32_lanes
    flat = _flattens(op, out, lanes)
    if flat:
        out = [math.prod(out)]
    if _swaps_inner_dims(op) and out[-1] % lanes == 0 and out[-2] % lanes == 0:
        tile = [1] * (len(out) - 2) + [lanes, lanes]  # one register transpose a tile
    else:
        tile = [1] * (len(out) - 1) + [_row(out[-1], lanes, 16 * lanes)]
    parallel = ()
    if math.prod(out) >= MIN_PARALLEL_ELEMENTS:
        dims = [(d, size, unit) for d, (size, unit) in enumerate(zip(out, tile))]
        # Dims no chunk count divides (a padded image's 113 rows): equal chunks and a
        # shorter last one, the forall's last iteration.
        split = best_split(dims) or next(
            ((d, chunk) for d, size, unit in dims if (chunk := split_with_rest(size, unit))), None)
        if split:
            parallel = tuple(split[1] if d == split[0] else 0 for d in range(len(out)))
    return ElementwiseConfig(name, tuple(tile), parallel, flat)


def _flattens(op, out: list[int], lanes: int) -> bool:
    """Whether the generic `op` runs better on its operands flattened to 1-D: its rows are
    not whole vectors (an NCHW op over 14x14 or 7x7 images moves rows of 14 or 7 floats,
    in pieces of 8, 4, 2 and 1), every operand is read with the identity map (collapsing
    them is then a free view), and none is a slice of another tensor (one that is may not
    be contiguous, and its collapse would be a copy)."""
    if op.name != "linalg.generic" or len(out) < 2 or out[-1] % lanes == 0:
        return False
    maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(op.attributes["indexing_maps"])]
    if any(m != identity_map(len(out)) for m in maps):
        return False
    return not any(_is_slice(v) for v in op.operands)


def rows_transpose_as_generic(op) -> bool:
    """A `linalg.transpose` that keeps the innermost dim in place (a channel shuffle, a
    head split) moves whole rows: as an all-parallel generic it is scheduled like any
    elementwise op. The innermost dims it keeps in place are one row (an NCHW channel
    shuffle's rows are whole 14x14 images, not rows of 14) unless the input is a slice (its
    collapse would be a copy). False when `op` is not one."""
    if op.name != "linalg.transpose":
        return False
    perm = list(ir.DenseI64ArrayAttr(op.attributes["permutation"]))
    if not perm or perm[-1] != len(perm) - 1 or _static_shape(op.operands[0]) is None:
        return False
    x, init = op.operands[0], op.operands[1]
    kept = next(i for i in range(len(perm)) if perm[i:] == list(range(i, len(perm))))
    if len(perm) - kept < 2 or _is_slice(x):
        kept = len(perm) - 1
    rank = kept + 1
    perm = perm[:kept] + [kept]
    # out[d0..] = in[perm^-1]: input dim perm[i] is output dim i.
    inverse = [perm.index(d) for d in range(rank)]
    with ir.InsertionPoint(op), op.location:
        rows = [_static_shape(v) for v in (x, init)]
        x, init = (collapse_to(v, shape[:kept] + [math.prod(shape[kept:])])
                   for v, shape in zip((x, init), rows))
        moved = generic([x], [init], [dims_map(rank, inverse), identity_map(rank)],
                        ["parallel"] * rank, lambda v, _: v)
        moved = collapse_to(moved, rows[1])
    op.results[0].replace_all_uses_with(moved)
    op.erase()
    return True


def schedule_elementwise(op: ir.Value, config: ElementwiseConfig) -> None:
    if config.flat:
        op = structured.FlattenElementwiseLinalgOp(transform.AnyOpType.get(), op).transformed
    if config.parallel:
        op = structured.TileUsingForallOp(op, tile_sizes=list(config.parallel)).tiled_op
    tiled = structured.TileUsingForOp(op, sizes=list(config.tile))
    structured.VectorizeOp(tiled.tiled_linalg_op, vectorize_nd_extract=True)
