"""Constant matrices stored as column panels, for the panel GEMM (`mlc.passes.schedule.panel_gemm`).

B [K, N] is stored Bp[N/nr, K, nr] (Bp[j, k, r] = B[k, j*nr + r]) and used through the view
reshape(transpose(Bp, [1, 0, 2])): the same value, so every lowering stays correct, and the
schedule finds the panels behind the view (`matmul.packed_operand`). `mlc-pack-matmul-weights`
stores matmul weights so, `mlc-conv-filter-layout` HWCF conv filters.
"""

import numpy as np
from mlir import ir

from mlc.weights import WeightStore

TO_ROWS = [1, 0, 2]  # [N/nr, K, nr] -> [K, N/nr, nr]


def panel_view(matrix: np.ndarray, nr: int, shape: list[int], store: WeightStore, name: str,
               loc: ir.Location) -> ir.Value:
    """`matrix` [K, N] (N a multiple of nr) stored as panels, viewed as `shape` (K x N
    elements, row-major) by mlc ops built at the current insertion point."""
    k, n = matrix.shape
    panels = np.ascontiguousarray(matrix.reshape(k, n // nr, nr).transpose(TO_ROWS))
    stored = store.constant(panels, f"{name}_panels", loc)
    rows = ir.Operation.create(
        "mlc.transpose", results=[ir.RankedTensorType.get([k, n // nr, nr], ir.F32Type.get())],
        operands=[stored], attributes={"perm": ir.DenseI64ArrayAttr.get(TO_ROWS)}, loc=loc)
    return ir.Operation.create("mlc.reshape", results=[ir.RankedTensorType.get(shape, ir.F32Type.get())],
                               operands=[rows.result], loc=loc).result


def replace_operand(op, index: int, value: ir.Value) -> None:
    """Makes `value` operand `index` of `op`; the old operand's producer goes when unused."""
    old = op.operands[index]
    op.operands[index] = value
    if not list(old.uses):
        old.owner.erase()
