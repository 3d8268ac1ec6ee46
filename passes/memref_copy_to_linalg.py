"""convert-memref-copy-to-linalg: `memref.copy` -> `linalg.copy`, so copies become loops.

Input: bufferized IR. Output: no memref.copy. Without this, a copy between strided views
(a padded tensor, a concat slice) lowers to a call to `memrefCopy` from MLIR's C runner
library, which the compiled .so does not link; as linalg.copy it lowers like any other loop.
"""

from mlir.dialects import linalg

from mlc.passes.pattern_utils import patterns_pass


def lower_copy(op):
    source, target = op.operands
    linalg.copy(source, outs=[target])
    return []


run = patterns_pass({"memref.copy": lower_copy})
