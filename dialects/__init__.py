"""The `mlc` dialect: ONNX-level tensor ops, declared once in IRDL and loaded at run time.

Each op category (math, nn, tensor) declares its ops as data in its own module; `irdl.py` turns
that table into one IRDL module, `mlc.irdl.mlir` (checked in, so that `mlir-opt --irdl-file=`
reads the very same definition), and `load_mlc_dialect` registers it in an MLIR context.
The importer normalizes ONNX's many opset variants into these ops: every attribute is
explicit, and auto_pad, negative axes and opset-dependent semantics are already resolved.
"""

from .irdl import ALL_OPS, irdl_text, load_mlc_dialect, irdl_path

__all__ = ["ALL_OPS", "irdl_text", "load_mlc_dialect", "irdl_path"]
