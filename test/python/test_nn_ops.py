"""Neural-network ops against onnxruntime: Conv, pooling, normalization, Gemm, MatMul, Softmax,
Dropout."""

import numpy as np
import pytest
from onnx import helper, numpy_helper

from conftest import assert_close, make_model, ort_run, tensor


def _random(rng, shape, scale=1.0):
    return np.asarray(rng.standard_normal(shape) * scale, np.float32)


def _out_shape(node, inputs, opset=13, initializers=()):
    """The output shape, taken from onnxruntime on a model with an unknown-shape output."""
    model = make_model([node], [tensor(n, np.float32, a.shape) for n, a in inputs.items()],
                       [helper.make_tensor_value_info("y", 1, None)], opset=opset,
                       initializers=initializers, check=False)
    return ort_run(model, inputs)[0].shape


def _single_node(node, x, opset=13, weights=()):
    """A model of one node on input `x`, the other operands initializers; feeds for it."""
    inits = [numpy_helper.from_array(w, n) for n, w in weights]
    shape = _out_shape(node, {"x": x}, opset, inits)
    model = make_model([node], [tensor("x", np.float32, x.shape)], [tensor("y", np.float32, shape)],
                       opset=opset, initializers=inits)
    return model, {"x": x}


CONV_CASES = [
    # (input shape, weight shape, attributes, bias)
    ((1, 3, 8, 8), (4, 3, 3, 3), {}, True),
    ((2, 3, 9, 7), (5, 3, 3, 3), {"pads": [1, 1, 1, 1]}, True),
    ((1, 4, 10, 10), (6, 4, 3, 3), {"strides": [2, 2], "pads": [1, 0, 1, 0]}, False),
    ((1, 2, 11, 11), (3, 2, 3, 3), {"dilations": [2, 2]}, True),
    ((1, 2, 12, 12), (4, 2, 5, 3), {"strides": [3, 2], "dilations": [1, 2], "pads": [2, 1, 0, 1]}, True),
    ((1, 6, 8, 8), (6, 2, 3, 3), {"group": 3, "pads": [1, 1, 1, 1]}, True),
    ((2, 8, 7, 7), (8, 1, 3, 3), {"group": 8, "pads": [1, 1, 1, 1]}, True),  # depthwise
    ((1, 4, 6, 6), (8, 1, 3, 3), {"group": 4}, False),  # depthwise, channel multiplier 2
    ((1, 3, 5, 5), (7, 3, 1, 1), {}, False),  # pointwise
    ((1, 3, 9, 9), (4, 3, 3, 3), {"auto_pad": "SAME_UPPER", "strides": [2, 2]}, True),
    ((1, 3, 8, 8), (4, 3, 4, 4), {"auto_pad": "SAME_LOWER"}, True),
    ((1, 3, 8, 8), (4, 3, 3, 3), {"auto_pad": "VALID"}, False),
    ((1, 3, 16), (4, 3, 5), {"pads": [2, 2], "strides": [2]}, True),  # 1-D
    # 16+ input channels: NHWC GEMMs against HWCF filters (mlc-nhwc-layout), with
    # tile edges in rows (OH*OW = 63, 25) and in filters (F = 40, 19).
    ((1, 16, 9, 7), (40, 16, 3, 3), {"pads": [1, 1, 1, 1]}, True),
    ((1, 32, 10, 10), (19, 32, 3, 3), {"strides": [2, 2], "pads": [1, 1, 0, 0]}, True),
    ((1, 24, 11, 11), (8, 24, 3, 3), {"dilations": [2, 2], "pads": [1, 1, 1, 1]}, False),
    ((1, 16, 12, 12), (33, 16, 1, 1), {"strides": [2, 2]}, True),  # strided 1x1
    ((1, 20, 9, 9), (16, 20, 5, 3), {"strides": [2, 1], "pads": [2, 1, 2, 1]}, True),
    # F in column panels (32, 64, or 48 padded to 64): the panel kernel gathers its rows from
    # the padded input in place (panel_gemm.ConvRows); per-tap runs when dilated; RGB stems
    # that small_conv does not take (7x7, or stride 1) too.
    ((1, 16, 9, 7), (64, 16, 3, 3), {"pads": [1, 1, 1, 1]}, True),
    ((1, 32, 10, 11), (48, 32, 3, 3), {"strides": [2, 2], "pads": [1, 1, 0, 0]}, True),
    ((1, 24, 11, 11), (32, 24, 3, 3), {"dilations": [2, 2], "pads": [1, 1, 1, 1]}, False),
    ((1, 16, 12, 12), (32, 16, 1, 1), {"strides": [2, 2]}, True),
    ((1, 20, 9, 9), (32, 20, 5, 3), {"strides": [2, 1], "dilations": [1, 2], "pads": [2, 1, 2, 1]}, True),
    ((1, 3, 20, 18), (32, 3, 7, 7), {"strides": [2, 2], "pads": [3, 3, 3, 3]}, True),
    ((1, 3, 9, 9), (64, 3, 3, 3), {"pads": [1, 1, 1, 1]}, False),
    # Depthwise on one image: one fused kernel (mlc.passes.schedule.depthwise); width strides
    # through column phases, odd widths (a phase one column short), dilations, a 5x5 kernel.
    ((1, 24, 9, 9), (24, 1, 3, 3), {"group": 24, "strides": [2, 2], "pads": [1, 1, 1, 1]}, True),
    ((1, 16, 11, 10), (16, 1, 3, 3), {"group": 16, "strides": [1, 2]}, False),
    ((1, 8, 13, 13), (8, 1, 5, 5), {"group": 8, "strides": [3, 3], "pads": [2, 2, 2, 2]}, True),
    ((1, 8, 12, 12), (8, 1, 3, 3), {"group": 8, "dilations": [2, 2], "strides": [2, 2]}, True),
    ((1, 5, 40, 37), (5, 1, 3, 3), {"group": 5, "pads": [1, 1, 1, 1]}, False),
]


