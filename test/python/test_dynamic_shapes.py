"""Symbolic dims: a model compiles once and runs at any sizes its symbols take.

Each model is compiled once and run at several sizes against onnxruntime; the runtime refuses
sizes that disagree with a symbol's binding or a static dim before native code runs; the
compiler refuses dynamic dims it cannot lower with a message naming the node, op and dim.
"""

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from onnx import helper, numpy_helper

from mlc.errors import UnsupportedError
from mlc.runtime import RuntimeInputError

from conftest import assert_close, make_model, ort_run, tensor

REPO = Path(__file__).resolve().parents[2]


def _const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def _check_sizes(model, so_model, make_feeds, sizes):
    """Runs the one compiled model at each size and compares with onnxruntime."""
    for size in sizes:
        feeds = make_feeds(*size) if isinstance(size, tuple) else make_feeds(size)
        got = so_model.run(feeds)
        expected = ort_run(model, feeds)
        for (name, value), want in zip(got.items(), expected):
            assert value.shape == want.shape, (name, size)
        assert_close(list(got.values()), expected)


@pytest.fixture(scope="module")
def rng():
    return np.random.default_rng(0)


def test_mlp_with_symbolic_batch(compile_model_so, rng):
    """MatMul + bias + Relu, Gemm with a constant transposed B, Softmax: batch is symbolic."""
    w1 = rng.standard_normal((16, 32)).astype(np.float32)
    b1 = rng.standard_normal(32).astype(np.float32)
    w2 = rng.standard_normal((10, 32)).astype(np.float32)
    b2 = rng.standard_normal(10).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]),
             helper.make_node("Add", ["h", "b1"], ["hb"]),
             helper.make_node("Relu", ["hb"], ["r"]),
             helper.make_node("Gemm", ["r", "w2", "b2"], ["z"], transB=1, alpha=0.5),
             helper.make_node("Softmax", ["z"], ["y"])]
    model = make_model(nodes, [tensor("x", np.float32, ("batch", 16))],
                       [tensor("y", np.float32, ("batch", 10))],
                       initializers=[_const("w1", w1), _const("b1", b1), _const("w2", w2),
                                     _const("b2", b2)])
    m = compile_model_so(model)
    assert [s.shape for s in m.inputs] == [("batch", 16)]
    assert [s.shape for s in m.outputs] == [("batch", 10)]
    _check_sizes(model, m, lambda n: {"x": rng.standard_normal((n, 16)).astype(np.float32)},
                 [1, 3, 70])


def test_broadcast_chain_with_two_symbols(compile_model_so, rng):
    """a[batch, seq, 8] meets b[seq, 8] (the same symbol), c[1, 8] and a scalar."""
    nodes = [helper.make_node("Add", ["a", "b"], ["s"]),
             helper.make_node("Mul", ["s", "c"], ["m"]),
             helper.make_node("Tanh", ["m"], ["t"]),
             helper.make_node("Sub", ["t", "a"], ["d"]),
             helper.make_node("Max", ["d", "b", "half"], ["mx"]),
             helper.make_node("Div", ["mx", "c"], ["y"])]
    model = make_model(nodes, [tensor("a", np.float32, ("batch", "seq", 8)),
                               tensor("b", np.float32, ("seq", 8)),
                               tensor("c", np.float32, (1, 8))],
                       [tensor("y", np.float32, ("batch", "seq", 8))],
                       initializers=[_const("half", np.array(0.5, np.float32))])
    m = compile_model_so(model)

    def feeds(batch, seq):
        return {"a": rng.standard_normal((batch, seq, 8)).astype(np.float32),
                "b": rng.standard_normal((seq, 8)).astype(np.float32),
                "c": (rng.random((1, 8)) + 0.5).astype(np.float32)}

    _check_sizes(model, m, feeds, [(2, 3), (1, 5), (4, 1)])


