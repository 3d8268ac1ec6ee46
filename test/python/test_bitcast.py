"""BitCast: the same bits read as another type of the same width, checked bit for bit against
numpy's view (onnxruntime 1.31 implements BitCast for few of the pairs)."""

import numpy as np
import pytest
from onnx import helper

from conftest import make_model, tensor

from mlc.errors import InputError

PAIRS = [(np.float32, np.int32), (np.int32, np.float32), (np.float32, np.uint32),
         (np.float64, np.int64), (np.uint64, np.float64), (np.float16, np.int16),
         (np.uint16, np.float16), (np.int8, np.uint8), (np.uint32, np.int32),
         (np.bool_, np.uint8), (np.uint8, np.bool_), (np.int8, np.bool_)]


def _model(src, dst, shape):
    to = helper.np_dtype_to_tensor_dtype(np.dtype(dst))
    return make_model([helper.make_node("BitCast", ["x"], ["y"], to=to)],
                      [tensor("x", src, shape)], [tensor("y", dst, shape)], opset=26,
                      ir_version=10)


def _bits(rng, dtype, shape):
    """Values of `dtype` whose bit patterns, read as the other type, are ordinary numbers."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(dtype)
    if dtype.kind == "f":
        return np.asarray(rng.standard_normal(shape) * 100, dtype)
    if dtype.itemsize == 1:
        return np.asarray(rng.integers(0, 2, shape), dtype)  # may become bool
    floats = np.asarray(rng.standard_normal(shape) * 100, f"f{dtype.itemsize}")
    return floats.reshape(-1).view(dtype).reshape(shape)


@pytest.mark.parametrize("src,dst", PAIRS)
@pytest.mark.parametrize("shape", [(), (3, 4)])
def test_bitcast(compile_and_run, src, dst, shape):
    x = _bits(np.random.default_rng(0), src, shape)
    (y,) = compile_and_run(_model(src, dst, shape), {"x": x})
    assert y.dtype == np.dtype(dst) and y.shape == shape
    np.testing.assert_array_equal(y.reshape(-1).view(np.uint8), x.reshape(-1).view(np.uint8))


def test_bitcast_of_another_width_is_refused(compile_and_run):
    model = _model(np.float32, np.int64, (2,))
    with pytest.raises(InputError, match="same bit-width"):
        compile_and_run(model, {"x": np.zeros(2, np.float32)})
