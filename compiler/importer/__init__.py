"""ONNX importer: a `.onnx` file becomes a module in the `mlc` dialect.

Contract: the model is checked (onnx.checker) and shape-inferred first; every op carries a
location naming its ONNX node; initializers become `mlc.constant` ops whose large values are
`dense_resource` blobs (binary, never printed as text), kept in the returned `WeightStore`.
ONNX's opset variants are normalized here, so the mlc dialect has one form per op.
"""

from .graph import import_model, import_onnx_file

__all__ = ["import_model", "import_onnx_file"]
