"""Conversions to and from the element types narrower than mlc computes in.

float8 (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ, E8M0), float4 E2M1, int4/uint4 and int2/uint2 travel as
one byte per value (i8), the bit pattern in the low bits, as ml_dtypes (and so numpy and onnx)
stores them. No arithmetic runs on them: Cast, CastLike, QuantizeLinear and DequantizeLinear
convert through here, ops that only move values pass the bytes along, and `check_node` refuses
every other op on them. The conversions are onnx's reference (ml_dtypes):

    decode             byte -> its value (f32, or i32 for the integers): a 256-entry table
    float -> float8/4  round to nearest, ties to even; saturate first clamps |x| to the
                       largest finite value; otherwise an overflow is inf (E5M2) or NaN
    float -> E8M0      the f32 exponent field, rounded by Cast's round_mode (up, down, nearest)
                       from the mantissa bits; NaN and inf become 0xFF (NaN)
    float -> int4/2    truncate toward zero; a value out of range (or NaN) becomes 0
    int -> int4/2      the low bits (wraps)

Rounding works on |x| = q * 2^(e - M) with e = max(exponent(|x|), 1 - bias): q = round(|x| *
2^(M - e)) is the mantissa with its implicit bit (below 2^M for a subnormal), so the code is
((e + bias) << M) + q - 2^M; a q that rounds up to 2^(M+1) carries into the exponent by itself.
"""

from dataclasses import dataclass

import numpy as np
from mlir import ir

from mlc import dtypes
from mlc.dtypes import DType

from .node import NodeImport, element_type

F32, I32 = dtypes.BY_NAME["float32"], dtypes.BY_NAME["int32"]


@dataclass(frozen=True)
class FloatFormat:
    mantissa: int
    bias: int
    max_code: int  # the largest finite value's code (positive)
    nan_code: int
    overflow_code: int  # without saturation; max_code where the type has no inf or NaN
    sign_bit: int
    fnuz: bool = False  # one zero (no -0), one NaN (0x80, the -0 pattern)


FLOATS = {
    "float8e4m3fn": FloatFormat(3, 7, 0x7E, 0x7F, 0x7F, 7),
    "float8e4m3fnuz": FloatFormat(3, 8, 0x7F, 0x80, 0x80, 7, fnuz=True),
    "float8e5m2": FloatFormat(2, 15, 0x7B, 0x7E, 0x7C, 7),
    "float8e5m2fnuz": FloatFormat(2, 16, 0x7F, 0x80, 0x80, 7, fnuz=True),
    "float4e2m1": FloatFormat(1, 1, 0x7, 0x0, 0x7, 3),
}
E8M0 = "float8e8m0"  # exponent-only: its own encoder, no FloatFormat
INTS = {"int4": (4, True), "uint4": (4, False), "int2": (2, True), "uint2": (2, False)}

# Ops that move or select values without computing on them.
PASS_THROUGH = {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat",
                "Split", "Slice", "Gather", "Expand", "Tile", "Constant", "Shape", "Size",
                "Cast", "CastLike", "QuantizeLinear", "DequantizeLinear", "Optional",
                "OptionalGetElement"}


def is_narrow(dtype: DType | None) -> bool:
    return dtype is not None and (dtype.name in FLOATS or dtype.name in INTS or dtype.name == E8M0)


def check_node(n: NodeImport, type_protos) -> None:
    """Refuses an op that would compute on narrow values as if they were bytes (`type_protos`:
    the ONNX types of its inputs and outputs, None where unknown)."""
    if n.op_type in PASS_THROUGH:
        return
    found = (dtypes.from_onnx(t.tensor_type.elem_type) for t in type_protos
             if t is not None and t.HasField("tensor_type"))
    narrow = next((d for d in found if is_narrow(d)), None)
    if narrow is not None:
        raise n.unsupported(f"{n.op_type} on {narrow.name} values is not supported (mlc only "
                            "converts them, at Cast, CastLike, QuantizeLinear and "
                            "DequantizeLinear, and moves them)")


