"""mlc.runtime: loading models, checking inputs before any native call, threads, output order."""

import subprocess

import numpy as np
import pytest
from onnx import helper, numpy_helper

import mlc.runtime
from mlc.runtime import RuntimeInputError

from conftest import make_model, ort_run, run_concurrently, tensor


@pytest.fixture(scope="module")
def two_input_model(tmp_path_factory):
    """y = relu(a @ w + b) and z = a * 2 (outputs named so that graph order is not sorted)."""
    import onnx

    from mlc.driver import compile_model
    from mlc.options import CompileOptions
    from mlc.target import resolve

    rng = np.random.default_rng(0)
    w = np.asarray(rng.standard_normal((8, 16)), np.float32)
    nodes = [helper.make_node("MatMul", ["a", "w"], ["m"]),
             helper.make_node("Add", ["m", "b"], ["s"]),
             helper.make_node("Relu", ["s"], ["y"]),
             helper.make_node("Mul", ["a", "two"], ["z"])]
    model = make_model(nodes, [tensor("a", np.float32, (4, 8)), tensor("b", np.float32, (16,))],
                       [tensor("y", np.float32, (4, 16)), tensor("z", np.float32, (4, 8))],
                       initializers=[numpy_helper.from_array(w, "w"),
                                     numpy_helper.from_array(np.array(2.0, np.float32), "two")],
                       name="two_inputs")
    folder = tmp_path_factory.mktemp("runtime")
    onnx.save(model, folder / "two_inputs.onnx")
    compile_model(folder / "two_inputs.onnx", CompileOptions(resolve("native")), "so",
                  folder / "two_inputs.so")
    return model, folder / "two_inputs.so"


def _feeds(seed=0):
    rng = np.random.default_rng(seed)
    return {"a": np.asarray(rng.standard_normal((4, 8)), np.float32),
            "b": np.asarray(rng.standard_normal(16), np.float32)}


def _no_native_call(model):
    def fail(*_):
        raise AssertionError("mlc_run was called with inputs that do not match the model")
    model._run = fail
    return model


def test_describes_model(two_input_model):
    _, so = two_input_model
    m = mlc.runtime.load(so)
    assert m.name == "two_inputs"
    assert m.target == "native"
    assert [(s.name, s.dtype, s.shape) for s in m.inputs] == [
        ("a", np.float32, (4, 8)), ("b", np.float32, (16,))]
    assert [(s.name, s.shape) for s in m.outputs] == [("y", (4, 16)), ("z", (4, 8))]
    assert "two_inputs" in repr(m) and "a: float32[4x8]" in repr(m)


