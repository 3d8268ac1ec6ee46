"""float8, float4, int4 and int2 values: Cast to and from them over every interesting input,
QuantizeLinear / DequantizeLinear with them, against onnx's reference implementation (which
converts with ml_dtypes), and the refusal of arithmetic on them."""

import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from conftest import make_model

from mlc.errors import UnsupportedError

FLOAT8 = {TensorProto.FLOAT8E4M3FN: ml_dtypes.float8_e4m3fn,
          TensorProto.FLOAT8E4M3FNUZ: ml_dtypes.float8_e4m3fnuz,
          TensorProto.FLOAT8E5M2: ml_dtypes.float8_e5m2,
          TensorProto.FLOAT8E5M2FNUZ: ml_dtypes.float8_e5m2fnuz,
          TensorProto.FLOAT4E2M1: ml_dtypes.float4_e2m1fn}
INTS = {TensorProto.INT4: ml_dtypes.int4, TensorProto.UINT4: ml_dtypes.uint4,
        TensorProto.INT2: ml_dtypes.int2, TensorProto.UINT2: ml_dtypes.uint2}
INT_BITS = {TensorProto.INT4: 4, TensorProto.UINT4: 4, TensorProto.INT2: 2, TensorProto.UINT2: 2}


def _all_float16_values() -> np.ndarray:
    """Every float16 (infinities, NaN, subnormals and all), as float32, plus values float16
    cannot hold (beyond its range, below its subnormals)."""
    every = np.arange(1 << 16, dtype=np.uint16).view(np.float16).astype(np.float32)
    extra = np.array([1e6, -1e6, 3e38, 1e-7, -1e-7, 1e-30, 57344.0, 61440.0, 65536.0, 464.0,
                      465.0, 480.0, 240.0, 248.0], np.float32)
    return np.concatenate([every, extra])


def _cast_model(src: int, dst: int, shape, **attrs):
    node = helper.make_node("Cast", ["x"], ["y"], to=dst, **attrs)
    return make_model([node], [helper.make_tensor_value_info("x", src, list(shape))],
                      [helper.make_tensor_value_info("y", dst, list(shape))], opset=25,
                      ir_version=12)


def _reference(model, feeds):
    return ReferenceEvaluator(model).run(None, feeds)


def _assert_same_values(got: np.ndarray, expected: np.ndarray):
    """Equal as numbers (NaN equals NaN; the sign of a zero is not compared)."""
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got.astype(np.float32), expected.astype(np.float32))


@pytest.mark.parametrize("saturate", [1, 0])
@pytest.mark.parametrize("dst", list(FLOAT8), ids=TensorProto.DataType.Name)
def test_cast_float_to_float8(compile_and_run, dst, saturate):
    x = _all_float16_values()
    model = _cast_model(TensorProto.FLOAT, dst, x.shape, saturate=saturate)
    (got,) = compile_and_run(model, {"x": x})
    (expected,) = _reference(model, {"x": x})
    _assert_same_values(got, expected)


@pytest.mark.parametrize("src", list(FLOAT8) + list(INTS), ids=TensorProto.DataType.Name)
def test_cast_every_byte_to_float(compile_and_run, src):
    x = np.arange(256, dtype=np.uint8)
    if src in INTS:  # the values of these types use the low bits only
        x = x & ((1 << INT_BITS[src]) - 1)
    x = x.view((FLOAT8 | INTS)[src])
    model = _cast_model(src, TensorProto.FLOAT, x.shape)
    (got,) = compile_and_run(model, {"x": x})
    (expected,) = _reference(model, {"x": x})
    _assert_same_values(got, expected)


@pytest.mark.parametrize("dst", list(INTS), ids=TensorProto.DataType.Name)
def test_cast_float_to_narrow_int(compile_and_run, dst):
    """Truncation toward zero; out of range (and NaN, inf) gives 0, as ml_dtypes does."""
    x = np.concatenate([np.arange(-10, 10.25, 0.25, dtype=np.float32),
                        np.array([np.nan, np.inf, -np.inf, 1e9], np.float32)])
    model = _cast_model(TensorProto.FLOAT, dst, x.shape)
    (got,) = compile_and_run(model, {"x": x})
    (expected,) = _reference(model, {"x": x})
    _assert_same_values(got, expected)