class _Builder:
    """Elementwise mlc ops over one shape, with scalar constants broadcast."""

    def __init__(self, n: NodeImport, shape):
        self.n, self.shape = n, list(shape)

    def const(self, value, dtype: DType) -> ir.Value:
        return self.n.constant(np.array(value, dtype.numpy))

    def op(self, name: str, operands, dtype: DType, **attrs) -> ir.Value:
        return self.n.op(name, operands, ir.RankedTensorType.get(self.shape, element_type(dtype)),
                         **attrs)

    def int_op(self, name: str, lhs: ir.Value, rhs: int, **attrs) -> ir.Value:
        return self.op(name, [lhs, self.const(rhs, I32)], I32, **attrs)

    def compare(self, predicate: str, lhs: ir.Value, rhs: ir.Value) -> ir.Value:
        return self.op("compare", [lhs, rhs], dtypes.BY_NAME["bool"], predicate=predicate,
                       unsigned=0)

    def where(self, condition, lhs, rhs, dtype: DType) -> ir.Value:
        return self.op("where", [condition, lhs, rhs], dtype)


def int_range(dtype: DType) -> tuple[int, int]:
    """The smallest and largest value of an integer type, narrow or not."""
    if dtype.name in INTS:
        bits, signed = INTS[dtype.name]
        return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    info = np.iinfo(dtype.numpy)
    return int(info.min), int(info.max)


def _table(dtype: DType) -> np.ndarray:
    """Each byte's value: f32 for the float formats, i32 for the integers."""
    codes = np.arange(256, dtype=np.uint32)
    if dtype.name in INTS:
        bits, signed = INTS[dtype.name]
        low = (codes & ((1 << bits) - 1)).astype(np.int32)
        return low - (low >> (bits - 1) << bits) if signed else low
    with np.errstate(all="ignore"):
        return codes.astype(np.uint8).view(dtype.numpy).astype(np.float32)


def decode(n: NodeImport, value: ir.Value, src: DType) -> tuple[ir.Value, DType]:
    """The values of narrow `value` as f32 (float formats) or i32 (integers)."""
    b = _Builder(n, ir.RankedTensorType(value.type).shape)
    index = b.op("cast_unsigned", [value], I32)
    table = _table(src)
    dtype = F32 if table.dtype == np.float32 else I32
    return b.op("gather", [n.constant(table), index], dtype, axis=0), dtype


def encode(n: NodeImport, value: ir.Value, src: DType, dst: DType, saturate: bool,
           convert) -> ir.Value:
    """`value` (of ONNX type `src`, wide) as bytes of narrow `dst`; `convert` is
    math_ops.convert, for the widening of the source to f32 or i32."""
    b = _Builder(n, ir.RankedTensorType(value.type).shape)
    if dst.name in INTS:
        code = _encode_int(b, value, src, dst, convert)
    elif dst.name == E8M0:
        code = _encode_e8m0(b, convert(n, value, src, F32), saturate, n.attr("round_mode", "up"))
    else:
        code = _encode_float(b, convert(n, value, src, F32), FLOATS[dst.name],
                             saturate or dst.name == "float4e2m1")
    return b.op("cast", [code], dst)


def _encode_int(b: _Builder, value: ir.Value, src: DType, dst: DType, convert) -> ir.Value:
    mask = (1 << INTS[dst.name][0]) - 1
    if not src.is_float:
        return b.int_op("and", convert(b.n, value, src, I32), mask)
    x = convert(b.n, value, src, F32)
    zero = b.const(0.0, F32)
    truncated = b.where(b.compare("lt", x, zero), b.op("ceil", [x], F32), b.op("floor", [x], F32),
                        F32)
    low, high = int_range(dst)
    in_range = b.op("and", [b.compare("ge", truncated, b.const(float(low), F32)),
                            b.compare("le", truncated, b.const(float(high), F32))],
                    dtypes.BY_NAME["bool"])
    whole = b.where(in_range, truncated, zero, F32)
    return b.int_op("and", b.op("cast", [whole], I32), mask)


