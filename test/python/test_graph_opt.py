"""Graph-level optimization against onnxruntime: BatchNorm folded into conv weights (with and
without a conv bias, grouped convs, a residual Add and Relu after it), matmul weights stored
as column panels, and their records."""

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from conftest import make_model, tensor
from mlc.driver import compile_model
from mlc.options import CompileOptions
from mlc.target import resolve


def _conv_bn_model(rng, channels, group, bias):
    x_shape, w_shape = (1, channels, 9, 9), (channels, channels // group, 3, 3)
    weights = {"w": rng.standard_normal(w_shape) * 0.2, "scale": rng.uniform(0.5, 1.5, channels),
               "beta": rng.standard_normal(channels), "mean": rng.standard_normal(channels),
               "var": rng.uniform(0.5, 1.5, channels)}
    if bias:
        weights["b"] = rng.standard_normal(channels)
    inits = [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in weights.items()]
    nodes = [
        helper.make_node("Conv", ["x", "w"] + (["b"] if bias else []), ["c"], pads=[1, 1, 1, 1],
                         group=group, name="conv"),
        helper.make_node("BatchNormalization", ["c", "scale", "beta", "mean", "var"], ["n"],
                         epsilon=1e-3, name="bn"),
        helper.make_node("Add", ["n", "x"], ["a"], name="add"),
        helper.make_node("Relu", ["a"], ["y"], name="relu"),
    ]
    model = make_model(nodes, [tensor("x", np.float32, x_shape)],
                       [tensor("y", np.float32, x_shape)], initializers=inits)
    return model, {"x": np.asarray(rng.standard_normal(x_shape), np.float32)}


@pytest.mark.parametrize("channels, group, bias", [(8, 1, True), (16, 1, False), (8, 2, True)])
def test_conv_batch_norm_folded(check_against_ort, channels, group, bias):
    rng = np.random.default_rng(channels + group)
    check_against_ort(*_conv_bn_model(rng, channels, group, bias), rtol=1e-4, atol=1e-4)


def test_batch_norm_without_conv(check_against_ort):
    """A BatchNorm after a Concat (DenseNet's) becomes a per-channel multiply-add."""
    rng = np.random.default_rng(1)
    stats = {"scale": rng.uniform(0.5, 1.5, 6), "beta": rng.standard_normal(6),
             "mean": rng.standard_normal(6), "var": rng.uniform(0.5, 1.5, 6)}
    inits = [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in stats.items()]
    nodes = [helper.make_node("Concat", ["x", "x"], ["c"], axis=1),
             helper.make_node("BatchNormalization", ["c", "scale", "beta", "mean", "var"], ["n"]),
             helper.make_node("Relu", ["n"], ["y"])]
    model = make_model(nodes, [tensor("x", np.float32, (1, 3, 5, 7))],
                       [tensor("y", np.float32, (1, 6, 5, 7))], initializers=inits)
    x = np.asarray(rng.standard_normal((1, 3, 5, 7)), np.float32)
    check_against_ort(model, {"x": x}, rtol=1e-4, atol=1e-5)


def _conv_scale_shift_model(rng, scale_shape, unsqueeze):
    """conv -> Mul(scale) -> Add(shift) -> Relu, the affine part of a BatchNorm as Inception-v2
    exports it; the scale an Unsqueeze of a [C] initializer when `unsqueeze`."""
    c, x_shape = 8, (1, 4, 6, 6)
    weights = {"w": rng.standard_normal((c, 4, 3, 3)) * 0.3, "b": rng.standard_normal(c),
               "scale": rng.uniform(0.5, 1.5, (c,) if unsqueeze else scale_shape),
               "shift": rng.standard_normal((c, 1, 1)), "axes": np.array([1, 2])}
    inits = [numpy_helper.from_array(np.asarray(v, np.int64 if k == "axes" else np.float32), k)
             for k, v in weights.items()]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="conv")]
    if unsqueeze:
        nodes.append(helper.make_node("Unsqueeze", ["scale", "axes"], ["s"]))
    nodes += [helper.make_node("Mul", ["c", "s" if unsqueeze else "scale"], ["m"], name="mul"),
              helper.make_node("Add", ["shift", "m"], ["a"], name="add"),
              helper.make_node("Relu", ["a"], ["y"])]
    model = make_model(nodes, [tensor("x", np.float32, x_shape)],
                       [tensor("y", np.float32, (1, c, 6, 6))], initializers=inits)
    return model, {"x": np.asarray(rng.standard_normal(x_shape), np.float32)}


@pytest.mark.parametrize("scale_shape, unsqueeze", [((8, 1, 1), False), ((1, 8, 1, 1), False),
                                                    (None, True), ((1, 1, 6, 6), False)])
