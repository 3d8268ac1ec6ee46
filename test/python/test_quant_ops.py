"""Quantization ops against onnxruntime: QuantizeLinear, DequantizeLinear (per tensor, per axis,
blocked), DynamicQuantizeLinear, MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv; and
Cast from and to unsigned integers, which the quantized types need."""

import numpy as np
import pytest
from onnx import TensorProto, helper

from conftest import make_model, tensor

from mlc.errors import UnsupportedError

INT_TYPES = [np.int8, np.uint8, np.int16, np.uint16]


def _ints(rng, dtype, shape, low=None, high=None):
    info = np.iinfo(dtype)
    low = info.min if low is None else low
    high = info.max if high is None else high
    return np.asarray(rng.integers(low, high, shape, endpoint=True), dtype)


def _scales(rng, shape, dtype=np.float32):
    return np.asarray(rng.random(shape) * 0.5 + 0.01, dtype)


def _quant_model(op, x, scale, zero_point, out_dtype, opset, **attrs):
    """A one-node model whose x, scale and (if not None) zero point are graph inputs; 16-bit
    integers need opset 21."""
    names = ["x", "scale"] + (["zero_point"] if zero_point is not None else [])
    arrays = [np.asarray(a) for a in [x, scale] + ([zero_point] if zero_point is not None else [])]
    if any(a.dtype in (np.int16, np.uint16) for a in arrays + [np.empty(0, out_dtype)]):
        opset = max(opset, 21)
    node = helper.make_node(op, names, ["y"], **attrs)
    model = make_model([node], [tensor(n, a.dtype, a.shape) for n, a in zip(names, arrays)],
                       [tensor("y", out_dtype, x.shape)], opset=opset,
                       ir_version=10 if opset >= 21 else 8)
    return model, dict(zip(names, arrays))


# -- QuantizeLinear ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", INT_TYPES)
@pytest.mark.parametrize("shape", [(), (7,), (2, 3, 4)])
def test_quantize_per_tensor(check_against_ort, dtype, shape):
    rng = np.random.default_rng(0)
    # Wide enough to saturate at both ends of every type; halves test round-half-to-even.
    x = np.asarray(rng.standard_normal(shape) * 40000, np.float32)
    scale = np.array(np.float32(0.5 if dtype in (np.int8, np.uint8) else 0.25))
    zero_point = np.array(_ints(rng, dtype, (), 0, 100))
    model, feeds = _quant_model("QuantizeLinear", x, scale, zero_point, dtype, 19)
    check_against_ort(model, feeds)


def test_quantize_rounds_half_to_even(check_against_ort):
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 126.5, 127.5, 300.0, -300.0], np.float32)
    model, feeds = _quant_model("QuantizeLinear", x, np.array(np.float32(1.0)),
                                np.array(np.int8(0)), np.int8, 13)
    actual = check_against_ort(model, feeds)
    np.testing.assert_array_equal(actual[0], [-2, -2, 0, 0, 2, 2, 4, 126, 127, 127, -128])


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.uint16])
@pytest.mark.parametrize("shape,axis", [((4, 3), 0), ((2, 3, 5), 1), ((2, 3, 5), -1),
                                        ((2, 3, 5), 2)])
def test_quantize_per_axis(check_against_ort, dtype, shape, axis):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 50).astype(np.float32)
    channels = shape[axis]
    model, feeds = _quant_model("QuantizeLinear", x, _scales(rng, channels),
                                _ints(rng, dtype, channels, 0, 20), dtype, 13, axis=axis)
    check_against_ort(model, feeds)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
@pytest.mark.parametrize("shape,axis,block_size", [((4, 6), 1, 2), ((4, 6), 0, 3),
                                                   ((3, 7), 1, 3), ((2, 5, 3), 1, 2)])
