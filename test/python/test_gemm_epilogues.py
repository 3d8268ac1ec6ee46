"""GEMMs whose elementwise consumer runs on their accumulators (the panel kernel's epilogue),
against onnxruntime: bias + ReLU, a residual Add, Tanh, batch dims on A, rows that the
register tile does not divide, columns that panels do not divide; 1x1 convs with their bias
and ReLU; and the report saying so."""

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from conftest import make_model, tensor
from mlc.driver import compile_model
from mlc.options import CompileOptions
from mlc.target import resolve


def _model(rows: tuple, k: int, n: int, tail: str):
    """y = tail(x @ w + b) with x [*rows, k]; tail: relu, residual (+ r), tanh."""
    rng = np.random.default_rng(k + n)
    inits = [numpy_helper.from_array((rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal(n).astype(np.float32), "b")]
    nodes = [helper.make_node("MatMul", ["x", "w"], ["m"], name="matmul"),
             helper.make_node("Add", ["m", "b"], ["h"], name="bias")]
    inputs = [tensor("x", np.float32, (*rows, k))]
    feeds = {"x": rng.standard_normal((*rows, k)).astype(np.float32)}
    if tail == "relu":
        nodes.append(helper.make_node("Relu", ["h"], ["y"], name="relu"))
    elif tail == "tanh":
        nodes.append(helper.make_node("Tanh", ["h"], ["y"], name="tanh"))
    else:
        nodes.append(helper.make_node("Add", ["h", "r"], ["y"], name="residual"))
        inputs.append(tensor("r", np.float32, (*rows, n)))
        feeds["r"] = rng.standard_normal((*rows, n)).astype(np.float32)
    model = make_model(nodes, inputs, [tensor("y", np.float32, (*rows, n))], initializers=inits)
    return model, feeds


# n of 49 and 70: B is copied into panels whose last one is partly zero, its stores masked.
# One row with a B of 1.2 MB (300 x 1000): a matrix-vector product on padded column panels.
# n of 96 and 160 (AVX-512): tiles two panels wide, then one odd panel; 37 and 45 rows end in
# a smaller tile.
@pytest.mark.parametrize("rows, k, n, tail", [((37,), 70, 96, "relu"), ((2, 24), 64, 64, "residual"),
                                              ((128,), 600, 256, "tanh"), ((1, 40), 32, 128, "relu"),
                                              ((64,), 50, 49, "residual"), ((96,), 40, 70, "relu"),
                                              ((1,), 300, 1000, "relu"), ((45,), 64, 160, "residual")])
def test_epilogue_matches_onnxruntime(check_against_ort, rows, k, n, tail):
    check_against_ort(*_model(rows, k, n, tail), rtol=1e-4, atol=1e-4)


def test_epilogue_is_reported(tmp_path):
    model, _ = _model((37,), 70, 96, "relu")
    onnx.save(model, tmp_path / "m.onnx")
    report = compile_model(tmp_path / "m.onnx", CompileOptions(resolve("x86-64-v4")), "affine",
                           tmp_path / "m.mlir").report
    gemm = [tag for tag, what in report.schedule.items() if what.startswith("panel GEMM")]
    assert len(gemm) == 1
    assert "relu" in report.fusion[gemm[0]].split(" + ")
    assert report.fusion["epilogue of matmul"].startswith("bias + relu fused")
    assert not any(what.startswith("elementwise") for what in report.schedule.values())


def _conv_model(channels: int, filters: int, size: int, tail: str):
    """tail(conv1x1(x) + b): the NCHW GEMM W [F, C] @ x [C, H*W] on x copied into panels."""
    rng = np.random.default_rng(channels + size)
    inits = [numpy_helper.from_array((rng.standard_normal((filters, channels, 1, 1)) * 0.2)
                                     .astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal(filters).astype(np.float32), "b")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv"),
             helper.make_node(tail, ["c"], ["y"], name="act")]
    shape = (1, channels, size, size)
    model = make_model(nodes, [tensor("x", np.float32, shape)],
                       [tensor("y", np.float32, (1, filters, size, size))], initializers=inits)
    return model, {"x": rng.standard_normal(shape).astype(np.float32)}


@pytest.mark.parametrize("channels, filters, size, tail", [(32, 64, 7, "Relu"), (16, 72, 12, "Sigmoid"),
                                                           (8, 64, 16, "Relu")])
def test_conv_epilogue_matches_onnxruntime(check_against_ort, channels, filters, size, tail):
    check_against_ort(*_conv_model(channels, filters, size, tail), rtol=1e-4, atol=1e-4)