def test_softmax_over_a_symbolic_axis(compile_model_so, rng):
    nodes = [helper.make_node("Softmax", ["x"], ["y"], axis=-1),
             helper.make_node("LogSoftmax", ["x"], ["z"], axis=0)]
    model = make_model(nodes, [tensor("x", np.float32, ("rows", "cols"))],
                       [tensor("y", np.float32, ("rows", "cols")),
                        tensor("z", np.float32, ("rows", "cols"))])
    m = compile_model_so(model)
    _check_sizes(model, m, lambda r, c: {"x": rng.standard_normal((r, c)).astype(np.float32)},
                 [(1, 1), (3, 7), (5, 33)])


def test_reductions_over_symbolic_and_static_axes(compile_model_so, rng):
    """ReduceMean divides by a count known only at run time; keepdims puts a unit dim back."""
    nodes = [helper.make_node("ReduceMean", ["x", "axes_seq"], ["mean"], keepdims=1),
             helper.make_node("ReduceMax", ["x", "axes_feat"], ["peak"], keepdims=0),
             helper.make_node("ReduceSum", ["x", "axes_all"], ["total"], keepdims=0)]
    model = make_model(nodes, [tensor("x", np.float32, ("batch", "seq", 6))],
                       [tensor("mean", np.float32, ("batch", 1, 6)),
                        tensor("peak", np.float32, ("batch", "seq")),
                        tensor("total", np.float32, ())], opset=18,
                       initializers=[_const("axes_seq", np.array([1], np.int64)),
                                     _const("axes_feat", np.array([-1], np.int64)),
                                     _const("axes_all", np.array([0, 1, 2], np.int64))])
    m = compile_model_so(model)
    _check_sizes(model, m, lambda b, s: {"x": rng.standard_normal((b, s, 6)).astype(np.float32)},
                 [(1, 1), (2, 9), (3, 4)])


