"""CumSum and CumProd against onnxruntime: axes (constant, negative, run-time), exclusive,
reverse, float and integer types."""

import numpy as np
import pytest
from onnx import helper

from conftest import make_model, tensor


def _model(op, shape, dtype, axis_const, **attrs):
    inputs = [tensor("x", dtype, shape)]
    initializers = []
    if axis_const is None:
        inputs.append(tensor("axis", np.int64, ()))
    else:
        initializers.append(helper.make_tensor("axis", 7, [], [axis_const]))
    return make_model([helper.make_node(op, ["x", "axis"], ["y"], **attrs)], inputs,
                      [tensor("y", dtype, shape)], opset=26, ir_version=10,
                      initializers=initializers)


def _values(rng, op, shape, dtype):
    if op == "CumProd":  # near 1, so products neither vanish nor overflow
        values = rng.uniform(0.5, 1.5, shape) * rng.choice([-1, 1], shape)
        return np.asarray(values if np.dtype(dtype).kind == "f" else rng.integers(-3, 4, shape),
                          dtype)
    return np.asarray(rng.standard_normal(shape) * 10, dtype)


@pytest.mark.parametrize("op", ["CumSum", "CumProd"])
@pytest.mark.parametrize("shape,axis", [((7,), 0), ((3, 5), 1), ((3, 5), -2), ((2, 3, 4), 1)])
@pytest.mark.parametrize("exclusive,reverse", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_scan(check_against_ort, op, shape, axis, exclusive, reverse):
    rng = np.random.default_rng(0)
    model = _model(op, shape, np.float32, axis, exclusive=exclusive, reverse=reverse)
    check_against_ort(model, {"x": _values(rng, op, shape, np.float32)}, rtol=1e-5)


@pytest.mark.parametrize("op", ["CumSum", "CumProd"])
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.float64])
def test_scan_types(check_against_ort, op, dtype):
    rng = np.random.default_rng(1)
    model = _model(op, (4, 6), dtype, 1)
    check_against_ort(model, {"x": _values(rng, op, (4, 6), dtype)})


@pytest.mark.parametrize("op", ["CumSum", "CumProd"])
@pytest.mark.parametrize("axis", [0, 2, -1])
def test_scan_runtime_axis(check_against_ort, op, axis):
    rng = np.random.default_rng(2)
    model = _model(op, (2, 3, 4), np.float32, None, reverse=1)
    check_against_ort(model, {"x": _values(rng, op, (2, 3, 4), np.float32),
                              "axis": np.array(axis, np.int64)}, rtol=1e-5)
