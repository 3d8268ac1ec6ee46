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


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_layer_norm_statistics(check_against_ort, dtype):
    """The optional Mean and InvStdDev outputs, in f32 whatever the input type."""
    rng = np.random.default_rng(6)
    x = _random(rng, (3, 4, 5), 2.0, dtype)
    node = helper.make_node("LayerNormalization", ["x", "scale", "bias"], ["y", "mean", "inv_std"],
                            axis=1)
    model = make_model([node], [tensor("x", dtype, x.shape)],
                       [tensor("y", dtype, x.shape), tensor("mean", np.float32, (3, 1, 1)),
                        tensor("inv_std", np.float32, (3, 1, 1))], opset=17,
                       initializers=[numpy_helper.from_array(_random(rng, (4, 5), dtype=dtype), "scale"),
                                     numpy_helper.from_array(_random(rng, (4, 5), dtype=dtype), "bias")])
    tol = 1e-2 if dtype == np.float16 else 1e-5
    check_against_ort(model, {"x": x}, rtol=tol, atol=tol)


@pytest.mark.parametrize("shape,axis", [((2, 5, 16), -1), ((3, 4, 6), 1), ((4, 8), 0)])
def test_rms_norm(check_against_ort, shape, axis):
    rng = np.random.default_rng(7)
    weights = [("scale", _random(rng, shape[axis:]))]
    node = helper.make_node("RMSNormalization", ["x", "scale"], ["y"], axis=axis, epsilon=1e-4)
    check_against_ort(*_single_node(node, _random(rng, shape, 3.0), opset=23, weights=weights),
                      rtol=1e-4, atol=1e-5)


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


# -- convolution ------------------------------------------------------------------------------
CONV_CASES = [
    # (input shape, weight shape, attributes, bias)
    ((2, 3, 11), (4, 3, 3), {}, True),  # 1-D
    ((1, 4, 20), (6, 4, 5), {"strides": [2], "pads": [2, 1], "dilations": [2]}, True),
    ((1, 6, 9), (6, 2, 3), {"group": 3, "pads": [1, 1]}, False),  # grouped 1-D (generic)
    ((1, 4, 9), (4, 1, 3), {"group": 4, "auto_pad": "SAME_UPPER"}, True),  # depthwise 1-D
    ((1, 2, 5, 6, 7), (3, 2, 3, 3, 3), {"pads": [1, 1, 1, 1, 1, 1]}, True),  # 3-D
    ((1, 2, 7, 7, 7), (4, 2, 2, 3, 2), {"strides": [2, 1, 2], "dilations": [1, 2, 1]}, False),
    ((2, 4, 4, 5, 6), (4, 2, 3, 1, 3), {"group": 2, "pads": [1, 0, 1, 1, 0, 1]}, True),  # grouped 3-D
]


@pytest.mark.parametrize("x_shape,w_shape,attrs,bias", CONV_CASES,
                         ids=[f"conv{i}" for i in range(len(CONV_CASES))])
def test_conv_1d_3d(check_against_ort, x_shape, w_shape, attrs, bias):
    rng = np.random.default_rng(10)
    weights = [("w", _random(rng, w_shape))] + ([("b", _random(rng, (w_shape[0],)))] if bias else [])
    node = helper.make_node("Conv", ["x"] + [n for n, _ in weights], ["y"], **attrs)
    check_against_ort(*_single_node(node, _random(rng, x_shape), opset=13, weights=weights),
                      rtol=1e-4, atol=1e-4)