def test_arena_is_reused(two_input_model):
    """Intermediates live in a per-thread arena: the ABI states its size; reruns stay correct."""
    model, so = two_input_model
    m = mlc.runtime.load(so)
    assert m.arena_bytes > 0 and m.arena_bytes % 64 == 0
    for seed in range(3):
        feeds = _feeds(seed)
        for got, want in zip(m.run(feeds).values(), ort_run(model, feeds)):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_outputs_in_graph_order(two_input_model):
    model, so = two_input_model
    feeds = _feeds()
    result = mlc.runtime.load(so).run(feeds)
    assert list(result) == ["y", "z"]
    for got, want in zip(result.values(), ort_run(model, feeds)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_non_contiguous_input(two_input_model):
    model, so = two_input_model
    feeds = _feeds()
    feeds["a"] = np.asfortranarray(feeds["a"])
    strided = np.asarray(np.random.default_rng(1).standard_normal(32), np.float32)[::2]
    feeds["b"] = strided
    result = mlc.runtime.load(so).run(feeds)
    expected = ort_run(model, {k: np.ascontiguousarray(v) for k, v in feeds.items()})
    np.testing.assert_allclose(result["y"], expected[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("feeds,words", [
    ({"a": np.zeros((4, 8), np.float32), "b": np.zeros(16, np.float32), "c": np.zeros(1)},
     ["unknown input(s) ['c']", "a: float32[4x8]"]),
    ({"a": np.zeros((4, 8), np.float32)}, ["missing input(s) ['b']", "b: float32[16]"]),
    ({"A": np.zeros((4, 8), np.float32), "b": np.zeros(16, np.float32)},
     ["unknown input(s) ['A']", "missing input(s) ['a']"]),
    ({"a": np.zeros((8, 4), np.float32), "b": np.zeros(16, np.float32)},
     ["input 'a'", "shape (8, 4) given", "takes (4, 8)"]),
    ({"a": np.zeros((4, 8, 1), np.float32), "b": np.zeros(16, np.float32)}, ["input 'a'", "shape"]),
    ({"a": np.zeros((4, 8), np.float64), "b": np.zeros(16, np.float32)},
     ["input 'a'", "dtype float64 given", "takes float32"]),
    ({"a": np.zeros((4, 8), np.float32), "b": [0.0] * 16}, ["input 'b'", "dtype float64"]),
    ({"a": np.zeros((4, 8), np.int32), "b": np.zeros(16, np.float32)}, ["dtype int32"]),
])
def test_bad_inputs(two_input_model, feeds, words):
    m = _no_native_call(mlc.runtime.load(two_input_model[1]))
    with pytest.raises(RuntimeInputError) as info:
        m.run(feeds)
    for word in words:
        assert word in str(info.value)


def test_feeds_must_be_a_dict(two_input_model):
    m = _no_native_call(mlc.runtime.load(two_input_model[1]))
    with pytest.raises(RuntimeInputError, match="dict"):
        m.run([np.zeros((4, 8), np.float32), np.zeros(16, np.float32)])


def test_runtime_input_error_is_a_value_error():
    assert issubclass(RuntimeInputError, ValueError)


def test_threads(two_input_model):
    """mlc_run from several threads at once: every thread gets its own correct results."""
    _, so = two_input_model
    m = mlc.runtime.load(so)
    feeds = [_feeds(seed) for seed in range(8)]
    expected = [m.run(f) for f in feeds]
    results = {}

    def work(i):
        for _ in range(20):
            out = m.run(feeds[i])
            for name in ("y", "z"):
                np.testing.assert_array_equal(out[name], expected[i][name])
        results[i] = True

    run_concurrently(len(feeds), work)
    assert len(results) == len(feeds)


def test_two_loads_of_one_file(two_input_model):
    a, b = mlc.runtime.load(two_input_model[1]), mlc.runtime.load(two_input_model[1])
    feeds = _feeds()
    np.testing.assert_array_equal(a.run(feeds)["y"], b.run(feeds)["y"])


_RECOMPILE_SCRIPT = """
import sys, numpy as np, onnx, mlc.runtime
from onnx import helper, TensorProto
from mlc.driver import compile_model
from mlc.options import CompileOptions
from mlc.target import resolve

def build(op, path):
    graph = helper.make_graph([helper.make_node(op, ["x"], ["y"])], "m",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    source = path + "." + op + ".onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                                ir_version=8), source)
    compile_model(source, CompileOptions(resolve("native")), "so", path)
    return mlc.runtime.load(path)

x = np.array([-2.0, -1.0, 1.0, 2.0], np.float32)
path = sys.argv[1]
first = build("Neg", path)
second = build("Relu", path)  # the same output path, while `first` is loaded
print(first.run({"x": x})["y"].tolist(), second.run({"x": x})["y"].tolist())
"""


def test_recompiled_over_a_loaded_model(tmp_path):
    """A model compiled over a .so the process has loaded: the new load runs the new model
    (not the library the loader already holds), the old one keeps running, nothing crashes."""
    import sys

    done = subprocess.run([sys.executable, "-c", _RECOMPILE_SCRIPT, str(tmp_path / "m.so")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("] [") == ["[2.0, 1.0, -1.0, -2.0", "0.0, 0.0, 1.0, 2.0]\n"]


# -- files that are not mlc models -----------------------------------------------------------------
def _build_so(folder, name, source):
    c = folder / f"{name}.c"
    c.write_text(source)
    so = folder / f"{name}.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(so), str(c)], check=True)
    return so


def test_so_without_mlc_symbols(tmp_path):
    so = _build_so(tmp_path, "plain", "int answer(void) { return 42; }\n")
    with pytest.raises(RuntimeInputError, match="not an mlc model"):
        mlc.runtime.load(so)


def test_so_of_another_abi(tmp_path):
    from mlc.runtime.header import include_dir

    source = """#include "mlc_runtime.h"
static const mlc_model_info info = {99, "old", 0, 0, 0, 0, "x86"};
const mlc_model_info *mlc_model(void) { return &info; }
int mlc_run(const void *const *in, void *const *out) { (void)in; (void)out; return 0; }
"""
    c = tmp_path / "old.c"
    c.write_text(source)
    so = tmp_path / "old.so"
    subprocess.run(["cc", "-shared", "-fPIC", f"-I{include_dir()}", "-o", str(so), str(c)], check=True)
    with pytest.raises(RuntimeInputError, match="ABI 99.*recompile"):
        mlc.runtime.load(so)


@pytest.mark.parametrize("content", [b"", b"not a shared object\n", b"\x7fELF\x02\x01\x01garbage"])
def test_not_a_shared_object(tmp_path, content):
    path = tmp_path / "model.so"
    path.write_bytes(content)
    with pytest.raises(RuntimeInputError, match="cannot load as a shared object"):
        mlc.runtime.load(path)


def test_onnx_file_instead_of_so(tmp_path):
    import onnx

    path = tmp_path / "model.onnx"
    onnx.save(make_model([helper.make_node("Relu", ["x"], ["y"])], [tensor("x", np.float32, (2,))],
                         [tensor("y", np.float32, (2,))]), path)
    with pytest.raises(RuntimeInputError, match="cannot load as a shared object"):
        mlc.runtime.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(RuntimeInputError, match="no such file"):
        mlc.runtime.load(tmp_path / "absent.so")
