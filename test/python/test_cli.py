"""The `mlc` command on bad input: exit 1, one `mlc: error:` paragraph, never a traceback.
And `mlc run` on .npy files and on seeded random data."""

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import helper

import mlc.runtime

from conftest import make_model, tensor


def mlc_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "mlc", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd)


def assert_user_error(done, *words):
    """Exit 1, the error on stderr in the CLI's one format, and no traceback."""
    assert done.returncode == 1, (done.returncode, done.stderr)
    assert done.stderr.startswith("mlc: error: "), done.stderr
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)


def _relu_model(shape=(2, 3)):
    return make_model([helper.make_node("Relu", ["x"], ["y"], name="relu1")],
                      [tensor("x", np.float32, shape)], [tensor("y", np.float32, shape)])


@pytest.fixture(scope="module")
def relu_so(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    onnx.save(_relu_model(), folder / "relu.onnx")
    done = mlc_cli("compile", folder / "relu.onnx", "-o", folder / "relu.so")
    assert done.returncode == 0, done.stderr
    return folder / "relu.so"


def test_not_onnx(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_text("this is not a protobuf, just some text\n" * 5)
    assert_user_error(mlc_cli("compile", path, "-o", tmp_path / "m.so"), str(path), "ONNX")


def test_truncated_onnx(tmp_path):
    data = _relu_model().SerializeToString()
    path = tmp_path / "truncated.onnx"
    path.write_bytes(data[: len(data) // 2])
    assert_user_error(mlc_cli("compile", path, "-o", tmp_path / "m.so"), "truncated.onnx")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    assert_user_error(mlc_cli("compile", path, "-o", tmp_path / "m.so"), "empty.onnx")


def test_checker_failure(tmp_path):
    # Relu reads a value nothing defines: onnx.checker rejects the graph.
    model = make_model([helper.make_node("Relu", ["undefined"], ["y"])], [tensor("x", np.float32, (2,))],
                       [tensor("y", np.float32, (2,))], check=False)
    path = tmp_path / "bad.onnx"
    onnx.save(model, path)
    assert_user_error(mlc_cli("compile", path, "-o", tmp_path / "m.so"), "bad.onnx", "checker")


def _an_unsupported_op() -> str:
    """A shape-preserving float op mlc does not import (the supported set keeps growing): no
    handler, and no function body at opset 13 to import instead."""
    from mlc.importer.handlers import HANDLERS

    def has_body(op):
        schema = onnx.defs.get_schema(op, 13)
        return schema.has_function or schema.has_context_dependent_function

    candidates = ["Shrink", "Hardmax", "LpNormalization", "MeanVarianceNormalization",
                  "RandomNormalLike", "RandomUniformLike"]
    return next(op for op in candidates if op not in HANDLERS and not has_body(op))


def test_unsupported_op(tmp_path):
    op = _an_unsupported_op()
    model = make_model([helper.make_node("Relu", ["x"], ["r"]),
                        helper.make_node(op, ["r"], ["y"], name="the_node")],
                       [tensor("x", np.float32, (1, 2, 3, 4))], [tensor("y", np.float32, (1, 2, 3, 4))],
                       opset=13)
    path = tmp_path / "unsupported.onnx"
    onnx.save(model, path)
    assert_user_error(mlc_cli("compile", path, "-o", tmp_path / "m.so"),
                      "the_node", f"op {op}", "opset 13", "supported ops:", "Conv", "MatMul")


def test_missing_input_file(tmp_path):
    assert_user_error(mlc_cli("compile", tmp_path / "absent.onnx"), "absent.onnx")


def test_unknown_target(tmp_path):
    path = tmp_path / "relu.onnx"
    onnx.save(_relu_model(), path)
    assert_user_error(mlc_cli("compile", path, "--target", "sparc", "-o", tmp_path / "m.so"),
                      "sparc", "native")


def test_unwritable_output(tmp_path):
    path = tmp_path / "relu.onnx"
    onnx.save(_relu_model(), path)
    out = tmp_path / "no" / "such" / "dir" / "m.so"
    assert_user_error(mlc_cli("compile", path, "-o", out), str(out))


def test_compile_default_output_name(tmp_path):
    onnx.save(_relu_model(), tmp_path / "relu.onnx")
    done = mlc_cli("compile", "relu.onnx", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "relu.so").exists()


def test_run_wrong_shape_npy(tmp_path, relu_so):
    np.save(tmp_path / "x.npy", np.zeros((3, 2), np.float32))
    assert_user_error(mlc_cli("run", relu_so, "--input", f"x={tmp_path / 'x.npy'}"),
                      "input 'x'", "shape (3, 2)")


def test_run_wrong_dtype_npy(tmp_path, relu_so):
    np.save(tmp_path / "x.npy", np.zeros((2, 3), np.int64))
    assert_user_error(mlc_cli("run", relu_so, "--input", f"x={tmp_path / 'x.npy'}"), "dtype int64")


def test_run_unknown_input_name(tmp_path, relu_so):
    np.save(tmp_path / "x.npy", np.zeros((2, 3), np.float32))
    assert_user_error(mlc_cli("run", relu_so, "--input", f"nope={tmp_path / 'x.npy'}"), "nope")


def test_run_bad_input_syntax(relu_so):
    assert_user_error(mlc_cli("run", relu_so, "--input", "x.npy"), "NAME=FILE.npy")


def test_run_unreadable_npy(tmp_path, relu_so):
    (tmp_path / "x.npy").write_text("not numpy")
    assert_user_error(mlc_cli("run", relu_so, "--input", f"x={tmp_path / 'x.npy'}"), "cannot read")


def test_run_onnx_file(tmp_path):
    path = tmp_path / "relu.onnx"
    onnx.save(_relu_model(), path)
    assert_user_error(mlc_cli("run", path), "compiled model (.so)", "hint: compile it first: mlc compile")


def test_run_not_a_model(tmp_path):
    path = tmp_path / "model.so"
    path.write_text("not a shared object")
    assert_user_error(mlc_cli("run", path), "cannot load as a shared object")


def test_run_missing_model(tmp_path):
    assert_user_error(mlc_cli("run", tmp_path / "absent.so"), "no such file")


def test_run_unwritable_output(tmp_path, relu_so):
    assert_user_error(mlc_cli("run", relu_so, "--output", tmp_path / "no" / "out.npz"), "cannot write")


def test_run_npy_to_npz(tmp_path, relu_so):
    x = np.asarray(np.random.default_rng(0).standard_normal((2, 3)), np.float32)
    np.save(tmp_path / "x.npy", x)
    done = mlc_cli("run", relu_so, "--input", f"x={tmp_path / 'x.npy'}", "--output", tmp_path / "out.npz")
    assert done.returncode == 0, done.stderr
    with np.load(tmp_path / "out.npz") as out:
        assert list(out) == ["y"]
        np.testing.assert_array_equal(out["y"], np.maximum(x, 0))


def test_run_random_inputs(relu_so):
    """No inputs given: seeded random data, so the same seed prints the same outputs."""
    first, again, other = (mlc_cli("run", relu_so), mlc_cli("run", relu_so),
                           mlc_cli("run", relu_so, "--seed", "7"))
    for done in (first, again, other):
        assert done.returncode == 0, done.stderr
    assert first.stdout.startswith("y: float32[2, 3]")
    assert first.stdout == again.stdout
    assert first.stdout != other.stdout


def test_run_random_inputs_match_runtime(tmp_path, relu_so):
    """The random data `mlc run` feeds is numpy's standard normal for the seed."""
    done = mlc_cli("run", relu_so, "--seed", "3", "--output", tmp_path / "out.npz")
    assert done.returncode == 0, done.stderr
    x = np.random.default_rng(3).standard_normal((2, 3)).astype(np.float32)
    with np.load(tmp_path / "out.npz") as out:
        np.testing.assert_array_equal(out["y"], mlc.runtime.load(relu_so).run({"x": x})["y"])


def _external_data_model(tmp_path, location=None):
    """A Gemm model whose weight lives in an external data file (at `location` if given)."""
    from onnx import external_data_helper, numpy_helper

    w = np.arange(64 * 32, dtype=np.float32).reshape(64, 32) / 1000
    model = helper.make_model(helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", 1, [2, 64])], [helper.make_tensor_value_info("y", 1, [2, 32])],
        [numpy_helper.from_array(w, "w")]), opset_imports=[helper.make_opsetid("", 13)], ir_version=8)
    external_data_helper.convert_model_to_external_data(model, location="weights.bin",
                                                        size_threshold=0)
    path = tmp_path / "model.onnx"
    onnx.save_model(model, str(path))  # writes weights.bin beside it
    if location is not None:
        loaded = onnx.load(str(path), load_external_data=False)
        for entry in loaded.graph.initializer[0].external_data:
            if entry.key == "location":
                entry.value = location
        onnx.save_model(loaded, str(path))
    return path, w


def test_external_data_loads(tmp_path):
    path, w = _external_data_model(tmp_path)
    so = tmp_path / "model.so"
    result = mlc_cli("compile", path, "-o", so)
    assert result.returncode == 0, result.stderr
    x = np.random.default_rng(0).standard_normal((2, 64)).astype(np.float32)
    out = mlc.runtime.load(so).run({"x": x})["y"]
    np.testing.assert_allclose(out, x @ w, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("location", ["../weights.bin", "/etc/hostname"])
def test_external_data_outside_the_folder_is_refused(tmp_path, location):
    (tmp_path / "inner").mkdir()
    path, _ = _external_data_model(tmp_path / "inner", location)
    assert_user_error(mlc_cli("compile", path, "-o", tmp_path / "model.so"),
                      "outside the model's folder", "'w'", location)


def test_external_data_missing_file(tmp_path):
    path, _ = _external_data_model(tmp_path)
    (tmp_path / "weights.bin").unlink()
    assert_user_error(mlc_cli("compile", path, "-o", tmp_path / "model.so"), "does not exist")
