"""More neural-network ops against onnxruntime: layer/instance/group normalization, 1-D and 3-D
convolution and pooling, ConvTranspose, GlobalMaxPool, LpPool, Hardmax."""

import numpy as np
import pytest
from onnx import helper, numpy_helper

from conftest import make_model, ort_run, tensor


def _random(rng, shape, scale=1.0, dtype=np.float32):
    return np.asarray(rng.standard_normal(shape) * scale, dtype)


def _single_node(node, x, opset=17, weights=(), dtype=np.float32):
    """A model of one node on input `x`, the other operands initializers; feeds for it.

    The output shape is onnxruntime's, from a model whose output shape is left unknown.
    """
    inits = [numpy_helper.from_array(w, n) for n, w in weights]
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    probe = make_model([node], [tensor("x", dtype, x.shape)],
                       [helper.make_tensor_value_info("y", elem, None)], opset=opset,
                       initializers=inits, check=False)
    shape = ort_run(probe, {"x": x})[0].shape
    model = make_model([node], [tensor("x", dtype, x.shape)], [tensor("y", dtype, shape)],
                       opset=opset, initializers=inits)
    return model, {"x": x}


# -- normalization ----------------------------------------------------------------------------
LAYER_NORM_CASES = [
    # (shape, axis, bias, epsilon)
    ((2, 5, 16), -1, True, 1e-5),
    ((2, 5, 16), -1, False, 1e-12),
    ((3, 4, 6), 1, True, 1e-5),  # normalize over the last two dims
    ((4, 8), 0, True, 1e-3),  # over everything
]


@pytest.mark.parametrize("shape,axis,bias,eps", LAYER_NORM_CASES,
                         ids=[f"ln{i}" for i in range(len(LAYER_NORM_CASES))])
def test_layer_norm(check_against_ort, shape, axis, bias, eps):
    rng = np.random.default_rng(0)
    norm_shape = shape[axis:]
    weights = [("scale", _random(rng, norm_shape))] + ([("bias", _random(rng, norm_shape))] if bias else [])
    node = helper.make_node("LayerNormalization", ["x"] + [n for n, _ in weights], ["y"],
                            axis=axis, epsilon=eps)
    check_against_ort(*_single_node(node, _random(rng, shape, 3.0) + 1.0, weights=weights),
                      rtol=1e-4, atol=1e-5)


def test_layer_norm_scale_broadcast(check_against_ort):
    """Scale and bias only need to broadcast to the normalized dims."""
    rng = np.random.default_rng(1)
    weights = [("scale", _random(rng, (1, 6))), ("bias", _random(rng, (6,)))]
    node = helper.make_node("LayerNormalization", ["x", "scale", "bias"], ["y"], axis=1)
    check_against_ort(*_single_node(node, _random(rng, (2, 4, 6)), weights=weights), atol=1e-5)


def test_layer_norm_f16(check_against_ort):
    """Half-precision input: statistics in f32 (stash_type 1)."""
    rng = np.random.default_rng(2)
    weights = [("scale", _random(rng, (32,), dtype=np.float16)),
               ("bias", _random(rng, (32,), dtype=np.float16))]
    node = helper.make_node("LayerNormalization", ["x", "scale", "bias"], ["y"])
    check_against_ort(*_single_node(node, _random(rng, (4, 32), dtype=np.float16),
                                    weights=weights, dtype=np.float16), rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("shape", [(2, 3, 7), (1, 4, 5, 6), (2, 2, 3, 4, 5)])
def test_instance_norm(check_against_ort, shape):
    rng = np.random.default_rng(3)
    c = shape[1]
    weights = [("scale", _random(rng, (c,))), ("bias", _random(rng, (c,)))]
    node = helper.make_node("InstanceNormalization", ["x", "scale", "bias"], ["y"], epsilon=1e-4)
    check_against_ort(*_single_node(node, _random(rng, shape, 2.0), opset=13, weights=weights),
                      rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape,groups", [((2, 6, 5, 5), 3), ((1, 8, 10), 2), ((2, 4, 3, 3), 4),
                                          ((1, 6, 4, 4), 1)])
def test_group_norm(check_against_ort, shape, groups):
    rng = np.random.default_rng(4)
    c = shape[1]
    weights = [("scale", _random(rng, (c,))), ("bias", _random(rng, (c,)))]
    node = helper.make_node("GroupNormalization", ["x", "scale", "bias"], ["y"], epsilon=1e-5,
                            num_groups=groups)
    check_against_ort(*_single_node(node, _random(rng, shape, 2.0), opset=21, weights=weights),
                      rtol=1e-4, atol=1e-5)
