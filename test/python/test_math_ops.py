"""Elementwise and math ops against onnxruntime: Add/Sub/Mul/Div, Relu/Sigmoid/Tanh, Sum, Cast."""

import numpy as np
import pytest
from onnx import helper, numpy_helper

from conftest import make_model, tensor

BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((2, 3, 4), (4,)),
    ((2, 1, 4), (3, 1)),
    ((1,), (2, 3)),
    ((), (2, 5)),
    ((2, 3, 1, 5), (1, 4, 1)),
]


def _random(rng, shape, dtype=np.float32, scale=1.0):
    return np.asarray(rng.standard_normal(shape) * scale, dtype)


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("a_shape,b_shape", BROADCAST_SHAPES)
def test_binary_float(check_against_ort, op, a_shape, b_shape):
    rng = np.random.default_rng(0)
    out_shape = np.broadcast_shapes(a_shape, b_shape)
    model = make_model([helper.make_node(op, ["a", "b"], ["y"])],
                       [tensor("a", np.float32, a_shape), tensor("b", np.float32, b_shape)],
                       [tensor("y", np.float32, out_shape)])
    b = _random(rng, b_shape)
    if op == "Div":
        b = np.where(np.abs(b) < 0.1, np.float32(0.5), b).astype(np.float32)
    check_against_ort(model, {"a": _random(rng, a_shape), "b": b})


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("a_shape,b_shape", [((4, 5), (4, 5)), ((2, 3, 4), (1, 4))])
def test_binary_int(check_against_ort, op, dtype, a_shape, b_shape):
    rng = np.random.default_rng(1)
    out_shape = np.broadcast_shapes(a_shape, b_shape)
    model = make_model([helper.make_node(op, ["a", "b"], ["y"])],
                       [tensor("a", dtype, a_shape), tensor("b", dtype, b_shape)],
                       [tensor("y", dtype, out_shape)])
    a = rng.integers(-100, 100, a_shape).astype(dtype)
    b = rng.integers(1, 9, b_shape).astype(dtype) * rng.choice([-1, 1], b_shape).astype(dtype)
    check_against_ort(model, {"a": a, "b": b})


@pytest.mark.parametrize("op", ["Add", "Mul", "Div", "Sub"])
def test_binary_with_weight(check_against_ort, op):
    """One operand an initializer: the weight path (mlc.constant) instead of an argument."""
    rng = np.random.default_rng(2)
    weight = (rng.random((3, 1, 6)) + 0.5).astype(np.float32)
    model = make_model([helper.make_node(op, ["w", "x"], ["y"])],
                       [tensor("x", np.float32, (4, 6))], [tensor("y", np.float32, (3, 4, 6))],
                       initializers=[numpy_helper.from_array(weight, "w")])
    check_against_ort(model, {"x": _random(rng, (4, 6))})


@pytest.mark.parametrize("op", ["Relu", "Sigmoid", "Tanh"])
@pytest.mark.parametrize("shape", [(7,), (2, 3), (2, 3, 4, 5), ()])
def test_unary(check_against_ort, op, shape):
    rng = np.random.default_rng(3)
    model = make_model([helper.make_node(op, ["x"], ["y"])],
                       [tensor("x", np.float32, shape)], [tensor("y", np.float32, shape)])
    check_against_ort(model, {"x": _random(rng, shape, scale=5.0)})


@pytest.mark.parametrize("op", ["Sigmoid", "Tanh"])
def test_unary_saturates(check_against_ort, op):
    """Large magnitudes must saturate, not overflow to NaN."""
    x = np.array([-100.0, -30.0, -10.0, -1e-3, 0.0, 1e-3, 10.0, 30.0, 100.0], np.float32)
    model = make_model([helper.make_node(op, ["x"], ["y"])],
                       [tensor("x", np.float32, x.shape)], [tensor("y", np.float32, x.shape)])
    check_against_ort(model, {"x": x})


@pytest.mark.parametrize("shapes", [
    [(3, 4)],
    [(3, 4), (3, 4)],
    [(2, 3, 4), (3, 4), (4,)],
    [(2, 1, 4), (1, 3, 1), (1,)],
])
def test_sum(check_against_ort, shapes):
    rng = np.random.default_rng(4)
    names = [f"x{i}" for i in range(len(shapes))]
    out_shape = np.broadcast_shapes(*shapes)
    model = make_model([helper.make_node("Sum", names, ["y"])],
                       [tensor(n, np.float32, s) for n, s in zip(names, shapes)],
                       [tensor("y", np.float32, out_shape)])
    check_against_ort(model, {n: _random(rng, s) for n, s in zip(names, shapes)})


@pytest.mark.parametrize("opset", [8, 13])
def test_sum_opset_variants(check_against_ort, opset):
    rng = np.random.default_rng(5)
    model = make_model([helper.make_node("Sum", ["a", "b", "c"], ["y"])],
                       [tensor(n, np.float32, (2, 3)) for n in "abc"], [tensor("y", np.float32, (2, 3))],
                       opset=opset)
    check_against_ort(model, {n: _random(rng, (2, 3)) for n in "abc"})


_FLOAT_SAMPLE = np.array([[-3.7, -1.5, -0.5, 0.0], [0.25, 0.9, 2.5, 127.9]], np.float32)


@pytest.mark.parametrize("src,dst", [
    (np.float32, np.int32), (np.float32, np.int64), (np.float32, np.float64), (np.float32, np.bool_),
    (np.int32, np.float32), (np.int64, np.float32), (np.float64, np.float32), (np.bool_, np.float32),
    (np.int32, np.bool_), (np.bool_, np.int64),
    (np.int64, np.int32), (np.int32, np.int64), (np.float32, np.float32),
])
def test_cast(check_against_ort, src, dst):
    if np.dtype(src) == np.bool_:
        x = _FLOAT_SAMPLE != 0.0
    elif np.dtype(src).kind == "i":
        x = np.array([[-1000, -7, -1, 0], [1, 3, 42, 2**20]], src)
    else:
        x = _FLOAT_SAMPLE.astype(src)
    to = helper.np_dtype_to_tensor_dtype(np.dtype(dst))
    model = make_model([helper.make_node("Cast", ["x"], ["y"], to=to)],
                       [tensor("x", src, x.shape)], [tensor("y", dst, x.shape)])
    check_against_ort(model, {"x": x})


@pytest.mark.parametrize("via", [np.int64, np.int32, np.bool_])
def test_cast_chain(check_against_ort, via):
    """float -> int -> float truncates toward zero; float -> bool -> float gives 0 or 1."""
    to = helper.np_dtype_to_tensor_dtype(np.dtype(via))
    model = make_model([helper.make_node("Cast", ["x"], ["i"], to=to),
                        helper.make_node("Cast", ["i"], ["y"], to=1)],
                       [tensor("x", np.float32, (2, 4))], [tensor("y", np.float32, (2, 4))])
    check_against_ort(model, {"x": _FLOAT_SAMPLE})
