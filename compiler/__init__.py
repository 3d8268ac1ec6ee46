"""mlc: an MLIR-based, multi-level ahead-of-time compiler for ONNX models.

The package maps the repository's folders onto one namespace: `compiler/` is `mlc` (driver,
importer, runtime), `dialects/` is `mlc.dialects`, `passes/` is `mlc.passes`, `tools/` is
`mlc.tools`. `mlc.runtime` needs only numpy; nothing here imports MLIR at package import time.
"""

__version__ = "0.1.0"