def test_quantize_blocked(check_against_ort, dtype, shape, axis, block_size):
    rng = np.random.default_rng(2)
    x = (rng.standard_normal(shape) * 30).astype(np.float32)
    scale_shape = list(shape)
    scale_shape[axis] = -(-shape[axis] // block_size)
    model, feeds = _quant_model("QuantizeLinear", x, _scales(rng, scale_shape),
                                _ints(rng, dtype, scale_shape, 0, 10), dtype, 21, axis=axis,
                                block_size=block_size)
    check_against_ort(model, feeds)


@pytest.mark.parametrize("output_dtype,dtype", [(TensorProto.INT8, np.int8),
                                                (TensorProto.UINT16, np.uint16)])
def test_quantize_output_dtype(check_against_ort, output_dtype, dtype):
    """Without a zero point, output_dtype (opset 21) chooses the type; uint8 by default."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((3, 4)) * 100).astype(np.float32)
    model, feeds = _quant_model("QuantizeLinear", x, np.array(np.float32(0.3)), None, dtype, 21,
                                output_dtype=output_dtype)
    check_against_ort(model, feeds)
    model, feeds = _quant_model("QuantizeLinear", x, np.array(np.float32(0.3)), None, np.uint8, 13)
    check_against_ort(model, feeds)


def test_quantize_float16(check_against_ort):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((4, 5)) * 20).astype(np.float16)
    model, feeds = _quant_model("QuantizeLinear", x, _scales(rng, 5, np.float16),
                                _ints(rng, np.int8, 5, -5, 5), np.int8, 19, axis=1)
    check_against_ort(model, feeds)


# -- DequantizeLinear ------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", INT_TYPES + [np.int32])
@pytest.mark.parametrize("shape", [(), (6,), (2, 3, 4)])
def test_dequantize_per_tensor(check_against_ort, dtype, shape):
    rng = np.random.default_rng(5)
    x = _ints(rng, dtype, shape, *((-10**6, 10**6) if dtype == np.int32 else ()))
    zero_point = np.array(dtype(0) if dtype == np.int32 else _ints(rng, dtype, ()))
    model, feeds = _quant_model("DequantizeLinear", x, np.array(np.float32(0.37)), zero_point,
                                np.float32, 19)
    check_against_ort(model, feeds, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint16])
@pytest.mark.parametrize("shape,axis", [((4, 3), 0), ((2, 3, 5), 1), ((2, 3, 5), -1)])
def test_dequantize_per_axis(check_against_ort, dtype, shape, axis):
    rng = np.random.default_rng(6)
    channels = shape[axis]
    model, feeds = _quant_model("DequantizeLinear", _ints(rng, dtype, shape),
                                _scales(rng, channels),
                                _ints(rng, dtype, channels), np.float32, 13, axis=axis)
    check_against_ort(model, feeds, rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16])
@pytest.mark.parametrize("shape,axis,block_size", [((4, 6), 1, 2), ((6, 4), 0, 4),
                                                   ((2, 7, 3), 1, 3)])
def test_dequantize_blocked(check_against_ort, dtype, shape, axis, block_size):
    rng = np.random.default_rng(7)
    scale_shape = list(shape)
    scale_shape[axis] = -(-shape[axis] // block_size)
    model, feeds = _quant_model("DequantizeLinear", _ints(rng, dtype, shape),
                                _scales(rng, scale_shape), _ints(rng, dtype, scale_shape),
                                np.float32, 21, axis=axis, block_size=block_size)
    check_against_ort(model, feeds, rtol=1e-6)


def test_dequantize_float16_scale_without_zero_point(check_against_ort):
    rng = np.random.default_rng(8)
    model, feeds = _quant_model("DequantizeLinear", _ints(rng, np.uint8, (3, 4)),
                                _scales(rng, 4, np.float16), None, np.float16, 19, axis=1)
    check_against_ort(model, feeds)


def test_dequantize_output_dtype(compile_and_run):
    """output_dtype (opset 23) only restates the scale's type; checked against numpy."""
    rng = np.random.default_rng(9)
    x, zero_point = _ints(rng, np.int8, (2, 5)), np.array(np.int8(-3))
    scale = np.array(np.float32(0.125))
    model, feeds = _quant_model("DequantizeLinear", x, scale, zero_point, np.float32, 23,
                                output_dtype=TensorProto.FLOAT)
    (y,) = compile_and_run(model, feeds)
    np.testing.assert_array_equal(y, (x.astype(np.float32) + 3) * scale)


def test_unsupported_element_type_is_refused(compile_and_run):
    x = np.zeros((2, 2), np.float32)
    node = helper.make_node("Cast", ["x"], ["y"], to=TensorProto.STRING)
    model = make_model([node], [tensor("x", np.float32, (2, 2))],
                       [helper.make_tensor_value_info("y", TensorProto.STRING, [2, 2])],
                       opset=25, ir_version=12)
    with pytest.raises(UnsupportedError, match="element type STRING is not supported"):
        compile_and_run(model, {"x": x})


# -- DynamicQuantizeLinear -------------------------------------------------------------------------
@pytest.mark.parametrize("shape,low,high", [((3, 4), -2.0, 5.0), ((2, 3, 4), 1.0, 3.0),
                                            ((17,), -7.0, -0.5), ((1, 1), 0.0, 0.0)])
def test_dynamic_quantize(check_against_ort, shape, low, high):
    rng = np.random.default_rng(10)
    x = rng.uniform(low, high, shape).astype(np.float32)
    model = make_model([helper.make_node("DynamicQuantizeLinear", ["x"], ["y", "scale", "zp"])],
                       [tensor("x", np.float32, shape)],
                       [tensor("y", np.uint8, shape), tensor("scale", np.float32, ()),
                        tensor("zp", np.uint8, ())], opset=11)
    check_against_ort(model, {"x": x}, rtol=1e-6)


# -- integer matrix products and convolutions ------------------------------------------------------
@pytest.mark.parametrize("a_dtype,b_dtype", [(np.uint8, np.uint8), (np.uint8, np.int8),
                                             (np.int8, np.int8)])
@pytest.mark.parametrize("a_shape,b_shape", [((3, 5), (5, 4)), ((2, 3, 5), (5, 4)),
                                             ((2, 3, 5), (2, 5, 4)), ((5,), (5, 4))])
def test_matmul_integer(check_against_ort, a_dtype, b_dtype, a_shape, b_shape):
    rng = np.random.default_rng(11)
    a, b = _ints(rng, a_dtype, a_shape), _ints(rng, b_dtype, b_shape)
    a_zp, b_zp = np.array(_ints(rng, a_dtype, ())), _ints(rng, b_dtype, _per_column(b_shape))
    out_shape = np.matmul(a.astype(np.int32), b.astype(np.int32)).shape
    model = make_model([helper.make_node("MatMulInteger", ["a", "b", "a_zp", "b_zp"], ["y"])],
                       [tensor("a", a_dtype, a_shape), tensor("b", b_dtype, b_shape),
                        tensor("a_zp", a_dtype, ()), tensor("b_zp", b_dtype, b_zp.shape)],
                       [tensor("y", np.int32, out_shape)], opset=10)
    check_against_ort(model, {"a": a, "b": b, "a_zp": a_zp, "b_zp": b_zp})


def _per_column(b_shape):
    """A zero point or scale shape with one value per column of B, as onnxruntime takes it:
    [N] for a matrix, [..., 1, N] for a batch."""
    return (b_shape[-1],) if len(b_shape) == 2 else (*b_shape[:-2], 1, b_shape[-1])


def test_matmul_integer_per_row_zero_point(compile_and_run):
    """A's zero point one per row, as the spec allows (onnxruntime takes only a scalar, onnx's
    reference fails to broadcast it): against numpy."""
    rng = np.random.default_rng(12)
    feeds = {"a": _ints(rng, np.uint8, (4, 6)), "b": _ints(rng, np.uint8, (6, 3)),
             "a_zp": _ints(rng, np.uint8, (4,))}
    model = make_model([helper.make_node("MatMulInteger", ["a", "b", "a_zp"], ["y"])],
                       [tensor("a", np.uint8, (4, 6)), tensor("b", np.uint8, (6, 3)),
                        tensor("a_zp", np.uint8, (4,))],
                       [tensor("y", np.int32, (4, 3))], opset=10)
    a = feeds["a"].astype(np.int32) - feeds["a_zp"].astype(np.int32)[:, None]
    expected = a @ feeds["b"].astype(np.int32)
    np.testing.assert_array_equal(compile_and_run(model, feeds)[0], expected)


def _conv_out(x_shape, w_shape, pads, strides):
    spatial = [(x_shape[2 + i] + pads[i] + pads[i + 2] - w_shape[2 + i]) // strides[i] + 1
               for i in range(2)]
    return (x_shape[0], w_shape[0], *spatial)


CONVS = [  # x shape, w shape, pads, strides, group
    ((1, 2, 5, 5), (3, 2, 3, 3), [0, 0, 0, 0], [1, 1], 1),
    ((2, 3, 6, 7), (4, 3, 3, 2), [1, 0, 1, 1], [2, 1], 1),
    ((1, 4, 5, 5), (4, 2, 3, 3), [1, 1, 1, 1], [1, 1], 2),
]


@pytest.mark.parametrize("x_shape,w_shape,pads,strides,group", CONVS)
@pytest.mark.parametrize("per_channel", [False, True])
def test_conv_integer(check_against_ort, compile_and_run, x_shape, w_shape, pads, strides, group,
                      per_channel):
    """Per-channel weight zero points against onnx's reference (onnxruntime takes a scalar)."""
    rng = np.random.default_rng(13)
    x, w = _ints(rng, np.uint8, x_shape), _ints(rng, np.uint8, w_shape)
    w_zp = _ints(rng, np.uint8, (w_shape[0],) if per_channel else ())
    model = make_model([helper.make_node("ConvInteger", ["x", "w", "x_zp", "w_zp"], ["y"],
                                         pads=pads, strides=strides, group=group)],
                       [tensor("x", np.uint8, x_shape), tensor("w", np.uint8, w_shape),
                        tensor("x_zp", np.uint8, ()), tensor("w_zp", np.uint8, w_zp.shape)],
                       [tensor("y", np.int32, _conv_out(x_shape, w_shape, pads, strides))],
                       opset=10)
    feeds = {"x": x, "w": w, "x_zp": np.array(np.uint8(7)), "w_zp": w_zp}
    if per_channel:
        from onnx.reference import ReferenceEvaluator

        (expected,) = ReferenceEvaluator(model).run(None, feeds)
        np.testing.assert_array_equal(compile_and_run(model, feeds)[0], expected)
    else:
        check_against_ort(model, feeds)


def _qlinear_inputs(rng, names_types_shapes):
    return {name: (_ints(rng, dtype, shape, *bounds) if np.dtype(dtype).kind in "ui"
                   else _scales(rng, shape, dtype))
            for name, dtype, shape, *bounds in names_types_shapes}


@pytest.mark.parametrize("dtype", [np.uint8, np.int8])
@pytest.mark.parametrize("a_shape,b_shape", [((3, 8), (8, 5)), ((2, 4, 8), (8, 3)),
                                             ((2, 4, 8), (2, 8, 3))])
@pytest.mark.parametrize("per_column", [False, True])
def test_qlinear_matmul(check_against_ort, dtype, a_shape, b_shape, per_column):
    rng = np.random.default_rng(14)
    b_q = _per_column(b_shape) if per_column else ()
    spec = [("a", dtype, a_shape), ("a_scale", np.float32, ()), ("a_zp", dtype, (), -3, 3),
            ("b", dtype, b_shape), ("b_scale", np.float32, b_q), ("b_zp", dtype, b_q, 0, 3),
            ("y_scale", np.float32, ()), ("y_zp", dtype, (), 0, 5)]
    feeds = _qlinear_inputs(rng, spec)
    feeds["y_scale"] = np.array(np.float32(40.0 if dtype == np.uint8 else 10.0))
    out_shape = np.matmul(feeds["a"].astype(np.int32), feeds["b"].astype(np.int32)).shape
    model = make_model([helper.make_node("QLinearMatMul", [s[0] for s in spec], ["y"])],
                       [tensor(name, dtype_, feeds[name].shape) for name, dtype_, *_ in spec],
                       [tensor("y", dtype, out_shape)], opset=10)
    check_against_ort(model, feeds)


@pytest.mark.parametrize("x_shape,w_shape,pads,strides,group", CONVS)
@pytest.mark.parametrize("dtype,per_channel,bias", [(np.uint8, False, False),
                                                    (np.uint8, True, True),
                                                    (np.int8, True, True)])
def test_qlinear_conv(check_against_ort, x_shape, w_shape, pads, strides, group, dtype,
                      per_channel, bias):
    rng = np.random.default_rng(15)
    channels = (w_shape[0],) if per_channel else ()
    # onnxruntime wants int8 weights to be symmetric (zero point 0).
    w_zp_bounds = (0, 0) if dtype == np.int8 else (0, 5)
    spec = [("x", dtype, x_shape), ("x_scale", np.float32, ()), ("x_zp", dtype, (), 0, 5),
            ("w", dtype, w_shape), ("w_scale", np.float32, channels),
            ("w_zp", dtype, channels, *w_zp_bounds), ("y_scale", np.float32, ()),
            ("y_zp", dtype, (), 0, 5)]
    if bias:
        spec.append(("b", np.int32, (w_shape[0],), -500, 500))
    feeds = _qlinear_inputs(rng, spec)
    feeds["y_scale"] = np.array(np.float32(30.0 if dtype == np.uint8 else 8.0))
    model = make_model([helper.make_node("QLinearConv", [s[0] for s in spec], ["y"], pads=pads,
                                         strides=strides, group=group)],
                       [tensor(name, dtype_, feeds[name].shape) for name, dtype_, *_ in spec],
                       [tensor("y", dtype, _conv_out(x_shape, w_shape, pads, strides))],
                       opset=10)
    check_against_ort(model, feeds)


# -- Cast with unsigned integers -------------------------------------------------------------------
@pytest.mark.parametrize("src,dst", [(np.uint8, np.float32), (np.uint16, np.int32),
                                     (np.uint8, np.int64), (np.float32, np.uint8),
                                     (np.int8, np.uint16), (np.uint32, np.float64)])
def test_cast_unsigned(check_against_ort, src, dst):
    rng = np.random.default_rng(16)
    if np.dtype(src).kind == "f":
        x = rng.uniform(0, 255, (3, 4)).astype(src)
    else:
        x = _ints(rng, src, (3, 4))
    model = make_model([helper.make_node("Cast", ["x"], ["y"], to=helper.np_dtype_to_tensor_dtype(
        np.dtype(dst)))], [tensor("x", src, (3, 4))], [tensor("y", dst, (3, 4))])
    check_against_ort(model, {"x": x})


def test_quantize_precision(compile_and_run):
    """precision (opset 23) divides in float16, which keeps 11 bits of x / scale: against
    onnx's reference."""
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(17)
    x = np.asarray(rng.standard_normal((4, 6)) * 1000, np.float32)
    model, feeds = _quant_model("QuantizeLinear", x, np.array(np.float32(0.1)),
                                np.array(np.int16(3)), np.int16, 23, precision=TensorProto.FLOAT16)
    (expected,) = ReferenceEvaluator(model).run(None, feeds)
    np.testing.assert_array_equal(compile_and_run(model, feeds)[0], expected)
