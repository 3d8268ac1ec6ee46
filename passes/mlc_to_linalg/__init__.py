"""convert-mlc-to-linalg: every mlc op becomes linalg (and tensor/arith/math) on tensors.

Input: a module whose functions use mlc ops on tensors; dynamic dims are sized at run time
(`tensor.dim`, or the run-time shapes of the `shape` patterns).
Output: the same functions with linalg named ops and linalg.generic on tensors; weights are
`arith.constant` ops that keep their dense / dense_resource attributes. No mlc op remains.
The patterns are split by op category, one module each.
"""

from mlc.passes.pattern_utils import patterns_pass

from . import (elementwise, indexing, matmul, nn, normalization, reduction, resize, selection,
               shape, tensor)

PATTERNS = {**elementwise.PATTERNS, **indexing.PATTERNS, **matmul.PATTERNS, **nn.PATTERNS,
            **normalization.PATTERNS, **reduction.PATTERNS, **resize.PATTERNS, **selection.PATTERNS,
            **shape.PATTERNS, **tensor.PATTERNS}

run = patterns_pass(PATTERNS, legal_prefix="mlc.")
