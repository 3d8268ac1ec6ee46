"""mlc's own passes, by name, and the pipeline builder that mixes them with upstream passes.

`PASSES` is the registry (one sorted literal). A pipeline is a list of pass names: names found
here run as Python passes; anything else is handed to MLIR's textual pipeline parser, so
`convert-mlc-to-linalg,canonicalize,func.func(convert-linalg-to-affine-loops)` just works.
"""

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class PassInfo:
    name: str
    summary: str
    run: Callable  # run(op, pass_) on the module


def _registry() -> dict[str, PassInfo]:
    from . import (entry_abi, externalize_weights, fold_batch_norm, i1_tensors_to_i8,
                   math_approximation, memory_plan, memref_copy_to_linalg, mlc_cse, mlc_to_linalg,
                   nhwc_layout, pack_matmul_weights,
                   schedule, vectorize_copies)

    return {p.name: p for p in [
        PassInfo("convert-i1-tensors-to-i8", "bool tensors -> byte tensors (0 or 1), i1 scalars kept",
                 i1_tensors_to_i8.run),
        PassInfo("convert-mlc-to-linalg", "mlc ops -> linalg on tensors", mlc_to_linalg.run),
        PassInfo("convert-memref-copy-to-linalg", "memref.copy -> linalg.copy (no runtime library)",
                 memref_copy_to_linalg.run),
        PassInfo("mlc-cse", "common-subexpression and dead-code elimination of mlc ops",
                 mlc_cse.run),
        PassInfo("mlc-entry-abi", "@main -> destination-passing memref signature for the C ABI",
                 entry_abi.run),
        PassInfo("mlc-externalize-weights", "large constant globals -> external symbols",
                 externalize_weights.run),
        PassInfo("mlc-fold-batch-norm", "conv + constant BatchNorm -> one conv (new weights)",
                 fold_batch_norm.run),
        PassInfo("mlc-math-approximation", "f32 vector exp and erf -> polynomials (no libm calls)",
                 math_approximation.run),
        PassInfo("mlc-nhwc-layout", "convs -> NHWC, transposes sunk to the layout's edges",
                 nhwc_layout.run),
        PassInfo("mlc-pack-matmul-weights", "constant matmul B -> column panels behind a transpose",
                 pack_matmul_weights.run),
        PassInfo("mlc-plan-memory", "@main's intermediate buffers -> views into one arena argument",
                 memory_plan.run),
        PassInfo("mlc-schedule", "matmul, conv, elementwise linalg -> tiled, vectorized loops",
                 schedule.run),
        PassInfo("mlc-vectorize-copies", "memref copies and fills -> loops of whole-row vector moves",
                 vectorize_copies.run),
    ]}


PASSES: dict[str, PassInfo] = _registry()
