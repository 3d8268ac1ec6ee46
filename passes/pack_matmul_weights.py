"""mlc-pack-matmul-weights: a matmul's constant right-hand side is stored as column panels.

Input: the mlc dialect. The matmul kernel (`mlc.passes.schedule.matmul`) keeps an mr x nr tile
of C in registers and, at each step of k, reads nr consecutive values of a row of B. Stored
[K, N], those rows lie N*4 bytes apart: a panel of B that should sit in L1 spreads over one
page per row (a TLB miss each) and over a few cache sets. Stored as panels
Bp[N/nr, K, nr] (Bp[j, k, r] = B[k, j*nr + r]) each register tile reads one contiguous
stream, the layout BLAS libraries copy B into on every call; for a constant B it is free.

Output: for each `mlc.matmul` of at least `rows` rows (batch dims of A counted), or of fewer
with a B of MIN_MATMUL_BYTES or more (a matrix-vector product, bound by reading B: a panel is
one contiguous stream, where rows of B would be read in strided pieces), whose B is a 2-D
float32 constant (or a reshape or transpose of one: Gemm's transB) with N worth panels of nr
(`worth_padding`: the last panel padded with zero columns), B becomes
`mlc.reshape(mlc.transpose(Bp) {perm = [1, 0, 2]})` (sliced back to N when padded): the same
value, so every lowering stays correct, and the schedule finds the panels behind it
(`packed_operand`). nr and rows are the target's register tile (`register_budget`).
"""

import math

import numpy as np
from mlir import ir

from mlc.passes.fold_batch_norm import location_name, module_text, viewed_constant
from mlc.passes.schedule.config import register_budget
from mlc.passes.schedule.parallel import MIN_MATMUL_BYTES
from mlc.passes.weight_panels import panel_view, replace_operand, worth_padding
from mlc.target import Target, of_module
from mlc.weights import WeightStore

def _shape(value: ir.Value) -> list[int] | None:
    t = ir.RankedTensorType(value.type)
    return list(t.shape) if t.has_static_shape else None


def _wants_panels(matmul, nr: int, rows: int) -> bool:
    """Enough rows of A to fill the register tile, or (a matrix-vector product, bound by
    reading B) a B worth streaming panel by panel rather than in strided pieces of rows;
    and N worth panels of nr (`worth_padding`)."""
    a, b = (_shape(v) for v in matmul.operands)
    if a is None or b is None or len(a) < 2 or len(b) != 2:
        return False
    many_rows = math.prod(a[:-1]) >= rows or 4 * b[0] * b[1] >= MIN_MATMUL_BYTES
    return many_rows and b[1] > nr and worth_padding(b[1], nr)


def pack_matmul_weights(module_op, store: WeightStore, target: Target) -> int:
    """Stores the B of every matmul that wants it as panels; returns how many changed."""
    budget = register_budget(target)
    nr = budget.cols
    matmuls = []
    module_op.walk(lambda op: (matmuls.append(op) if op.name == "mlc.matmul" else None,
                               ir.WalkResult.ADVANCE)[1])
    changed = 0
    for matmul in matmuls:
        if not _wants_panels(matmul, nr, budget.rows):
            continue
        b = viewed_constant(matmul.operands[1], store)
        if b is None or b.dtype != np.float32:
            continue
        with ir.InsertionPoint(matmul), matmul.location:
            view = panel_view(b, nr, list(b.shape), store, location_name(matmul.location),
                              matmul.location)
        replace_operand(matmul, 1, view)
        changed += 1
    return changed


def run(module_op, pass_) -> None:
    # Outside the driver the weights are only in the module's resource section.
    pack_matmul_weights(module_op, WeightStore.from_mlir_text(module_text(module_op)),
                        of_module(module_op))
