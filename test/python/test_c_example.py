"""The C example (tools/c_example/run_model.c) runs compiled models through mlc_runtime.h alone,
and prints what mlc.runtime computes for the same inputs.

With cmake on PATH the example is configured, built and run through the repository's
CMakeLists.txt and ctest; without it, run_model.c is compiled with cc directly.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

import mlc.runtime
from mlc.runtime.header import include_dir

from conftest import make_model, tensor

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "tools" / "c_example" / "run_model.c"


def c_example_inputs(spec) -> np.ndarray:
    """The values run_model.c writes into an input (see the comment at the top of the file)."""
    k = np.arange(int(np.prod(spec.shape)), dtype=np.int64) % 17
    if spec.dtype.kind == "f":
        values = k * 0.0625 - 0.5
    elif spec.dtype.kind == "b":
        values = np.arange(k.size) % 2
    elif spec.dtype.kind == "u":
        values = k
    else:
        values = k - 8
    return values.astype(spec.dtype).reshape(spec.shape)


def parse_outputs(stdout: str, model: mlc.runtime.Model) -> dict[str, np.ndarray]:
    """{output name: printed values in the output's dtype}, from the last line per output,
    `name: v0 v1 ... [...]`."""
    lines = stdout.strip().splitlines()[-len(model.outputs):]
    printed = {}
    for spec, line in zip(model.outputs, lines):
        name, _, values = line.partition(": ")
        assert name == spec.name, line
        words = [w for w in values.split() if w != "..."]
        parse = float if spec.dtype.kind == "f" else int
        printed[name] = np.array([parse(w) for w in words]).astype(spec.dtype)
    return printed


def check_against_runtime(exe: Path, so: Path, count: int = 1000) -> str:
    done = subprocess.run([str(exe), str(so), str(count)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    model = mlc.runtime.load(so)
    expected = model.run({s.name: c_example_inputs(s) for s in model.inputs})
    assert f"model {model.name} (target {model.target})" in done.stdout
    for i, spec in enumerate(model.inputs):
        assert f"input {i}: {spec.name} {spec.dtype.name}[{'x'.join(map(str, spec.shape))}]" in done.stdout
    for name, values in parse_outputs(done.stdout, model).items():
        want = expected[name].reshape(-1)[:count]
        assert values.shape == want.shape, (name, values.shape, want.shape)
        # %.9g (float32) and %.17g (float64) print values that read back exactly.
        np.testing.assert_array_equal(values, want, err_msg=name)
    return done.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(run_model executable, example model .so, whether cmake built them)."""
    folder = tmp_path_factory.mktemp("c_example")
    if shutil.which("cmake"):
        build = folder / "build"
        for argv in (["cmake", "-S", str(REPO), "-B", str(build), f"-DPython3_EXECUTABLE={sys.executable}"],
                     ["cmake", "--build", str(build)]):
            done = subprocess.run(argv, capture_output=True, text=True)
            assert done.returncode == 0, f"{' '.join(argv)}\n{done.stdout}\n{done.stderr}"
        return build / "run_model", build / "example.so", build
    exe = folder / "run_model"
    subprocess.run(["cc", "-std=c11", "-O2", f"-I{include_dir()}", str(SOURCE), "-o", str(exe), "-ldl", "-lm"],
                   check=True)
    onnx_path, so = folder / "example.onnx", folder / "example.so"
    subprocess.run([sys.executable, "-m", "mlc.tools.example_model", str(onnx_path)], check=True)
    subprocess.run([sys.executable, "-m", "mlc", "compile", str(onnx_path), "-o", str(so)], check=True)
    return exe, so, None


def test_ctest_c_example(built):
    _, _, build = built
    if build is None:
        pytest.skip("cmake is not installed")
    done = subprocess.run(["ctest", "-R", "c_example", "--output-on-failure"], cwd=build,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 tests failed out of 1" in done.stdout, done.stdout  # it ran, and it was the one


def test_example_matches_runtime(built):
    exe, so, _ = built
    stdout = check_against_runtime(exe, so)
    assert "output 0: probabilities float32[1x10]" in stdout


def test_prints_only_the_first_values(built):
    exe, so, _ = built
    done = subprocess.run([str(exe), str(so), "3"], capture_output=True, text=True, check=True)
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("probabilities: ") and last.endswith(" ...")
    assert len(last.split()) == 1 + 3 + 1


def test_mixed_dtypes_and_several_outputs(built, tmp_path):
    """Inputs and outputs of several dtypes, filled and printed per dtype."""
    exe, _, _ = built
    nodes = [helper.make_node("Add", ["f", "f"], ["f2"]),
             helper.make_node("Cast", ["i64"], ["i64_f"], to=onnx.TensorProto.FLOAT),
             helper.make_node("Mul", ["f2", "i64_f"], ["prod"]),
             helper.make_node("Mul", ["i64", "i64"], ["square"]),
             helper.make_node("Add", ["d", "d"], ["d2"]),
             helper.make_node("Sub", ["i32", "i32c"], ["i32d"])]
    model = make_model(nodes, [tensor("f", np.float32, (2, 9)), tensor("i64", np.int64, (2, 9)),
                               tensor("d", np.float64, (5,)), tensor("i32", np.int32, (3, 1, 2))],
                       [tensor("prod", np.float32, (2, 9)), tensor("square", np.int64, (2, 9)),
                        tensor("d2", np.float64, (5,)), tensor("i32d", np.int32, (3, 1, 2))],
                       initializers=[onnx.numpy_helper.from_array(np.array([3], np.int32), "i32c")],
                       name="mixed")
    onnx.save(model, tmp_path / "mixed.onnx")
    done = subprocess.run([sys.executable, "-m", "mlc", "compile", str(tmp_path / "mixed.onnx"), "-o",
                           str(tmp_path / "mixed.so")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    stdout = check_against_runtime(exe, tmp_path / "mixed.so")
    assert "input 1: i64 int64[2x9]" in stdout and "output 3: i32d int32[3x1x2]" in stdout


def test_failed_check_names_the_node(built, tmp_path):
    """The example fills int64 inputs with -8 .. 8: Gather indices outside a table of 4 rows,
    which the model refuses through MLC_STATUS_CHECK_FAILED and mlc_failed_check."""
    exe, _, _ = built
    model = make_model([helper.make_node("Gather", ["table", "ids"], ["y"], name="lookup")],
                       [tensor("ids", np.int64, (6,))], [tensor("y", np.float32, (6, 2))],
                       initializers=[onnx.numpy_helper.from_array(
                           np.arange(8, dtype=np.float32).reshape(4, 2), "table")])
    onnx.save(model, tmp_path / "lookup.onnx")
    done = subprocess.run([sys.executable, "-m", "mlc", "compile", str(tmp_path / "lookup.onnx"),
                           "-o", str(tmp_path / "lookup.so")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    done = subprocess.run([str(exe), str(tmp_path / "lookup.so")], capture_output=True, text=True)
    assert done.returncode == 1
    assert "refused these inputs" in done.stderr and "node 'lookup' (Gather" in done.stderr


@pytest.mark.parametrize("case", ["no-args", "missing", "not-elf", "not-mlc"])
def test_errors_exit_nonzero(built, tmp_path, case):
    exe, _, _ = built
    if case == "no-args":
        argv, words = [], "usage"
    elif case == "missing":
        argv, words = [str(tmp_path / "absent.so")], "cannot load"
    elif case == "not-elf":
        (tmp_path / "text.so").write_text("not a shared object")
        argv, words = [str(tmp_path / "text.so")], "cannot load"
    else:
        (tmp_path / "plain.c").write_text("int answer(void) { return 42; }\n")
        subprocess.run(["cc", "-shared", "-fPIC", "-o", str(tmp_path / "plain.so"), str(tmp_path / "plain.c")],
                       check=True)
        argv, words = [str(tmp_path / "plain.so")], "not an mlc model"
    done = subprocess.run([str(exe), *argv], capture_output=True, text=True)
    assert done.returncode == 1
    assert words in done.stderr