def test_conv_scale_shift(check_against_ort, scale_shape, unsqueeze):
    """A per-channel Mul and Add after a conv fold into its weights and bias (the last
    case's scale varies along the image, which does not fold: its Add still does not)."""
    model, feeds = _conv_scale_shift_model(np.random.default_rng(3), scale_shape, unsqueeze)
    check_against_ort(model, feeds, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("scale_shape, folded", [((8, 1, 1), True), ((1, 1, 6, 6), False)])
def test_scale_shift_folding_is_recorded(tmp_path, scale_shape, folded):
    model, _ = _conv_scale_shift_model(np.random.default_rng(0), scale_shape, False)
    onnx.save(model, tmp_path / "m.onnx")
    result = compile_model(tmp_path / "m.onnx", CompileOptions(resolve("native")), "linalg",
                           tmp_path / "m.linalg.mlir")
    graph = result.report.graph
    if folded:
        assert graph["mlc.mul at mul"] == "folded into mlc.conv at conv"
        assert graph["mlc.add at add"] == "folded into mlc.conv at conv"
    else:
        assert "mlc.mul at mul" not in graph and "mlc.add at add" not in graph


def test_folding_is_recorded(tmp_path):
    model, _ = _conv_bn_model(np.random.default_rng(0), 8, 1, False)
    onnx.save(model, tmp_path / "m.onnx")
    result = compile_model(tmp_path / "m.onnx", CompileOptions(resolve("native")), "linalg",
                           tmp_path / "m.linalg.mlir")
    assert result.report.graph["mlc.batch_norm at bn"] == "folded into mlc.conv at conv"
    assert "rsqrt" not in (tmp_path / "m.linalg.mlir").read_text()  # no normalization left


def _matmul_chain_model(rng, a_shape, k, n):
    """(x @ w1) @ w2 with constant weights: B [k, n], then [n, 40] (not a multiple of 32)."""
    inits = [numpy_helper.from_array(rng.standard_normal((k, n)).astype(np.float32), "w1"),
             numpy_helper.from_array(rng.standard_normal((n, 40)).astype(np.float32), "w2")]
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("MatMul", ["h", "w2"], ["y"])]
    model = make_model(nodes, [tensor("x", np.float32, (*a_shape, k))],
                       [tensor("y", np.float32, (*a_shape, 40))], initializers=inits)
    return model, {"x": rng.standard_normal((*a_shape, k)).astype(np.float32)}


# Rows that tiles divide and a remainder (37 = 32 + 5 on AVX-512), batch dims counted as rows,
# and a k long enough to be cut in blocks.
@pytest.mark.parametrize("a_shape, k, n", [((37,), 70, 96), ((2, 19), 64, 64), ((16,), 1536, 128)])
def test_matmul_on_column_panels(check_against_ort, a_shape, k, n):
    check_against_ort(*_matmul_chain_model(np.random.default_rng(k), a_shape, k, n),
                      rtol=1e-4, atol=1e-3)


def test_column_panels_are_recorded(tmp_path):
    model, _ = _matmul_chain_model(np.random.default_rng(0), (37,), 70, 96)
    onnx.save(model, tmp_path / "m.onnx")
    result = compile_model(tmp_path / "m.onnx", CompileOptions(resolve("x86-64-v4")), "affine",
                           tmp_path / "m.affine.mlir")
    assert result.report.graph["mlc-pack-matmul-weights"] == "1 matmul weight(s) stored as column panels"
    assert sum(line.startswith("panel GEMM") for line in result.report.schedule.values()) == 1


def _gemm_view_model(rng):
    """Inception-v1's classifier: Gemm(transB=1) of a [1, 1024] row by a weight stored
    [1, 1, 1000, 1024] and reshaped to [1000, 1024] in the graph (the importer leaves such a
    weight a reshape and a transpose of the constant; it folds no copies of weights)."""
    inits = [numpy_helper.from_array(rng.standard_normal((1, 1, 1000, 1024)).astype(np.float32), "w"),
             numpy_helper.from_array(np.array([1000, 1024], np.int64), "shape"),
             numpy_helper.from_array(rng.standard_normal(1000).astype(np.float32), "b")]
    nodes = [helper.make_node("Reshape", ["w", "shape"], ["w2"]),
             helper.make_node("Gemm", ["x", "w2", "b"], ["y"], transB=1)]
    model = make_model(nodes, [tensor("x", np.float32, (1, 1024))],
                       [tensor("y", np.float32, (1, 1000))], initializers=inits)
    return model, {"x": rng.standard_normal((1, 1024)).astype(np.float32)}


def test_weight_behind_a_view_gets_panels(check_against_ort, tmp_path):
    """The weight is stored as panels (no transpose left to run per inference)."""
    model, feeds = _gemm_view_model(np.random.default_rng(5))
    check_against_ort(model, feeds, rtol=1e-4, atol=1e-3)
    onnx.save(model, tmp_path / "m.onnx")
    result = compile_model(tmp_path / "m.onnx", CompileOptions(resolve("x86-64-v4")), "linalg",
                           tmp_path / "m.linalg.mlir")
    assert result.report.graph["mlc-pack-matmul-weights"] == "1 matmul weight(s) stored as column panels"
    assert "1000x1024" not in (tmp_path / "m.linalg.mlir").read_text()  # nor the old weight
