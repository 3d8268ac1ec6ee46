"""A large module's LLVM IR compiled in parts (llvm-split, one llc per part) links into a .so
that computes what onnxruntime does."""

import numpy as np
import onnx
from onnx import helper, numpy_helper

import mlc.llc
import mlc.runtime
from mlc.driver import compile_model
from mlc.options import CompileOptions
from mlc.target import resolve

from conftest import assert_close, make_model, ort_run, tensor


def _two_layer_model() -> onnx.ModelProto:
    rng = np.random.default_rng(5)
    w1 = rng.standard_normal((64, 96)).astype(np.float32)
    w2 = rng.standard_normal((96, 32)).astype(np.float32)
    return make_model([helper.make_node("MatMul", ["x", "w1"], ["h"]),
                       helper.make_node("Relu", ["h"], ["r"]),
                       helper.make_node("MatMul", ["r", "w2"], ["y"])],
                      [tensor("x", np.float32, (40, 64))], [tensor("y", np.float32, (40, 32))],
                      initializers=[numpy_helper.from_array(w1, "w1"),
                                    numpy_helper.from_array(w2, "w2")])


def test_parts_link_into_a_working_model(tmp_path, monkeypatch):
    calls = []
    split = mlc.llc.compile_objects

    def spy(*args):
        objects = split(*args)
        calls.append(len(objects))
        return objects

    monkeypatch.setattr(mlc.llc, "MIN_SPLIT_BYTES", 1)
    monkeypatch.setattr(mlc.llc, "_cores", lambda: 3)
    monkeypatch.setattr("mlc.driver.compile_objects", spy)
    model = _two_layer_model()
    onnx.save(model, tmp_path / "m.onnx")
    compile_model(tmp_path / "m.onnx", CompileOptions(resolve("native")), "so", tmp_path / "m.so")
    assert calls == [3]
    feeds = {"x": np.random.default_rng(0).standard_normal((40, 64)).astype(np.float32)}
    actual = list(mlc.runtime.load(tmp_path / "m.so").run(feeds).values())
    assert_close(actual, ort_run(model, feeds), rtol=1e-4, atol=1e-4)
