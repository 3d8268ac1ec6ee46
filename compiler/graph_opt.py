"""Graph-level optimization of the imported mlc module, with the weights' bytes at hand.

Runs in the driver right after import (and on a `.mlir` input at the mlc stage), before the
linalg stage: BatchNorms and per-channel scales and shifts folded into conv weights
(`mlc-fold-batch-norm`), then duplicate and
dead mlc ops removed (`mlc-cse`), then convs moved to NHWC images, their filters stored HWCF as
column panels, with the layout spread through their neighbours (`mlc-nhwc-layout`), then
matmul weights stored as column panels (`mlc-pack-matmul-weights`).
They are passes too, for `mlc opt`; there they read the weights back from the module's
resource section, which here the `WeightStore` already holds. What each step did
is kept on the module as `mlc.graph` for `mlc compile --report`.
"""

from mlir import ir

from mlc.passes import fold_batch_norm, mlc_cse, nhwc_layout, pack_matmul_weights
from mlc.target import of_module
from mlc.weights import WeightStore


def optimize(module: ir.Module, store: WeightStore) -> None:
    with module.context, ir.Location.unknown():
        records = fold_batch_norm.fold_batch_norms(module.operation, store)
        records.update(fold_batch_norm.fold_scale_shifts(module.operation, store))
        records.update(mlc_cse.eliminate(module.operation))
        target = of_module(module.operation)
        convs, left = nhwc_layout.to_nhwc(module.operation, store, target)
        records["mlc-nhwc-layout"] = f"{convs} conv(s) on NHWC images, {left} layout transpose(s) left"
        packed = pack_matmul_weights.pack_matmul_weights(module.operation, store, target)
        records["mlc-pack-matmul-weights"] = f"{packed} matmul weight(s) stored as column panels"
        fold_batch_norm.record(module.operation, records)