CONV_TRANSPOSE_CASES = [
    # (input shape, weight shape [C, F/G, k..], attributes, bias)
    ((1, 3, 4, 4), (3, 2, 3, 3), {}, False),
    ((2, 2, 3, 4), (2, 3, 3, 3), {"strides": [2, 2]}, True),
    ((1, 2, 5, 5), (2, 2, 3, 3), {"strides": [2, 2], "pads": [1, 1, 1, 1],
                                  "output_padding": [1, 1]}, True),
    ((1, 1, 3, 3), (1, 2, 3, 3), {"strides": [3, 2], "pads": [1, 2, 1, 2]}, False),
    ((1, 2, 4, 4), (2, 1, 2, 2), {"dilations": [2, 2], "strides": [2, 1]}, True),
    ((1, 4, 3, 3), (4, 2, 3, 3), {"group": 2, "strides": [2, 2]}, True),  # grouped
    ((1, 4, 3, 3), (4, 1, 3, 3), {"group": 4, "pads": [1, 1, 1, 1]}, False),  # depthwise
    ((1, 3, 3, 3), (3, 2, 3, 3), {"strides": [3, 2], "output_shape": [10, 8]}, True),
    ((1, 3, 3, 3), (3, 2, 3, 3), {"strides": [2, 2], "auto_pad": "VALID"}, False),
    ((2, 3, 7), (3, 2, 4), {"strides": [3], "pads": [1, 2]}, True),  # 1-D
    ((1, 2, 2, 3, 2), (2, 3, 2, 2, 3), {"strides": [2, 1, 2], "pads": [0, 1, 0, 0, 1, 1]}, True),
]


@pytest.mark.parametrize("x_shape,w_shape,attrs,bias", CONV_TRANSPOSE_CASES,
                         ids=[f"convT{i}" for i in range(len(CONV_TRANSPOSE_CASES))])
def test_conv_transpose(check_against_ort, x_shape, w_shape, attrs, bias):
    rng = np.random.default_rng(11)
    group = attrs.get("group", 1)
    weights = [("w", _random(rng, w_shape))]
    if bias:
        weights.append(("b", _random(rng, (w_shape[1] * group,))))
    node = helper.make_node("ConvTranspose", ["x"] + [n for n, _ in weights], ["y"], **attrs)
    check_against_ort(*_single_node(node, _random(rng, x_shape), opset=13, weights=weights),
                      rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("auto_pad,expected_shape", [("SAME_UPPER", (1, 1, 6, 6)),
                                                     ("SAME_LOWER", (1, 1, 6, 6))])
def test_conv_transpose_same(compile_and_run, auto_pad, expected_shape):
    """auto_pad SAME: the output is input * stride; the odd padding goes to the end with
    SAME_UPPER, to the start with SAME_LOWER (onnx's reference; onnxruntime swaps them)."""
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(12)
    x, w = _random(rng, (1, 1, 3, 3)), _random(rng, (1, 1, 3, 3))
    node = helper.make_node("ConvTranspose", ["x", "w"], ["y"], strides=[2, 2], auto_pad=auto_pad)
    model = make_model([node], [tensor("x", np.float32, x.shape)],
                       [tensor("y", np.float32, expected_shape)], opset=13,
                       initializers=[numpy_helper.from_array(w, "w")])
    (expected,) = ReferenceEvaluator(model).run(None, {"x": x})
    (y,) = compile_and_run(model, {"x": x})
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


# -- pooling ----------------------------------------------------------------------------------
POOL_CASES = [
    # (op, input shape, attributes)
    ("MaxPool", (1, 3, 10), {"kernel_shape": [3]}),
    ("MaxPool", (2, 2, 11), {"kernel_shape": [3], "strides": [2], "pads": [1, 1], "ceil_mode": 1}),
    ("MaxPool", (1, 2, 6, 7, 8), {"kernel_shape": [2, 3, 2], "strides": [2, 2, 2]}),
    ("MaxPool", (1, 2, 5, 5, 5), {"kernel_shape": [3, 3, 3], "pads": [1, 1, 1, 1, 1, 1],
                                  "dilations": [1, 2, 1]}),
    ("AveragePool", (1, 3, 9), {"kernel_shape": [4], "strides": [2], "pads": [1, 2]}),
    ("AveragePool", (1, 3, 9), {"kernel_shape": [3], "pads": [1, 1], "count_include_pad": 1}),
    ("AveragePool", (1, 2, 6, 5, 4), {"kernel_shape": [3, 2, 2], "pads": [1, 0, 1, 1, 1, 0]}),
    ("AveragePool", (1, 2, 5, 5, 5), {"kernel_shape": [2, 2, 2], "strides": [2, 2, 2],
                                      "ceil_mode": 1, "count_include_pad": 1}),
    ("LpPool", (1, 3, 6, 6), {"kernel_shape": [3, 3], "strides": [1, 1]}),
    ("LpPool", (1, 3, 6, 6), {"kernel_shape": [2, 2], "strides": [2, 2], "p": 1}),
    ("LpPool", (1, 2, 7), {"kernel_shape": [3], "pads": [1, 1], "p": 3}),
    ("LpPool", (1, 2, 4, 4, 4), {"kernel_shape": [2, 2, 2], "auto_pad": "SAME_UPPER"}),
    ("GlobalMaxPool", (2, 3, 5, 4), {}),
    ("GlobalMaxPool", (1, 3, 7), {}),
    ("GlobalMaxPool", (1, 2, 3, 4, 5), {}),
    ("GlobalLpPool", (1, 3, 4, 5), {}),
    ("GlobalLpPool", (1, 3, 4, 5), {"p": 1}),
]


@pytest.mark.parametrize("op,shape,attrs", POOL_CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(POOL_CASES)])
def test_pool(check_against_ort, op, shape, attrs):
    rng = np.random.default_rng(13)
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    check_against_ort(*_single_node(node, _random(rng, shape), opset=18), rtol=1e-4, atol=1e-5)