@pytest.mark.parametrize("x_shape,w_shape,attrs,bias", CONV_CASES,
                         ids=[f"conv{i}" for i in range(len(CONV_CASES))])
def test_conv(check_against_ort, x_shape, w_shape, attrs, bias):
    rng = np.random.default_rng(0)
    weights = [("w", _random(rng, w_shape))]
    if bias:
        weights.append(("b", _random(rng, (w_shape[0],))))
    node = helper.make_node("Conv", ["x", "w"] + (["b"] if bias else []), ["y"], **attrs)
    check_against_ort(*_single_node(node, _random(rng, x_shape), weights=weights))


def test_conv_weight_as_input(check_against_ort):
    """Weights fed at run time rather than stored in the model."""
    rng = np.random.default_rng(1)
    node = helper.make_node("Conv", ["x", "w", "b"], ["y"], pads=[1, 1, 1, 1])
    model = make_model([node], [tensor("x", np.float32, (1, 2, 5, 5)), tensor("w", np.float32, (3, 2, 3, 3)),
                                tensor("b", np.float32, (3,))], [tensor("y", np.float32, (1, 3, 5, 5))])
    check_against_ort(model, {"x": _random(rng, (1, 2, 5, 5)), "w": _random(rng, (3, 2, 3, 3)),
                              "b": _random(rng, (3,))})


@pytest.mark.parametrize("shape", [(1, 3, 4, 4), (2, 5, 3, 7), (4, 6)])
@pytest.mark.parametrize("opset", [9, 15])
def test_batch_norm(check_against_ort, shape, opset):
    rng = np.random.default_rng(2)
    c = shape[1]
    weights = [("scale", _random(rng, (c,))), ("bias", _random(rng, (c,))),
               ("mean", _random(rng, (c,))), ("var", np.asarray(rng.random(c) + 0.5, np.float32))]
    node = helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"],
                            epsilon=1e-3)
    check_against_ort(*_single_node(node, _random(rng, shape), opset, weights))


