"""Element types in their three spellings: ONNX TensorProto code, numpy dtype, MLIR type.

The ONNX code is also the dtype code of the compiled model's C ABI (mlc_runtime.h), so this
module stays free of MLIR and onnx imports: `mlc.runtime` uses it with numpy alone.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DType:
    onnx: int
    name: str
    numpy: np.dtype
    mlir: str  # element type as MLIR spells it (signless integers)
    c_type: str

    @property
    def is_float(self) -> bool:
        return self.mlir in ("f16", "bf16", "f32", "f64")

    @property
    def is_unsigned(self) -> bool:
        return self.name.startswith("uint") or self.name == "bool"


def _ml_dtype(name: str, size: int) -> np.dtype:
    """An ml_dtypes type (bfloat16, float8, int4...): numpy has none of them."""
    try:
        import ml_dtypes

        return np.dtype(getattr(ml_dtypes, name))
    except ImportError:  # only models with such types need ml_dtypes (onnx brings it)
        return np.dtype(f"V{size}")


DTYPES = [
    DType(1, "float32", np.dtype(np.float32), "f32", "float"),
    DType(2, "uint8", np.dtype(np.uint8), "i8", "uint8_t"),
    DType(3, "int8", np.dtype(np.int8), "i8", "int8_t"),
    DType(4, "uint16", np.dtype(np.uint16), "i16", "uint16_t"),
    DType(5, "int16", np.dtype(np.int16), "i16", "int16_t"),
    DType(6, "int32", np.dtype(np.int32), "i32", "int32_t"),
    DType(7, "int64", np.dtype(np.int64), "i64", "int64_t"),
    DType(9, "bool", np.dtype(np.bool_), "i1", "uint8_t"),
    DType(10, "float16", np.dtype(np.float16), "f16", "uint16_t"),
    DType(11, "float64", np.dtype(np.float64), "f64", "double"),
    DType(12, "uint32", np.dtype(np.uint32), "i32", "uint32_t"),
    DType(13, "uint64", np.dtype(np.uint64), "i64", "uint64_t"),
    DType(16, "bfloat16", _ml_dtype("bfloat16", 2), "bf16", "uint16_t"),
    # Narrower than a byte's arithmetic: one value per byte, converted only at casts and
    # (de)quantization (compiler/importer/narrow_types.py).
    DType(17, "float8e4m3fn", _ml_dtype("float8_e4m3fn", 1), "i8", "uint8_t"),
    DType(18, "float8e4m3fnuz", _ml_dtype("float8_e4m3fnuz", 1), "i8", "uint8_t"),
    DType(19, "float8e5m2", _ml_dtype("float8_e5m2", 1), "i8", "uint8_t"),
    DType(20, "float8e5m2fnuz", _ml_dtype("float8_e5m2fnuz", 1), "i8", "uint8_t"),
    DType(21, "uint4", _ml_dtype("uint4", 1), "i8", "uint8_t"),
    DType(22, "int4", _ml_dtype("int4", 1), "i8", "uint8_t"),
    DType(23, "float4e2m1", _ml_dtype("float4_e2m1fn", 1), "i8", "uint8_t"),
    DType(24, "float8e8m0", _ml_dtype("float8_e8m0fnu", 1), "i8", "uint8_t"),
    DType(25, "uint2", _ml_dtype("uint2", 1), "i8", "uint8_t"),
    DType(26, "int2", _ml_dtype("int2", 1), "i8", "uint8_t"),
]

BY_ONNX = {d.onnx: d for d in DTYPES}
BY_NAME = {d.name: d for d in DTYPES}
BY_NUMPY = {d.numpy: d for d in DTYPES}


def from_onnx(code: int) -> DType | None:
    return BY_ONNX.get(code)


def from_numpy(dtype) -> DType | None:
    return BY_NUMPY.get(np.dtype(dtype))