# -- hardmax ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,axis,opset", [((3, 5), -1, 13), ((2, 3, 4), 1, 13),
                                              ((2, 3, 4), 1, 11), ((2, 3, 4), 0, 11)])
def test_hardmax(check_against_ort, shape, axis, opset):
    rng = np.random.default_rng(14)
    x = _random(rng, shape)
    x.flat[3] = x.flat[4] = x.max() + 1  # a tie: the first maximum wins
    node = helper.make_node("Hardmax", ["x"], ["y"], axis=axis)
    check_against_ort(*_single_node(node, x, opset=opset))


MAX_POOL_INDICES_CASES = [
    # (input shape, attributes)
    ((1, 2, 5, 5), {"kernel_shape": [2, 2]}),
    ((2, 3, 7, 6), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((1, 2, 7, 6), {"kernel_shape": [3, 2], "strides": [2, 2], "storage_order": 1}),
    ((1, 2, 9), {"kernel_shape": [3], "strides": [2], "ceil_mode": 1}),
    ((1, 1, 4, 5, 6), {"kernel_shape": [2, 2, 3], "pads": [1, 0, 1, 0, 1, 1]}),
]


@pytest.mark.parametrize("shape,attrs", MAX_POOL_INDICES_CASES,
                         ids=[f"argmax{i}" for i in range(len(MAX_POOL_INDICES_CASES))])
def test_max_pool_indices(check_against_ort, shape, attrs):
    rng = np.random.default_rng(15)
    x = _random(rng, shape)
    node = helper.make_node("MaxPool", ["x"], ["y", "indices"], **attrs)
    probe = make_model([node], [tensor("x", np.float32, shape)],
                       [helper.make_tensor_value_info("y", 1, None),
                        helper.make_tensor_value_info("indices", 7, None)], opset=12, check=False)
    y_shape = ort_run(probe, {"x": x})[0].shape
    model = make_model([node], [tensor("x", np.float32, shape)],
                       [tensor("y", np.float32, y_shape), tensor("indices", np.int64, y_shape)],
                       opset=12)
    check_against_ort(model, {"x": x})


# -- attention --------------------------------------------------------------------------------
ATTENTION_CASES = [
    # (Q, K, V shapes, attributes, mask (shape, dtype) fed at run time or None, past length)
    ((2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5), {}, None, 0),
    ((2, 4, 12), (2, 6, 12), (2, 6, 9), {"q_num_heads": 3, "kv_num_heads": 3, "is_causal": 1}, None, 0),
    ((1, 4, 3, 8), (1, 2, 3, 8), (1, 2, 3, 8), {"is_causal": 1}, None, 2),  # GQA with a cache
    ((2, 2, 4, 8), (2, 2, 6, 8), (2, 2, 6, 8), {"scale": 0.3}, ((2, 1, 4, 6), np.bool_), 0),
    ((1, 2, 4, 8), (1, 2, 6, 8), (1, 2, 6, 8), {"softcap": 2.0, "qk_matmul_output_mode": 1},
     ((4, 5), np.float32), 0),  # a float mask shorter than the keys: padded with -inf
    ((1, 2, 5, 8), (1, 2, 5, 8), (1, 2, 5, 8), {"is_causal": 1, "qk_matmul_output_mode": 3},
     ((1, 1, 5, 5), np.bool_), 0),
]


@pytest.mark.parametrize("q_shape,k_shape,v_shape,attrs,mask,past", ATTENTION_CASES,
                         ids=[f"attention{i}" for i in range(len(ATTENTION_CASES))])
def test_attention(compile_and_run, q_shape, k_shape, v_shape, attrs, mask, past):
    """Against onnx's reference (onnxruntime's Attention predates the 1.23 errata)."""
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(16)
    feeds = {"q": _random(rng, q_shape), "k": _random(rng, k_shape), "v": _random(rng, v_shape)}
    inputs = ["q", "k", "v", "", "", ""]
    if mask is not None:
        shape, dtype = mask
        feeds["mask"] = (rng.random(shape) > 0.3 if dtype == np.bool_
                         else np.where(rng.random(shape) > 0.3, _random(rng, shape), -np.inf).astype(dtype))
        if dtype == np.bool_:
            feeds["mask"][..., 0, :] = False  # one fully masked row: zeros, not NaN
        inputs[3] = "mask"
    if past:  # 4-D inputs: the cache is [B, H_kv, past, D]
        b, h, _, d = k_shape
        feeds["past_k"] = _random(rng, (b, h, past, d))
        feeds["past_v"] = _random(rng, (b, h, past, v_shape[3]))
        inputs[4:6] = ["past_k", "past_v"]
    while not inputs[-1]:
        inputs.pop()
    outputs = ["y", "present_k", "present_v", "qk"] if past else ["y", "", "", "qk"]
    node = helper.make_node("Attention", inputs, outputs, **attrs)
    value_infos = [tensor(name, value.dtype, value.shape) for name, value in feeds.items()]
    expected = ReferenceEvaluator(make_model(
        [node], value_infos, [helper.make_tensor_value_info(o, 1, None) for o in outputs if o],
        opset=24, check=False)).run(None, feeds)
    model = make_model([node], value_infos,
                       [tensor(o, np.float32, e.shape) for o, e in zip([o for o in outputs if o], expected)],
                       opset=24)
    actual = compile_and_run(model, feeds)
    for a, e in zip(actual, expected):
        assert a.shape == e.shape
        np.testing.assert_allclose(a, e, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("attrs", [{"is_causal": 1}, {}])
def test_attention_run_time_nonpad_lengths(compile_and_run, attrs):
    """An external cache: nonpad_kv_seqlen fed at run time masks each batch's padding keys and
    moves its causal frontier to the last valid key."""
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(17)
    feeds = {"q": _random(rng, (2, 2, 3, 8)), "k": _random(rng, (2, 2, 7, 8)),
             "v": _random(rng, (2, 2, 7, 4)), "lens": np.array([5, 7], np.int64)}
    node = helper.make_node("Attention", ["q", "k", "v", "", "", "", "lens"], ["y"], **attrs)
    value_infos = [tensor(name, value.dtype, value.shape) for name, value in feeds.items()]
    model = make_model([node], value_infos, [tensor("y", np.float32, (2, 2, 3, 4))], opset=24)
    (expected,) = ReferenceEvaluator(model).run(None, feeds)
    (y,) = compile_and_run(model, feeds)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-5)


def test_batch_norm_training_mode(compile_and_run):
    """training_mode=1: the batch's own mean and population variance normalize, and the running
    statistics are updated with momentum; against onnx's reference (onnxruntime's inference
    build has no training mode)."""
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(8)
    x = _random(rng, (3, 4, 5, 2), 2.0) + 1.0
    feeds = {"x": x, "scale": _random(rng, (4,)), "bias": _random(rng, (4,)),
             "mean": _random(rng, (4,)), "var": np.abs(_random(rng, (4,))) + 0.5}
    names = ["y", "running_mean", "running_var"]
    model = make_model([helper.make_node("BatchNormalization", list(feeds), names, training_mode=1,
                                         momentum=0.8, epsilon=1e-3)],
                       [tensor(k, np.float32, v.shape) for k, v in feeds.items()],
                       [tensor(name, np.float32, x.shape if name == "y" else (4,)) for name in names],
                       opset=15)
    expected = ReferenceEvaluator(model).run(None, feeds)
    for got, want in zip(compile_and_run(model, feeds), expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