def _encode_float(b: _Builder, x: ir.Value, f: FloatFormat, saturate: bool) -> ir.Value:
    m = f.mantissa
    magnitude = b.op("abs", [x], F32)
    if saturate:
        largest = b.const(float(_table_value(f, f.max_code)), F32)
        magnitude = b.where(b.compare("gt", magnitude, largest), largest, magnitude, F32)
    bits = b.op("bitcast", [magnitude], I32)
    exponent = b.int_op("sub", b.int_op("bit_shift", bits, 23, left=0, unsigned=1), 127)
    exponent = b.int_op("max", exponent, 1 - f.bias)
    # 2^(M - e) as f32 bits: the exponent field alone.
    scale = b.op("bitcast", [b.int_op("bit_shift", b.op("sub", [b.const(m + 127, I32), exponent],
                                                          I32), 23, left=1, unsigned=1)], F32)
    q = b.op("cast", [b.op("round", [b.op("mul", [magnitude, scale], F32)], F32)], I32)
    code = b.int_op("sub", b.op("add", [b.int_op("bit_shift", b.int_op("add", exponent, f.bias),
                                                 m, left=1, unsigned=1), q], I32), 1 << m)
    # An infinite |x| has exponent 128 and a meaningless q.
    overflow = b.op("or", [b.compare("gt", code, b.const(f.max_code, I32)),
                           b.op("is_inf", [magnitude], dtypes.BY_NAME["bool"], detect_negative=0,
                                detect_positive=1)], dtypes.BY_NAME["bool"])
    code = b.where(overflow, b.const(f.max_code if saturate else f.overflow_code, I32), code, I32)
    negative = b.compare("lt", b.op("bitcast", [x], I32), b.const(0, I32))
    signed = b.int_op("or", code, 1 << f.sign_bit)
    if f.fnuz:  # no -0, and the NaN pattern carries no sign
        bool_ = dtypes.BY_NAME["bool"]
        finite_nonzero = b.op("and", [b.compare("gt", code, b.const(0, I32)),
                                      b.compare("lt", code, b.const(0x80, I32))], bool_)
        negative = b.op("and", [negative, finite_nonzero], bool_)
    code = b.where(negative, signed, code, I32)
    nan = b.op("is_nan", [x], dtypes.BY_NAME["bool"])
    return b.where(nan, b.const(f.nan_code, I32), code, I32)


def _encode_e8m0(b: _Builder, x: ir.Value, saturate: bool, round_mode: str) -> ir.Value:
    """onnx's to_float8e8m0: the f32 exponent, plus one when the mantissa rounds it up (except
    past 0xFE with saturate); NaN and inf (exponent 0xFF) stay 0xFF."""
    bool_ = dtypes.BY_NAME["bool"]
    bits = b.op("bitcast", [x], I32)
    exponent = b.int_op("and", b.int_op("bit_shift", bits, 23, left=0, unsigned=1), 0xFF)

    def has(mask: int) -> ir.Value:
        return b.compare("gt", b.int_op("and", bits, mask), b.const(0, I32))  # mask < 2^31

    def either(p, q):
        return b.op("or", [p, q], bool_)

    if round_mode == "nearest":  # guard bit, and round or sticky bits or an odd result
        up = b.op("and", [has(0x400000), either(either(has(0x200000), has(0x1FFFFF)),
                                                b.compare("gt", exponent, b.const(0, I32)))], bool_)
    elif round_mode == "up":
        up = has(0x7FFFFF)
    elif round_mode == "down":
        return exponent
    else:
        raise b.n.unsupported(f"round_mode '{round_mode}' is not one of up, down, nearest")
    special = b.compare("eq", exponent, b.const(0xFF, I32))
    up = b.op("and", [up, b.op("not", [special], bool_)], bool_)
    if saturate:
        up = b.op("and", [up, b.compare("lt", exponent, b.const(0xFE, I32))], bool_)
    return b.where(up, b.int_op("add", exponent, 1), exponent, I32)


def _table_value(f: FloatFormat, code: int) -> float:
    name = next(name for name, fmt in FLOATS.items() if fmt == f)
    return float(_table(dtypes.BY_NAME[name])[code])