def test_batch_norm_runtime_stats(check_against_ort):
    rng = np.random.default_rng(3)
    names = ["x", "scale", "bias", "mean", "var"]
    shapes = [(2, 3, 4, 4)] + [(3,)] * 4
    node = helper.make_node("BatchNormalization", names, ["y"])
    model = make_model([node], [tensor(n, np.float32, s) for n, s in zip(names, shapes)],
                       [tensor("y", np.float32, shapes[0])])
    feeds = {n: _random(rng, s) for n, s in zip(names, shapes)}
    feeds["var"] = np.abs(feeds["var"]) + np.float32(0.1)
    check_against_ort(model, feeds)


MAX_POOL_CASES = [
    ((1, 2, 8, 8), {"kernel_shape": [2, 2], "strides": [2, 2]}),
    ((2, 3, 7, 7), {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ((1, 2, 7, 7), {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}),
    ((1, 2, 6, 9), {"kernel_shape": [2, 3], "strides": [2, 3], "ceil_mode": 1, "pads": [0, 1, 0, 1]}),
    ((1, 2, 9, 9), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ((1, 2, 8, 8), {"kernel_shape": [2, 2], "auto_pad": "SAME_UPPER"}),
    ((1, 2, 8, 8), {"kernel_shape": [3, 3], "auto_pad": "SAME_LOWER"}),
    ((1, 2, 10, 10), {"kernel_shape": [3, 3], "dilations": [2, 2]}),
    ((1, 3, 12), {"kernel_shape": [3], "strides": [2], "pads": [1, 1]}),  # 1-D
]


@pytest.mark.parametrize("shape,attrs", MAX_POOL_CASES, ids=[f"maxpool{i}" for i in range(len(MAX_POOL_CASES))])
def test_max_pool(check_against_ort, shape, attrs):
    rng = np.random.default_rng(4)
    # All-negative inputs: padding must not leak zeros into the max.
    x = -np.abs(_random(rng, shape)) - np.float32(1)
    check_against_ort(*_single_node(helper.make_node("MaxPool", ["x"], ["y"], **attrs), x, opset=12))


def test_max_pool_opset8(check_against_ort):
    rng = np.random.default_rng(5)
    node = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2])
    check_against_ort(*_single_node(node, _random(rng, (1, 2, 9, 9)), opset=8))


AVG_POOL_CASES = [
    ((1, 2, 8, 8), {"kernel_shape": [2, 2], "strides": [2, 2]}),
    ((1, 2, 7, 7), {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 0}),
    ((1, 2, 7, 7), {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1}),
    ((2, 3, 9, 8), {"kernel_shape": [3, 2], "strides": [2, 2], "pads": [1, 0, 1, 1], "count_include_pad": 1}),
    ((1, 2, 7, 7), {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}),
    ((1, 2, 9, 9), {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ((1, 3, 10), {"kernel_shape": [4], "strides": [3], "pads": [1, 2]}),  # 1-D
]


@pytest.mark.parametrize("shape,attrs", AVG_POOL_CASES, ids=[f"avgpool{i}" for i in range(len(AVG_POOL_CASES))])
def test_average_pool(check_against_ort, shape, attrs):
    rng = np.random.default_rng(6)
    node = helper.make_node("AveragePool", ["x"], ["y"], **attrs)
    check_against_ort(*_single_node(node, _random(rng, shape) + np.float32(2), opset=11))


@pytest.mark.parametrize("shape", [(1, 3, 4, 4), (2, 5, 7, 3), (1, 4, 9), (2, 2, 3, 3, 3)])
def test_global_average_pool(check_against_ort, shape):
    rng = np.random.default_rng(7)
    check_against_ort(*_single_node(helper.make_node("GlobalAveragePool", ["x"], ["y"]),
                                    _random(rng, shape)))


@pytest.mark.parametrize("filters,size", [(16, 23), (40, 18)])
def test_rgb_stem_conv_clip(check_against_ort, filters, size):
    """An RGB stem (3 channels, 3x3, stride 2) with its bias and Clip: one direct row kernel
    over all filters (blocks of 24 accumulators), no im2col (mlc.passes.schedule.small_conv)."""
    rng = np.random.default_rng(17)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], strides=[2, 2], pads=[1, 1, 1, 1]),
             helper.make_node("Clip", ["c", "lo", "hi"], ["y"])]
    out = (size + 2 - 3) // 2 + 1
    inits = {"w": _random(rng, (filters, 3, 3, 3)), "b": _random(rng, (filters,)),
             "lo": np.array(0, np.float32), "hi": np.array(6, np.float32)}
    model = make_model(nodes, [tensor("x", np.float32, (1, 3, size, size))],
                       [tensor("y", np.float32, (1, filters, out, out))],
                       initializers=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    check_against_ort(model, {"x": _random(rng, (1, 3, size, size)) * np.float32(3)})


@pytest.mark.parametrize("filters,size,pads", [(64, 25, [0, 0, 0, 0]), (24, 20, [1, 1, 1, 1])])
def test_rgb_stem_before_3x3_conv(check_against_ort, filters, size, pads):
    """SqueezeNet's start: an RGB stem, ReLU, max pool, then a 3x3 conv: the stem joins the
    3x3 conv's NHWC region (mlc-nhwc-layout), an NHWC GEMM reading its input rows in place."""
    rng = np.random.default_rng(18)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], strides=[2, 2], pads=pads),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[3, 3], strides=[2, 2]),
             helper.make_node("Conv", ["p", "w2"], ["y"], pads=[1, 1, 1, 1])]
    stem = (size + pads[0] + pads[2] - 3) // 2 + 1
    out = (stem - 3) // 2 + 1
    inits = {"w": _random(rng, (filters, 3, 3, 3)), "b": _random(rng, (filters,)),
             "w2": _random(rng, (16, filters, 3, 3), 0.1)}
    model = make_model(nodes, [tensor("x", np.float32, (1, 3, size, size))],
                       [tensor("y", np.float32, (1, 16, out, out))],
                       initializers=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    check_against_ort(model, {"x": _random(rng, (1, 3, size, size))})


@pytest.mark.parametrize("strides", [[2, 2], [1, 3]])
def test_depthwise_then_add(check_against_ort, strides):
    """A width-strided depthwise conv whose consumer reads a second tensor: taps from the
    input's column phases, the add fused into the same kernel."""
    rng = np.random.default_rng(16)
    c, size = 12, 15
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], group=c, strides=strides,
                              pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c", "r"], ["y"])]
    out = [(size + 2 - 3) // s + 1 for s in strides]
    model = make_model(nodes, [tensor("x", np.float32, (1, c, size, size)),
                               tensor("r", np.float32, (1, c, *out))],
                       [tensor("y", np.float32, (1, c, *out))],
                       initializers=[numpy_helper.from_array(_random(rng, (c, 1, 3, 3)), "w")])
    check_against_ort(model, {"x": _random(rng, (1, c, size, size)),
                              "r": _random(rng, (1, c, *out))})


@pytest.mark.parametrize("shape", [(1, 40, 14, 14), (2, 5, 3, 37)])
def test_clip_then_global_average_pool(check_against_ort, shape):
    """MobileNet's head: the ReLU6 fuses into the pool's sum, which the schedule splits into
    one vectorized pass over the rows and a small sum (mlc.passes.schedule.reduction)."""
    rng = np.random.default_rng(15)
    nodes = [helper.make_node("Clip", ["x", "lo", "hi"], ["c"]),
             helper.make_node("GlobalAveragePool", ["c"], ["y"])]
    model = make_model(nodes, [tensor("x", np.float32, shape)],
                       [tensor("y", np.float32, (*shape[:2], 1, 1))],
                       initializers=[numpy_helper.from_array(np.array(0, np.float32), "lo"),
                                     numpy_helper.from_array(np.array(6, np.float32), "hi")])
    check_against_ort(model, {"x": _random(rng, shape) * np.float32(4)})


@pytest.mark.parametrize("shape,size", [((1, 6, 4, 4), 3), ((2, 10, 3, 5), 5), ((1, 3, 2, 2), 5),
                                        ((1, 64, 13, 19), 5)])
def test_lrn(check_against_ort, shape, size):
    rng = np.random.default_rng(8)
    node = helper.make_node("LRN", ["x"], ["y"], size=size, alpha=1e-3, beta=0.75, bias=2.0)
    check_against_ort(*_single_node(node, _random(rng, shape, 3.0)))


def test_lrn_defaults(check_against_ort):
    rng = np.random.default_rng(9)
    check_against_ort(*_single_node(helper.make_node("LRN", ["x"], ["y"], size=3),
                                    _random(rng, (1, 5, 3, 3))))


GEMM_CASES = [
    # (A shape, B shape, C shape or None, attributes)
    ((3, 4), (4, 5), (5,), {}),
    ((4, 3), (4, 5), (3, 5), {"transA": 1}),
    ((3, 4), (5, 4), (1, 5), {"transB": 1}),
    ((4, 3), (5, 4), (3, 1), {"transA": 1, "transB": 1}),
    ((3, 4), (4, 5), (), {"alpha": 0.5, "beta": 2.0}),
    ((3, 4), (4, 5), (3, 5), {"beta": 0.0}),
    ((2, 6), (6, 3), None, {"alpha": 1.5}),
    ((1, 8), (10, 8), (10,), {"transB": 1, "alpha": 0.25, "beta": 0.5}),
]


@pytest.mark.parametrize("a_shape,b_shape,c_shape,attrs", GEMM_CASES, ids=[f"gemm{i}" for i in range(len(GEMM_CASES))])
@pytest.mark.parametrize("weights", ["inputs", "initializers"])
def test_gemm(check_against_ort, a_shape, b_shape, c_shape, attrs, weights):
    rng = np.random.default_rng(10)
    values = {"a": _random(rng, a_shape), "b": _random(rng, b_shape)}
    if c_shape is not None:
        values["c"] = _random(rng, c_shape)
    node = helper.make_node("Gemm", list(values), ["y"], **attrs)
    m = a_shape[1] if attrs.get("transA") else a_shape[0]
    n = b_shape[0] if attrs.get("transB") else b_shape[1]
    if weights == "inputs":
        model = make_model([node], [tensor(k, np.float32, v.shape) for k, v in values.items()],
                           [tensor("y", np.float32, (m, n))], opset=11)
        feeds = values
    else:  # A fed, B and C stored: the common fully-connected layer
        inits = [numpy_helper.from_array(v, k) for k, v in values.items() if k != "a"]
        model = make_model([node], [tensor("a", np.float32, a_shape)], [tensor("y", np.float32, (m, n))],
                           opset=11, initializers=inits)
        feeds = {"a": values["a"]}
    check_against_ort(model, feeds)


MATMUL_CASES = [
    ((3, 4), (4, 5)),
    ((1, 7), (7, 1)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),          # broadcast batch on the right
    ((4, 5), (3, 5, 2)),          # ...and on the left
    ((2, 1, 3, 4), (1, 5, 4, 6)),  # both sides broadcast
    ((4,), (4, 3)),               # 1-D left operand
    ((2, 3, 4), (4,)),            # 1-D right operand
    ((5,), (5,)),                 # both 1-D: a scalar
    ((64, 33), (33, 65)),
]


@pytest.mark.parametrize("a_shape,b_shape", MATMUL_CASES, ids=[f"matmul{i}" for i in range(len(MATMUL_CASES))])
def test_matmul(check_against_ort, a_shape, b_shape):
    rng = np.random.default_rng(11)
    a, b = _random(rng, a_shape), _random(rng, b_shape)
    model = make_model([helper.make_node("MatMul", ["a", "b"], ["y"])],
                       [tensor("a", np.float32, a_shape), tensor("b", np.float32, b_shape)],
                       [tensor("y", np.float32, np.matmul(a, b).shape)])
    check_against_ort(model, {"a": a, "b": b})


def test_matmul_weight(check_against_ort):
    rng = np.random.default_rng(12)
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    check_against_ort(*_single_node(node, _random(rng, (2, 3, 8)), weights=[("w", _random(rng, (8, 6)))]))


SOFTMAX_CASES = [
    # (opset, shape, axis or None for the default)
    (11, (2, 3, 4), 1),    # opset < 13: normalizes over the flattened dims 1 and 2
    (11, (2, 3, 4), None),  # opset < 13 default axis is 1
    (11, (2, 3, 4), 2),
    (11, (3, 5), -1),
    (11, (2, 3, 4, 5), 0),
    (13, (2, 3, 4), 1),    # opset 13: one axis only
    (13, (2, 3, 4), None),  # default axis -1
    (13, (2, 3, 4), 0),
    (13, (2, 3, 4, 5), -2),
    (13, (10,), 0),
]


@pytest.mark.parametrize("opset,shape,axis", SOFTMAX_CASES, ids=[f"softmax{i}" for i in range(len(SOFTMAX_CASES))])
def test_softmax(check_against_ort, opset, shape, axis):
    rng = np.random.default_rng(13)
    attrs = {} if axis is None else {"axis": axis}
    node = helper.make_node("Softmax", ["x"], ["y"], **attrs)
    check_against_ort(*_single_node(node, _random(rng, shape, 4.0), opset=opset))


def test_softmax_large_values(check_against_ort):
    """Inputs whose exp overflows float32 must still give finite probabilities."""
    x = np.array([[1000.0, 999.0, -1000.0], [88.0, 89.0, 90.0]], np.float32)
    check_against_ort(*_single_node(helper.make_node("Softmax", ["x"], ["y"], axis=1), x))


@pytest.mark.parametrize("opset,mask", [(7, False), (10, True), (12, False), (13, True)])
def test_dropout(compile_and_run, opset, mask):
    """Inference-mode Dropout: identity, and an all-true mask when asked for."""
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(14)
    attrs = {"ratio": 0.3} if opset < 12 else {}
    outputs = [tensor("y", np.float32, (3, 4))]
    if mask:
        outputs.append(tensor("mask", np.bool_, (3, 4)))
    node = helper.make_node("Dropout", ["x"], [o.name for o in outputs], **attrs)
    relu = helper.make_node("Relu", ["y"], ["z"])
    model = make_model([node, relu], [tensor("x", np.float32, (3, 4))],
                       outputs + [tensor("z", np.float32, (3, 4))], opset=opset)
    feeds = {"x": _random(rng, (3, 4))}
    # onnxruntime's Dropout-10 returns an all-false mask at inference; the ONNX reference (and
    # Dropout-12's spec) an all-true one, which mlc follows.
    expected = ReferenceEvaluator(model).run(None, feeds)
    np.testing.assert_array_equal(expected[0], ort_run(model, feeds)[0])
    assert_close(compile_and_run(model, feeds), expected)


def test_small_cnn(check_against_ort):
    """Conv -> BatchNorm -> Relu -> MaxPool -> Flatten -> Gemm -> Softmax, weights stored."""
    rng = np.random.default_rng(15)
    weights = {"w": _random(rng, (4, 3, 3, 3), 0.3), "cb": _random(rng, (4,)),
               "s": _random(rng, (4,)), "bb": _random(rng, (4,)), "m": _random(rng, (4,)),
               "v": np.asarray(rng.random(4) + 0.5, np.float32),
               "fw": _random(rng, (10, 4 * 4 * 4), 0.2), "fb": _random(rng, (10,))}
    nodes = [
        helper.make_node("Conv", ["x", "w", "cb"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "s", "bb", "m", "v"], ["n"]),
        helper.make_node("Relu", ["n"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["g"], transB=1),
        helper.make_node("Softmax", ["g"], ["y"]),
    ]
    model = make_model(nodes, [tensor("x", np.float32, (2, 3, 8, 8))], [tensor("y", np.float32, (2, 10))],
                       initializers=[numpy_helper.from_array(v, k) for k, v in weights.items()])
    check_against_ort(model, {"x": _random(rng, (2, 3, 8, 8))})


@pytest.mark.parametrize("trans_b", [0, 1])
def test_flatten_then_gemm(check_against_ort, trans_b):
    """A CNN's classifier head: reshape propagation folds the Flatten into the Gemm, and the
    schedule turns the resulting generic back into a matmul."""
    rng = np.random.default_rng(9)
    w = _random(rng, (40, 8 * 3 * 3) if trans_b else (8 * 3 * 3, 40), 0.1)
    nodes = [helper.make_node("Flatten", ["x"], ["f"]),
             helper.make_node("Gemm", ["f", "w", "b"], ["g"], transB=trans_b),
             helper.make_node("Relu", ["g"], ["y"])]
    model = make_model(nodes, [tensor("x", np.float32, (1, 8, 3, 3))], [tensor("y", np.float32, (1, 40))],
                       initializers=[numpy_helper.from_array(w, "w"),
                                     numpy_helper.from_array(_random(rng, (40,)), "b")])
    check_against_ort(model, {"x": _random(rng, (1, 8, 3, 3))})


def test_global_average_pool_then_gemm(check_against_ort):
    """ResNet's head: elementwise fusion pulls the pool's 1/(H*W) into the classifier's
    contraction; the schedule splits it off again and runs a matmul."""
    rng = np.random.default_rng(10)
    nodes = [helper.make_node("GlobalAveragePool", ["x"], ["p"]),
             helper.make_node("Flatten", ["p"], ["f"]),
             helper.make_node("Gemm", ["f", "w", "b"], ["y"], transB=1)]
    model = make_model(nodes, [tensor("x", np.float32, (1, 48, 7, 7))], [tensor("y", np.float32, (1, 40))],
                       initializers=[numpy_helper.from_array(_random(rng, (40, 48), 0.1), "w"),
                                     numpy_helper.from_array(_random(rng, (40,)), "b")])
    check_against_ort(model, {"x": _random(rng, (1, 48, 7, 7))})


@pytest.mark.parametrize("stride,pads", [(1, [1, 1, 1, 1]), (2, [1, 1, 1, 1]), (2, [0, 2, 1, 0]),
                                         (1, [2, 0, 0, 3])])
def test_depthwise_bn_clip(check_against_ort, stride, pads):
    """MobileNet's depthwise block: conv, BatchNorm (folded into the bias) and Clip(0, 6) in
    one fused kernel, which reads its input (a ReLU's result) unpadded: kernel rows in the
    padding are skipped, columns in it read as zeros."""
    rng = np.random.default_rng(14)
    c = 24
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Conv", ["r", "w"], ["c"], group=c, strides=[stride, stride],
                              pads=pads),
             helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]),
             helper.make_node("Clip", ["n", "lo", "hi"], ["y"])]
    out_h = (19 + pads[0] + pads[2] - 3) // stride + 1
    out_w = (19 + pads[1] + pads[3] - 3) // stride + 1
    inits = {"w": _random(rng, (c, 1, 3, 3)), "s": rng.uniform(0.5, 1.5, c).astype(np.float32),
             "b": _random(rng, (c,)), "m": _random(rng, (c,)),
             "v": rng.uniform(0.5, 1.5, c).astype(np.float32),
             "lo": np.array(0, np.float32), "hi": np.array(6, np.float32)}
    model = make_model(nodes, [tensor("x", np.float32, (1, c, 19, 19))],
                       [tensor("y", np.float32, (1, c, out_h, out_w))],
                       initializers=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    check_against_ort(model, {"x": _random(rng, (1, c, 19, 19))})


@pytest.mark.parametrize("size,kernel,stride,dilation,pads", [
    ((3, 3), 3, 1, 1, [1, 1, 1, 1]),     # every output row a border row
    ((40, 37), 3, 1, 1, [1, 1, 1, 1]),   # loops over whole vectors between the edges
    ((21, 45), 5, 2, 1, [2, 2, 2, 2]),
    ((17, 17), 3, 1, 2, [2, 2, 2, 2]),   # dilated: two border rows each side
    ((9, 9), 3, 1, 1, [3, 3, 3, 3]),     # rows and columns wholly in the padding
    ((12, 20), 3, 2, 1, [0, 1, 1, 0]),   # an odd padding: one side only
])
def test_depthwise_unpadded(check_against_ort, size, kernel, stride, dilation, pads):
    """A depthwise conv and its Clip read a padded input where it lies unpadded, in every
    shape of border: rows skipped, the first columns shifted in as zeros, the last masked."""
    rng = np.random.default_rng(15)
    c, (h, w) = 8, size
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Conv", ["r", "w", "b"], ["c"], group=c, strides=[stride] * 2,
                              dilations=[dilation] * 2, pads=pads),
             helper.make_node("Clip", ["c", "lo", "hi"], ["y"])]
    span = dilation * (kernel - 1) + 1
    out = [(h + pads[0] + pads[2] - span) // stride + 1, (w + pads[1] + pads[3] - span) // stride + 1]
    inits = {"w": _random(rng, (c, 1, kernel, kernel)), "b": _random(rng, (c,)),
             "lo": np.array(0, np.float32), "hi": np.array(6, np.float32)}
    model = make_model(nodes, [tensor("x", np.float32, (1, c, h, w))],
                       [tensor("y", np.float32, (1, c, *out))],
                       initializers=[numpy_helper.from_array(v, k) for k, v in inits.items()])
    check_against_ort(model, {"x": _random(rng, (1, c, h, w))})


@pytest.mark.parametrize("tail", [["Relu"], ["Add", "Relu"], ["Sigmoid"]])
def test_conv_epilogue(check_against_ort, tail):
    """The NHWC conv's output pass absorbs its only elementwise consumer (a ReLU, a residual
    add and ReLU, a sigmoid)."""
    rng = np.random.default_rng(13)
    nodes, last = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1])], "c"
    for i, op in enumerate(tail):
        inputs = [last, "x"] if op == "Add" else [last]
        nodes.append(helper.make_node(op, inputs, [f"t{i}"]))
        last = f"t{i}"
    nodes[-1].output[0] = "y"
    model = make_model(nodes, [tensor("x", np.float32, (1, 16, 9, 9))], [tensor("y", np.float32, (1, 16, 9, 9))],
                       initializers=[numpy_helper.from_array(_random(rng, (16, 16, 3, 3), 0.1), "w"),
                                     numpy_helper.from_array(_random(rng, (16,)), "b")])
    check_against_ort(model, {"x": _random(rng, (1, 16, 9, 9))})


