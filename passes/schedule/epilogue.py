"""GEMM epilogues: a conv's or matmul's only elementwise consumer applied to its output tile.

A GEMM C[M, N] = init + A @ B (a 1x1 or NCHW conv, a MatMul, a Gemm) is often read by exactly
one all-parallel `linalg.generic`: a ReLU, Clip, GELU, Sigmoid or SiLU of it, a residual add,
a bias. `find` recognises such a consumer when it reads the GEMM with the identity map, writes
the same shape, and reads every other input either whole (a residual: same shape), per row
(a conv's per-channel bias), per column (a Gemm's bias) or as a scalar; it returns an
`Epilogue` that says, in the GEMM's 2-D [M, N] terms, how to compute the consumer.

`matmul_pieces` then ends each tile-divisible matmul piece with the consumer restricted to
that piece, tagged as the kernel; the matmul schedule tiles that op by the register tile,
fuses the matmul piece into the tile loops, and the consumer's body runs on the accumulators
while they are still in registers: the GEMM's output is written once, already transformed.
"""

from dataclasses import dataclass

from mlir import ir
from mlir.dialects import tensor

from mlc.passes import linalg_builders as lb


@dataclass
class Epilogue:
    consumer: object  # the linalg.generic absorbed
    index: int  # which of its inputs is the GEMM
    extras: list  # [(value, kind)]: kind "full" ([M, N]), "row" ([M]), "col" ([N]), "scalar"
    dest: ir.Value  # the consumer's output as [M, N]
    groups: list  # consumer dims collapsed into M, then into N

    def maps(self) -> list:
        """The 2-D indexing maps of the epilogue op: GEMM tile, extras, output."""
        kinds = {"full": lb.identity_map(2), "row": lb.dims_map(2, [0]),
                 "col": lb.dims_map(2, [1]), "scalar": lb.dims_map(2, [])}
        return [lb.identity_map(2)] + [kinds[k] for _, k in self.extras] + [lb.identity_map(2)]

    def body(self, acc, *rest):
        """The consumer's body with its GEMM argument bound to `acc`."""
        block = self.consumer.regions[0].blocks[0]
        args, ops = block.arguments, list(block.operations)
        n_inputs = len(self.consumer.operands) - 1
        others = [i for i in range(n_inputs) if i != self.index] + [n_inputs]
        mapping = {args[self.index]: acc}
        mapping.update({args[i]: value for i, value in zip(others, rest)})
        mapping = lb.clone_ops(ops[:-1], mapping)
        return [mapping.get(r, r) for r in ops[-1].operands]

    def piece(self, offsets, sizes) -> tuple[list, list]:
        """(extras, maps) of the epilogue restricted to the rows/columns of one piece."""
        (r0, c0), (rn, cn) = offsets, sizes
        ins = []
        for value, kind in self.extras:
            if kind == "full":
                ins.append(_slice(value, [r0, c0], [rn, cn]))
            elif kind == "row":
                ins.append(_slice(value, [r0], [rn]))
            elif kind == "col":
                ins.append(_slice(value, [c0], [cn]))
            else:
                ins.append(value)
        return ins, self.maps()

    def expand(self, result2d: ir.Value) -> ir.Value:
        """The [M, N] result shaped like the consumer's output."""
        shape = lb.shape_of(self.consumer.results[0])
        if len(shape) == 2:
            return result2d
        return tensor.expand_shape(lb.ranked(self.consumer.results[0]), result2d,
                                   self.groups, [], shape)


def tile_init(c: ir.Value, groups) -> tuple | None:
    """How to rebuild the GEMM's initial accumulators `c` ([M, N]) per tile, so that no
    [M, N] tensor of them is written and read back: ("fill", scalar) for a linalg.fill,
    (kind, vector) for a bias broadcast along rows or columns; None for any other init."""
    op = lb.producer(c)
    if op is not None and op.name == "tensor.collapse_shape":
        op = lb.producer(op.operands[0])
    if op is None or len(op.results) != 1:
        return None
    if op.name == "linalg.fill":
        return "fill", op.operands[0]
    if op.name != "linalg.generic" or len(op.operands) != 2:
        return None
    body = list(op.regions[0].blocks[0].operations)
    if len(body) != 1 or body[0].operands[0] != op.regions[0].blocks[0].arguments[0]:
        return None
    maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(op.attributes["indexing_maps"])]
    shape = lb.shape_of(op.results[0])
    if maps[1] != lb.identity_map(len(shape)):
        return None
    if len(shape) == 2:
        groups = [[0], [1]]
    kind = _kind(op.operands[0], maps[0], shape, groups)
    return (kind, op.operands[0]) if kind in ("row", "col") else None