def test_reshapes_transposes_and_transposed_gemm(compile_model_so, rng):
    """Flatten, Reshape (0 copies the symbolic dim), Transpose, Unsqueeze/Squeeze and Gemm
    with transA/transB keep each dynamic dim as itself."""
    nodes = [helper.make_node("Flatten", ["x"], ["f"], axis=1),
             helper.make_node("Reshape", ["f", "shape"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=[1, 0, 2]),
             helper.make_node("Unsqueeze", ["t", "axes"], ["u"]),
             helper.make_node("Squeeze", ["u", "axes"], ["s"]),
             helper.make_node("Gemm", ["g", "w"], ["gy"], transA=1, transB=1)]
    model = make_model(nodes, [tensor("x", np.float32, ("n", 3, 4)),
                               tensor("g", np.float32, (5, "m"))],
                       [tensor("s", np.float32, (2, "n", 6)), tensor("gy", np.float32, ("m", 7))],
                       initializers=[_const("shape", np.array([0, 2, 6], np.int64)),
                                     _const("axes", np.array([0], np.int64)),
                                     _const("w", rng.standard_normal((7, 5)).astype(np.float32))])
    m = compile_model_so(model)
    assert [s.shape for s in m.outputs] == [(2, "n", 6), ("m", 7)]

    def feeds(n, k):
        return {"x": rng.standard_normal((n, 3, 4)).astype(np.float32),
                "g": rng.standard_normal((5, k)).astype(np.float32)}

    _check_sizes(model, m, feeds, [(1, 2), (4, 9)])


def test_cnn_with_symbolic_batch(compile_model_so, rng):
    """Conv (with bias, grouped), BatchNormalization, pools, Flatten and Gemm: N is symbolic."""
    def f(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c1", "s", "bb", "m", "v"], ["bn"]),
             helper.make_node("Relu", ["bn"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["p", "w2"], ["c2"], group=2, pads=[1, 1, 1, 1]),
             helper.make_node("AveragePool", ["c2"], ["ap"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("GlobalAveragePool", ["ap"], ["g"]),
             helper.make_node("Flatten", ["g"], ["fl"]),
             helper.make_node("Gemm", ["fl", "wf", "bf"], ["y"], transB=1)]
    inits = [_const("w1", f(8, 3, 3, 3)), _const("b1", f(8)), _const("s", f(8)), _const("bb", f(8)),
             _const("m", f(8)), _const("v", np.abs(f(8)) + 0.5), _const("w2", f(8, 4, 3, 3)),
             _const("wf", f(10, 8)), _const("bf", f(10))]
    model = make_model(nodes, [tensor("x", np.float32, ("N", 3, 16, 16))],
                       [tensor("y", np.float32, ("N", 10))], initializers=inits)
    m = compile_model_so(model)
    _check_sizes(model, m, lambda n: {"x": f(n, 3, 16, 16)}, [1, 3])


@pytest.fixture(scope="module")
def two_symbol_model(tmp_path_factory):
    """y = a + b, a and b [batch, 4]; z = relu(a): compiled once for the refusal tests."""
    import onnx

    from mlc.driver import compile_model
    from mlc.options import CompileOptions
    from mlc.target import resolve

    nodes = [helper.make_node("Add", ["a", "b"], ["y"]), helper.make_node("Relu", ["a"], ["z"])]
    model = make_model(nodes, [tensor("a", np.float32, ("batch", 4)),
                               tensor("b", np.float32, ("batch", 4))],
                       [tensor("y", np.float32, ("batch", 4)), tensor("z", np.float32, ("batch", 4))])
    folder = tmp_path_factory.mktemp("dynamic")
    onnx.save(model, folder / "m.onnx")
    compile_model(folder / "m.onnx", CompileOptions(resolve("native")), "so", folder / "m.so")
    return folder / "m.so"


def _refuses_before_native_code(so, feeds, *fragments):
    import mlc.runtime

    m = mlc.runtime.load(so)

    def fail(*_):
        raise AssertionError("native code ran on inputs that do not match the model")
    m._run = fail
    with pytest.raises(RuntimeInputError) as info:
        m.run(feeds)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_runtime_refuses_a_symbol_bound_twice_differently(two_symbol_model):
    feeds = {"a": np.zeros((2, 4), np.float32), "b": np.zeros((3, 4), np.float32)}
    _refuses_before_native_code(two_symbol_model, feeds, "input 'b' dim 0", "'batch'", "is 3",
                                "input 'a' dim 0 gave 'batch' = 2")


@pytest.mark.parametrize("feeds, fragments", [
    ({"a": np.zeros((2, 5), np.float32), "b": np.zeros((2, 5), np.float32)},
     ["input 'a'", "shape (2, 5) given", "takes (batch, 4)"]),
    ({"a": np.zeros((2, 4, 1), np.float32), "b": np.zeros((2, 4), np.float32)},
     ["input 'a'", "rank 2"]),
])
def test_runtime_refuses_static_dims_and_ranks(two_symbol_model, feeds, fragments):
    _refuses_before_native_code(two_symbol_model, feeds, *fragments)


def test_runtime_sizes_outputs_from_the_symbols(two_symbol_model):
    import mlc.runtime

    m = mlc.runtime.load(two_symbol_model)
    a = np.arange(20, dtype=np.float32).reshape(5, 4) - 10
    b = np.ones((5, 4), np.float32)
    assert m.output_shapes({"a": a, "b": b}) == {"y": (5, 4), "z": (5, 4)}
    out = m.run({"a": a, "b": b})
    np.testing.assert_array_equal(out["y"], a + b)
    np.testing.assert_array_equal(out["z"], np.maximum(a, 0))
    empty = m.run({"a": np.zeros((0, 4), np.float32), "b": np.zeros((0, 4), np.float32)})
    assert empty["y"].shape == (0, 4)


def test_c_abi_checks_shapes_itself(two_symbol_model):
    """mlc_run cannot size a symbolic model; mlc_run_shaped refuses disagreeing shapes."""
    lib = ctypes.CDLL(str(two_symbol_model))
    a, b = np.ones((2, 4), np.float32), np.ones((3, 4), np.float32)
    y, z = np.zeros((2, 4), np.float32), np.zeros((2, 4), np.float32)
    ins = (ctypes.c_void_p * 2)(a.ctypes.data, b.ctypes.data)
    outs = (ctypes.c_void_p * 2)(y.ctypes.data, z.ctypes.data)
    assert lib.mlc_run(ins, outs) == 3  # MLC_STATUS_NEEDS_SHAPES
    shapes = [(ctypes.c_int64 * 2)(2, 4), (ctypes.c_int64 * 2)(3, 4)]
    shape_ptrs = (ctypes.POINTER(ctypes.c_int64) * 2)(*shapes)
    assert lib.mlc_run_shaped(ins, shape_ptrs, outs) == 2  # MLC_STATUS_BAD_SHAPE
    assert not y.any()
    shapes[1][0] = 2
    b2 = np.full((2, 4), 2, np.float32)
    ins[1] = b2.ctypes.data
    assert lib.mlc_run_shaped(ins, shape_ptrs, outs) == 0
    np.testing.assert_array_equal(y, np.full((2, 4), 3, np.float32))


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_c_example_binds_symbols_from_the_command_line(two_symbol_model, tmp_path):
    from mlc.runtime.header import include_dir

    exe = tmp_path / "run_model"
    subprocess.run(["cc", f"-I{include_dir()}", str(REPO / "tools" / "c_example" / "run_model.c"),
                    "-o", str(exe), "-ldl", "-lm"], check=True)
    done = subprocess.run([str(exe), str(two_symbol_model), "100", "batch=3"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "input 0: a float32[batch=3x4]" in done.stdout
    # Element i of every input is (i % 17) * 0.0625 - 0.5 (see run_model.c).
    a = ((np.arange(12) % 17) * 0.0625 - 0.5).astype(np.float32)
    printed = done.stdout.strip().splitlines()[-2].split(": ")[1].split()
    np.testing.assert_allclose(np.array(printed, np.float32), a + a)


@pytest.mark.parametrize("nodes, inputs, outputs, fragments", [
    ([helper.make_node("Hardmax", ["x"], ["y"])],
     [tensor("x", np.float32, ("batch", 4))], [tensor("y", np.float32, ("batch", 4))],
     ["node 'Hardmax_0' (Hardmax", "input 'x' dim 0 is dynamic ('batch')",
      "Hardmax does not compile with dynamic dims"]),
    ([helper.make_node("Concat", ["x", "x"], ["y"], axis=0)],
     [tensor("x", np.float32, ("batch", 4))], [tensor("y", np.float32, ("twice", 4))],
     ["node 'Concat_0' (Concat", "concatenation along input 'x' dim 0, which is dynamic"]),
    ([helper.make_node("Add", ["a", "b"], ["y"])],
     [tensor("a", np.float32, ("n", 4)), tensor("b", np.float32, ("m", 4))],
     [tensor("y", np.float32, ("n", 4))],
     ["node 'Add_0' (Add", "cannot decide at compile time how 'a' dim 0 ('n'), 'b' dim 0 ('m')"]),
    ([helper.make_node("MatMul", ["a", "b"], ["y"])],
     [tensor("a", np.float32, (2, "k")), tensor("b", np.float32, ("j", 3))],
     [tensor("y", np.float32, (2, 3))],
     ["node 'MatMul_0' (MatMul", "contracted dims ('k' and 'j') are not known to be equal"]),
    ([helper.make_node("Expand", ["x", "s"], ["y"])],
     [tensor("x", np.float32, ("n", 1)), tensor("s", np.int64, (2,))],
     [tensor("y", np.float32, ("n", "k"))],
     ["node 'Expand_0' (Expand", "input 'x' dim 0 ('n') expands to", "not known to be the same"]),
    ([helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2])],
     [tensor("x", np.float32, (1, 2, "len"))], [tensor("y", np.float32, (1, 2, "out"))],
     ["node 'MaxPool_0' (MaxPool", "'x' dim 2 is dynamic ('len')", "dynamic batch dim (0) only"]),
])
def test_compiler_refuses_what_it_cannot_lower(compile_model_so, nodes, inputs, outputs, fragments):
    model = make_model(nodes, inputs, outputs)
    with pytest.raises(UnsupportedError) as info:
        compile_model_so(model)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert "--input-shape" in str(info.value)


def test_compiler_refuses_an_output_sized_by_values(compile_model_so):
    model = make_model([helper.make_node("ConstantOfShape", ["shape"], ["y"])],
                       [tensor("shape", np.int64, (2,))], [tensor("y", np.float32, ("a", "b"))])
    with pytest.raises(UnsupportedError) as info:
        compile_model_so(model)
    # ConstantOfShape compiles (its sizes are read at run time), but a graph output's dims
    # must be static or graph-input symbols: the caller allocates outputs from them.
    assert "graph output 'y' dim 0" in str(info.value)
    assert "no graph input's dims determine" in str(info.value)


def test_declared_dims_are_derived_again_from_the_inputs(compile_model_so):
    """A declared output or value_info size is not trusted: inference derives it from the
    input symbols ('k' and 3 here are what the file says, 'n' what the graph computes)."""
    model = make_model([helper.make_node("Relu", ["x"], ["h"]), helper.make_node("Neg", ["h"], ["y"])],
                       [tensor("x", np.float32, ("n",))], [tensor("y", np.float32, ("k",))])
    model.graph.value_info.append(tensor("h", np.float32, (3,)))
    m = compile_model_so(model)
    assert [s.shape for s in m.outputs] == [("n",)]
    x = np.arange(-3, 4, dtype=np.float32)
    np.testing.assert_array_equal(m.run({"x": x})["y"], -np.maximum(x, 0))


def test_pinned_input_shape_still_compiles_static(tmp_path):
    """--input-shape turns a symbol back into a size: the .so describes a static model."""
    import onnx

    import mlc.runtime
    from mlc.driver import compile_model
    from mlc.options import CompileOptions
    from mlc.target import resolve

    model = make_model([helper.make_node("Relu", ["x"], ["y"])],
                       [tensor("x", np.float32, ("batch", 4))], [tensor("y", np.float32, ("batch", 4))])
    onnx.save(model, tmp_path / "m.onnx")
    options = CompileOptions(resolve("native"), input_shapes=(("x", (3, 4)),))
    compile_model(tmp_path / "m.onnx", options, "so", tmp_path / "m.so")
    m = mlc.runtime.load(tmp_path / "m.so")
    assert [s.shape for s in m.inputs] == [(3, 4)]
    assert [s.shape for s in m.outputs] == [(3, 4)]


def test_every_dynamic_rule_names_an_imported_op():
    from mlc.importer import dynamic
    from mlc.importer.handlers import HANDLERS

    assert sorted(op for op in dynamic.RULES if op not in HANDLERS) == []


# -- shape arithmetic at run time -------------------------------------------------------------
def _shape_arithmetic_model(rng):
    """x[batch, seq, 8]: Shape -> Gather -> Unsqueeze -> Concat -> Reshape splits the features
    into [batch, seq, 2, 4] (then a transpose, as attention heads are); a constant [-1, 8]
    merges batch and seq for a MatMul, and Reshape to Shape(x) splits them back."""
    w = rng.standard_normal((8, 8)).astype(np.float32)
    scalar = lambda name, v: _const(name, np.array(v, np.int64))  # noqa: E731
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "zero"], ["b"], axis=0),
             helper.make_node("Gather", ["s", "one"], ["q"], axis=0),
             helper.make_node("Unsqueeze", ["b", "axes0"], ["b1"]),
             helper.make_node("Unsqueeze", ["q", "axes0"], ["q1"]),
             helper.make_node("Concat", ["b1", "q1", "two", "four"], ["heads"], axis=0),
             helper.make_node("Reshape", ["x", "heads"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3]),
             helper.make_node("Reshape", ["x", "rows"], ["flat"]),
             helper.make_node("MatMul", ["flat", "w"], ["mm"]),
             helper.make_node("Reshape", ["mm", "s"], ["back"]),
             helper.make_node("Add", ["back", "x"], ["y"])]
    return make_model(
        nodes, [tensor("x", np.float32, ("batch", "seq", 8))],
        [tensor("t", np.float32, ("batch", 2, "seq", 4)), tensor("y", np.float32, ("batch", "seq", 8))],
        initializers=[scalar("zero", 0), scalar("one", 1), _const("axes0", np.array([0], np.int64)),
                      _const("two", np.array([2], np.int64)), _const("four", np.array([4], np.int64)),
                      _const("rows", np.array([-1, 8], np.int64)), _const("w", w)])


def test_shape_gather_concat_reshape_at_run_time(compile_model_so, rng):
    model = _shape_arithmetic_model(rng)
    m = compile_model_so(model)
    assert [s.shape for s in m.outputs] == [("batch", 2, "seq", 4), ("batch", "seq", 8)]
    _check_sizes(model, m, lambda b, s: {"x": rng.standard_normal((b, s, 8)).astype(np.float32)},
                 [(1, 16), (2, 64), (3, 5)])


def test_run_time_shapes_refuse_inconsistent_sizes(compile_model_so, rng):
    m = compile_model_so(_shape_arithmetic_model(rng))
    with pytest.raises(RuntimeInputError) as info:
        m.run({"x": np.zeros((2, 5, 7), np.float32)})
    assert "input 'x': shape (2, 5, 7) given, the model takes (batch, seq, 8)" in str(info.value)


def test_range_expand_constant_of_shape_and_slice_at_run_time(compile_model_so, rng):
    """Range up to a Gather of a Shape, ConstantOfShape and Expand to Shape(x), and a Slice of
    a dynamic dim with constant bounds: every size is computed while the model runs."""
    int_max = np.iinfo(np.int64).max
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "one"], ["q"], axis=0),
             helper.make_node("Range", ["zero", "q", "one"], ["pos"]),
             helper.make_node("Cast", ["pos"], ["posf"], to=1),
             helper.make_node("Add", ["x", "posf"], ["a"]),
             helper.make_node("ConstantOfShape", ["s"], ["twos"],
                              value=numpy_helper.from_array(np.array([2.0], np.float32))),
             helper.make_node("Mul", ["a", "twos"], ["m"]),
             helper.make_node("Expand", ["bias", "s"], ["e"]),
             helper.make_node("Add", ["m", "e"], ["y"]),
             helper.make_node("Slice", ["x", "start", "end", "axis1"], ["sl"]),
             helper.make_node("ReduceSum", ["sl", "axis1"], ["z"], keepdims=0)]
    model = make_model(
        nodes, [tensor("x", np.float32, ("batch", "seq"))],
        [tensor("y", np.float32, ("batch", "seq")), tensor("z", np.float32, ("batch",))],
        initializers=[_const("zero", np.array(0, np.int64)), _const("one", np.array(1, np.int64)),
                      _const("bias", np.array([[0.25]], np.float32)),
                      _const("start", np.array([1], np.int64)),
                      _const("end", np.array([int_max], np.int64)),
                      _const("axis1", np.array([1], np.int64))])
    m = compile_model_so(model)
    _check_sizes(model, m, lambda b, s: {"x": rng.standard_normal((b, s)).astype(np.float32)},
                 [(1, 2), (3, 7), (2, 40)])


