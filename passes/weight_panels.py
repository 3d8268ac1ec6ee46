"""Constant matrices stored as column panels, for the panel GEMM (`mlc.passes.schedule.panel_gemm`).

B [K, N] is stored Bp[ceil(N/nr), K, nr] (Bp[j, k, r] = B[k, j*nr + r], zero past N) and used through the view
reshape(transpose(Bp, [1, 0, 2])): the same value, so every lowering stays correct, and the
schedule finds the panels behind the view (`matmul.packed_operand`). `mlc-pack-matmul-weights`
stores matmul weights so, `mlc-nhwc-layout` HWCF conv filters.
"""

import numpy as np
from mlir import ir

from mlc.weights import WeightStore

TO_ROWS = [1, 0, 2]  # [N/nr, K, nr] -> [K, N/nr, nr]


def panel_view(matrix: np.ndarray, nr: int, shape: list[int], store: WeightStore, name: str,
               loc: ir.Location) -> ir.Value:
    """`matrix` [K, N] stored as panels, viewed as `shape` (K x N elements, row-major) by mlc
    ops built at the current insertion point. When nr does not divide N, the last panel is
    padded with zero columns, and the view slices them off."""
    k, n = matrix.shape
    j = -(-n // nr)
    padded = np.zeros((k, j * nr), matrix.dtype)
    padded[:, :n] = matrix
    panels = np.ascontiguousarray(padded.reshape(k, j, nr).transpose(TO_ROWS))
    stored = store.constant(panels, f"{name}_panels", loc)
    f32 = ir.F32Type.get()
    rows = ir.Operation.create(
        "mlc.transpose", results=[ir.RankedTensorType.get([k, j, nr], f32)],
        operands=[stored], attributes={"perm": ir.DenseI64ArrayAttr.get(TO_ROWS)}, loc=loc).result
    if j * nr != n:
        wide = ir.Operation.create("mlc.reshape", results=[ir.RankedTensorType.get([k, j * nr], f32)],
                                   operands=[rows], loc=loc).result
        rows = ir.Operation.create(
            "mlc.slice", results=[ir.RankedTensorType.get([k, n], f32)], operands=[wide],
            attributes={"offsets": ir.DenseI64ArrayAttr.get([0, 0]),
                        "strides": ir.DenseI64ArrayAttr.get([1, 1])}, loc=loc).result
    return ir.Operation.create("mlc.reshape", results=[ir.RankedTensorType.get(shape, f32)],
                               operands=[rows], loc=loc).result


def worth_padding(n: int, nr: int) -> bool:
    """Whether N columns are worth panels of nr: the last panel's zero columns (computed and
    not stored) are at most a quarter of the work."""
    j = -(-n // nr)
    return 4 * (j * nr - n) <= j * nr


def replace_operand(op, index: int, value: ir.Value) -> None:
    """Makes `value` operand `index` of `op`; the old operand's producer goes when unused,
    and so do the producers of its single operand (the constant behind a view) in turn."""
    old = op.operands[index]
    op.operands[index] = value
    while not list(old.uses):
        owner = old.owner
        inputs = list(owner.operands)
        owner.erase()
        if len(inputs) != 1 or isinstance(inputs[0].owner, ir.Block):
            break
        old = inputs[0]