def build_init(init: tuple, offsets, sizes) -> ir.Value:
    """The initial accumulators of one [rows, cols] piece at `offsets` (see `tile_init`)."""
    kind, value = init
    if kind == "fill":
        return lb.filled(list(sizes), value.type, value)
    empty = lb.empty(list(sizes), lb.elem_of(value))
    vector = _slice(value, [offsets[0 if kind == "row" else 1]], [sizes[0 if kind == "row" else 1]])
    return lb.generic([vector], [empty], [lb.dims_map(2, [0 if kind == "row" else 1]),
                                          lb.identity_map(2)], ["parallel"] * 2, lambda v, _: v)


def _slice(value, offsets, sizes):
    if list(sizes) == lb.shape_of(value):
        return value
    out = lb.tensor_of(list(sizes), lb.elem_of(value))
    return tensor.extract_slice(out, value, [], [], [], list(offsets), list(sizes), [1] * len(sizes))


def _collapse(value: ir.Value, groups) -> ir.Value:
    shape = lb.shape_of(value)
    if len(shape) == 2:
        return value
    new = [1, 1]
    for g, dims in enumerate(groups):
        for d in dims:
            new[g] *= shape[d]
    return tensor.collapse_shape(lb.tensor_of(new, lb.elem_of(value)), value, groups)


def _dims(affine_map: ir.AffineMap) -> list[int] | None:
    dims = []
    for expr in affine_map.results:
        expr = expr.maybe_downcast()
        if not isinstance(expr, ir.AffineDimExpr):
            return None
        dims.append(expr.position)
    return dims


def _kind(value: ir.Value, affine_map: ir.AffineMap, shape: list[int], groups) -> str | None:
    """How the consumer reads `value`, in [M, N] terms; None when it is none of the kinds."""
    if affine_map == lb.identity_map(len(shape)):
        return "full"
    dims = _dims(affine_map)
    if dims is None:
        return None
    if not dims and not lb.shape_of(value):
        return "scalar"
    for kind, group in zip(("row", "col"), groups):
        wide = [d for d in group if shape[d] != 1]
        if len(wide) == 1 and dims == wide and len(lb.shape_of(value)) == 1:
            return kind
    return None


def consumer_of(value: ir.Value):
    """(user, operand number) when `value` has exactly one use; else None."""
    uses = list(value.uses)
    if len(uses) != 1:
        return None
    user = uses[0].owner
    return (user.operation if hasattr(user, "operation") else user), uses[0].operand_number


def find(value: ir.Value, groups) -> tuple | None:
    """(consumer, operand index) when the only user of `value` (a GEMM result, shaped with
    its dims collapsing into [M, N] by `groups`) can be its epilogue; None otherwise."""
    found = consumer_of(value)
    if found is None:
        return None
    user, index = found
    if user.name != "linalg.generic" or len(user.results) != 1:
        return None
    if any("parallel" not in str(it) for it in ir.ArrayAttr(user.attributes["iterator_types"])):
        return None
    n_inputs = len(user.operands) - 1
    maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(user.attributes["indexing_maps"])]
    shape = lb.shape_of(value)
    identity = lb.identity_map(len(shape))
    if index >= n_inputs or maps[index] != identity or maps[-1] != identity:
        return None
    if not isinstance(lb.elem_of(user.results[0]), ir.F32Type):
        return None
    if any(o.name == "linalg.index" for o in user.regions[0].blocks[0].operations):
        return None
    for i in range(n_inputs):
        if i != index and _kind(user.operands[i], maps[i], shape, groups) is None:
            return None
    return user, index


def build(value: ir.Value, groups) -> Epilogue | None:
    """The Epilogue of `value`'s consumer (see `find`), its operands built as [M, N] views
    at the current insertion point (which must be at the consumer: its other operands may
    be defined after the GEMM)."""
    found = find(value, groups)
    if found is None:
        return None
    user, index = found
    n_inputs = len(user.operands) - 1
    maps = [ir.AffineMapAttr(m).value for m in ir.ArrayAttr(user.attributes["indexing_maps"])]
    shape = lb.shape_of(value)
    extras = []
    for i in range(n_inputs):
        if i != index:
            kind = _kind(user.operands[i], maps[i], shape, groups)
            operand = user.operands[i]
            extras.append((_collapse(operand, groups) if kind == "full" else operand, kind))
    dest = _collapse(user.operands[n_inputs], groups)
    return Epilogue(user, index, extras, dest, [list(g) for g in groups])