@pytest.mark.parametrize("op, pool", [
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2]}),
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}),
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [1, 1], "pads": [1, 1, 1, 1]}),
    ("MaxPool", {"kernel_shape": [2, 3], "strides": [1, 2], "dilations": [2, 1], "pads": [0, 1, 1, 0]}),
    ("AveragePool", {"kernel_shape": [3, 3], "strides": [1, 1], "pads": [1, 1, 1, 1]}),
    ("AveragePool", {"kernel_shape": [3, 3], "strides": [1, 1], "pads": [1, 1, 1, 1],
                     "count_include_pad": 1}),
    ("AveragePool", {"kernel_shape": [2, 2], "strides": [2, 2]}),
    ("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 1, 1, 0],
                     "ceil_mode": 1}),
])
def test_pool_between_nhwc_convs(check_against_ort, op, pool):
    """conv 3x3 -> ReLU -> pool -> conv 1x1: mlc-nhwc-layout runs the pool on the NHWC image
    (mlc.max_pool_nhwc or mlc.avg_pool_nhwc, two passes along the channels) between the
    NHWC convs; an average's divisor counts the padding or not (count_include_pad)."""
    rng = np.random.default_rng(17)
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node(op, ["r"], ["p"], **pool),
             helper.make_node("Conv", ["p", "w2"], ["y"])]
    inits = [numpy_helper.from_array(_random(rng, (32, 16, 3, 3), 0.1), "w1"),
             numpy_helper.from_array(_random(rng, (32, 32, 1, 1), 0.1), "w2")]
    x = _random(rng, (1, 16, 11, 10))
    probe = make_model(nodes, [tensor("x", np.float32, x.shape)],
                       [helper.make_tensor_value_info("y", 1, None)], initializers=inits, check=False)
    shape = ort_run(probe, {"x": x})[0].shape
    model = make_model(nodes, [tensor("x", np.float32, x.shape)], [tensor("y", np.float32, shape)],
                       initializers=inits)
    check_against_ort(model, {"x": x})