def test_an_output_dim_may_be_a_product_of_input_symbols(compile_model_so, rng):
    """Merging batch and seq gives an output dim 'batch*seq': the interface names the product
    and the caller sizes the buffer from the inputs' bindings."""
    nodes = [helper.make_node("Reshape", ["x", "rows"], ["flat"]),
             helper.make_node("Flatten", ["x"], ["f"], axis=2)]
    model = make_model(nodes, [tensor("x", np.float32, ("batch", "seq", 8))],
                       [tensor("flat", np.float32, ("n", 8)), tensor("f", np.float32, ("m", 8))],
                       initializers=[_const("rows", np.array([-1, 8], np.int64))])
    m = compile_model_so(model)
    assert [s.shape for s in m.outputs] == [("batch*seq", 8), ("batch*seq", 8)]
    _check_sizes(model, m, lambda b, s: {"x": rng.standard_normal((b, s, 8)).astype(np.float32)},
                 [(1, 3), (4, 5)])


def test_size_of_dynamic_dims(compile_model_so, rng):
    nodes = [helper.make_node("Size", ["x"], ["n"]),
             helper.make_node("Cast", ["n"], ["nf"], to=1),
             helper.make_node("Div", ["x", "nf"], ["y"])]
    model = make_model(nodes, [tensor("x", np.float32, ("batch", "seq"))],
                       [tensor("y", np.float32, ("batch", "seq")), tensor("n", np.int64, ())])
    m = compile_model_so(model)
    _check_sizes(model, m, lambda b, s: {"x": rng.standard_normal((b, s)).astype(np.float32)},
                 [(1, 1), (3, 7)])