@pytest.mark.parametrize("dst", list(INTS), ids=TensorProto.DataType.Name)
def test_cast_int_to_narrow_int_wraps(compile_and_run, dst):
    x = np.arange(-300, 300, 7, dtype=np.int32)
    model = _cast_model(TensorProto.INT32, dst, x.shape)
    (got,) = compile_and_run(model, {"x": x})
    (expected,) = _reference(model, {"x": x})
    _assert_same_values(got, expected)


@pytest.mark.parametrize("out_type", [TensorProto.INT4, TensorProto.UINT4,
                                      TensorProto.FLOAT8E4M3FN, TensorProto.FLOAT8E5M2],
                         ids=TensorProto.DataType.Name)
def test_quantize_then_dequantize(compile_and_run, out_type):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((4, 6)) * 4).astype(np.float32)
    scale = np.array([0.5, 0.25, 1.0, 2.0], np.float32)
    zero_point = numpy_helper.from_array(np.zeros(4, (FLOAT8 | INTS)[out_type]), "zp")
    nodes = [helper.make_node("QuantizeLinear", ["x", "scale", "zp"], ["q"], axis=0),
             helper.make_node("DequantizeLinear", ["q", "scale", "zp"], ["y"], axis=0)]
    model = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 6])],
                       [helper.make_tensor_value_info("q", out_type, [4, 6]),
                        helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 6])],
                       opset=21, ir_version=10,
                       initializers=[numpy_helper.from_array(scale, "scale"), zero_point])
    got = compile_and_run(model, {"x": x})
    expected = _reference(model, {"x": x})
    for g, e in zip(got, expected):
        _assert_same_values(g, e)


def test_computing_on_int4_is_refused(compile_model_so):
    pads = numpy_helper.from_array(np.array([1, 1], np.int64), "pads")
    model = make_model([helper.make_node("Pad", ["x", "pads"], ["y"])],
                       [helper.make_tensor_value_info("x", TensorProto.INT4, [3])],
                       [helper.make_tensor_value_info("y", TensorProto.INT4, [5])], opset=21,
                       ir_version=10, initializers=[pads])
    with pytest.raises(UnsupportedError, match=r"Pad on int4 values is not supported"):
        compile_model_so(model)


@pytest.mark.parametrize("saturate", [1, 0])
@pytest.mark.parametrize("round_mode", ["up", "down", "nearest"])
def test_cast_float_to_float8e8m0(compile_and_run, round_mode, saturate):
    """E8M0 holds a power of two: the exponent, rounded by round_mode from the mantissa bits
    (every f32 exponent, near-ties and the top of the range included)."""
    exponents = np.arange(256, dtype=np.uint32) << 23
    mantissas = np.array([0, 1, 0x1FFFFF, 0x200000, 0x3FFFFF, 0x400000, 0x400001, 0x600000,
                          0x7FFFFF], np.uint32)
    bits = (exponents[:, None] | mantissas[None, :]).reshape(-1)
    x = np.concatenate([bits, bits | 0x80000000]).view(np.float32)
    model = _cast_model(TensorProto.FLOAT, TensorProto.FLOAT8E8M0, x.shape, saturate=saturate,
                        round_mode=round_mode)
    (got,) = compile_and_run(model, {"x": x})
    (expected,) = _reference(model, {"x": x})
    np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))


def test_cast_float8e8m0_to_float(compile_and_run):
    x = np.arange(256, dtype=np.uint8).view(ml_dtypes.float8_e8m0fnu)
    model = _cast_model(TensorProto.FLOAT8E8M0, TensorProto.FLOAT, x.shape)
    (got,) = compile_and_run(model, {"x": x})
    (expected,) = _reference(model, {"x": x})
    _assert_same_values(got, expected)
