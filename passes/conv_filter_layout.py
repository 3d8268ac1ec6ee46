"""mlc-conv-filter-layout: a KxK conv's constant filter is stored HWCF, ready for an NHWC GEMM.

Input: the mlc dialect. `mlc-schedule` computes a 2-D conv with a kernel larger than 1x1 (or a
stride) as an NHWC GEMM: col[OH*OW, KH*KW*C] @ W[KH*KW*C, F]. Its right-hand side is the
filter with the kernel and channel dims first, which ONNX stores the other way round
([F, C, KH, KW]); transposing it on every call would cost a pass over all weights.

Output: for each such `mlc.conv` on one image, with group 1 and a constant float filter, the
filter operand is `mlc.transpose(W_hwcf) {perm = [3, 2, 0, 1]}` of a new constant W_hwcf
[KH, KW, C, F]: the same value, so every lowering stays correct, and the schedule finds the
HWCF constant behind the transpose and reads it as it is stored. When F is a multiple of the
target's register tile width nr, W_hwcf is itself a view of column panels
[F/nr, KH*KW*C, nr] (as `mlc-pack-matmul-weights` stores a matmul's B), which the panel
GEMM reads. 1x1 stride-1 convs are
GEMMs on NCHW already and keep their filters, and so do convs of fewer than MIN_CHANNELS
input channels.
"""

import numpy as np
from mlir import ir

from mlc.passes.fold_batch_norm import float_constant, location_name, module_text
from mlc.passes.weight_panels import panel_view, replace_operand
from mlc.target import Target, of_module
from mlc.weights import WeightStore

TO_FCHW = [3, 2, 0, 1]  # HWCF -> FCHW
# An im2col tap copies rows of C contiguous values; rows shorter than a vector (an RGB stem
# conv) copy slower than the NCHW path's rows of output pixels.
MIN_CHANNELS = 16


def _wants_hwcf(conv) -> bool:
    x_type = ir.RankedTensorType(conv.operands[0].type)
    w_type = ir.RankedTensorType(conv.operands[1].type)
    if w_type.rank != 4 or not x_type.has_static_shape or x_type.shape[0] != 1:
        return False
    if ir.IntegerAttr(conv.attributes["group"]).value != 1:
        return False
    if x_type.shape[1] < MIN_CHANNELS:
        return False
    strides = list(ir.DenseI64ArrayAttr(conv.attributes["strides"]))
    return list(w_type.shape[2:]) != [1, 1] or any(s != 1 for s in strides)


def relayout_conv_filters(module_op, store: WeightStore, target: Target) -> int:
    """Gives every conv that wants one an HWCF filter, stored as column panels of the target's
    register tile width when F allows; returns how many changed."""
    from mlc.passes.schedule.config import register_budget  # the schedule imports this module

    nr = register_budget(target).cols
    convs = []
    module_op.walk(lambda op: (convs.append(op) if op.name == "mlc.conv" else None,
                               ir.WalkResult.ADVANCE)[1])
    changed = 0
    for conv in convs:
        if not _wants_hwcf(conv):
            continue
        filt = float_constant(conv.operands[1], store)
        if filt is None:
            continue
        hwcf = np.ascontiguousarray(filt.transpose(2, 3, 1, 0))
        with ir.InsertionPoint(conv), conv.location:
            name = f"{location_name(conv.location)}_hwcf"
            if hwcf.shape[3] % nr == 0 and hwcf.dtype == np.float32:
                stored = panel_view(hwcf.reshape(-1, hwcf.shape[3]), nr, list(hwcf.shape), store,
                                    name, conv.location)
            else:
                stored = store.constant(hwcf, name, conv.location)
            fchw = ir.Operation.create(
                "mlc.transpose", results=[conv.operands[1].type], operands=[stored],
                attributes={"perm": ir.DenseI64ArrayAttr.get(TO_FCHW)}, loc=conv.location)
        replace_operand(conv, 1, fchw.result)
        changed += 1
    return changed


def run(module_op, pass_) -> None:
    # Outside the driver the weights are only in the module's resource section.
    relayout_conv_filters(module_op, WeightStore.from_mlir_text(module_text(module_op)),
                          of_module(module_op))
