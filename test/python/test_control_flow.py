"""If, Loop and Scan against onnxruntime: constant and run-time conditions, loops with folding
and run-time conditions, scan axes and directions, nesting, outer-scope values; and the
control flow mlc refuses."""

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from conftest import make_model, tensor
from mlc.errors import UnsupportedError

F = TensorProto.FLOAT
OPSET = 16


def _const(name, value):
    return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.asarray(value)))


def _graph(nodes, name, inputs, outputs):
    return helper.make_graph(nodes, name, inputs, outputs)


def _vi(name, elem=F, shape=None):
    return helper.make_tensor_value_info(name, elem, shape)


def _branches(then_scale=2.0, else_shape=(2, 3)):
    """then: x * then_scale, else: x + 1 (or a constant of `else_shape`): x is the outer input."""
    then = _graph([_const("s", np.float32(then_scale)), helper.make_node("Mul", ["x", "s"], ["t"])],
                  "then", [], [_vi("t", F, [2, 3])])
    if else_shape == (2, 3):
        nodes = [_const("one", np.float32(1)), helper.make_node("Add", ["x", "one"], ["e"])]
    else:
        nodes = [_const("e", np.ones(else_shape, np.float32))]
    other = _graph(nodes, "else", [], [_vi("e", F, list(else_shape))])
    return then, other


@pytest.mark.parametrize("flag", [True, False])
def test_if_runtime_condition(check_against_ort, flag):
    then, other = _branches()
    node = helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=other)
    model = make_model([node], [tensor("c", np.bool_, []), tensor("x", np.float32, (2, 3))],
                       [tensor("y", np.float32, (2, 3))], opset=OPSET)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    check_against_ort(model, {"c": np.array(flag), "x": x})


def test_if_constant_condition_imports_one_branch(check_against_ort):
    """The condition folds from an initializer; the else branch, whose shape differs, is
    never imported (a run-time condition could not choose between the two)."""
    then, other = _branches(else_shape=(4,))
    nodes = [helper.make_node("Not", ["c"], ["nc"]),
             helper.make_node("If", ["nc"], ["y"], then_branch=then, else_branch=other)]
    model = make_model(nodes, [tensor("x", np.float32, (2, 3))], [tensor("y", np.float32, (2, 3))],
                       opset=OPSET, initializers=[numpy_helper.from_array(np.array(False), "c")],
                       check=False)
    check_against_ort(model, {"x": np.ones((2, 3), np.float32)})


def test_if_branches_of_different_shapes_are_refused(compile_and_run):
    then, other = _branches(else_shape=(2, 4))
    node = helper.make_node("If", ["c"], ["y"], then_branch=then, else_branch=other)
    model = make_model([node], [tensor("c", np.bool_, []), tensor("x", np.float32, (2, 3))],
                       [helper.make_tensor_value_info("y", F, [2, "n"])], opset=OPSET)
    with pytest.raises(UnsupportedError, match="branches' outputs differ"):
        compile_and_run(model, {"c": np.array(True), "x": np.ones((2, 3), np.float32)})


def _loop_body(cond_node):
    """v_out = v_in * w + x[iter] (w, x outer values), scan output v_out; cond from cond_node."""
    nodes = [
        helper.make_node("Unsqueeze", ["i", "zero"], ["i1"]),
        helper.make_node("Gather", ["x", "i"], ["row"]),
        helper.make_node("Mul", ["v_in", "w"], ["vw"]),
        helper.make_node("Add", ["vw", "row"], ["v_out"]),
        helper.make_node("Identity", ["v_out"], ["scan"]),
        cond_node,
    ]
    return _graph([_const("zero", np.array([0], np.int64)), *nodes], "body",
                  [_vi("i", TensorProto.INT64, []), _vi("c_in", TensorProto.BOOL, []),
                   _vi("v_in", F, [3])],
                  [_vi("c_out", TensorProto.BOOL, []), _vi("v_out", F, [3]), _vi("scan", F, [3])])


def test_loop_constant_trip_count(check_against_ort):
    body = _loop_body(helper.make_node("Identity", ["c_in"], ["c_out"]))
    node = helper.make_node("Loop", ["m", "", "v0"], ["v", "scans"], body=body)
    model = make_model([node], [tensor("v0", np.float32, (3,)), tensor("x", np.float32, (4, 3)),
                                tensor("w", np.float32, (3,))],
                       [tensor("v", np.float32, (3,)), tensor("scans", np.float32, (4, 3))],
                       opset=OPSET, initializers=[numpy_helper.from_array(np.array(4, np.int64), "m")])
    rng = np.random.default_rng(0)
    check_against_ort(model, {"v0": rng.standard_normal(3, np.float32),
                              "x": rng.standard_normal((4, 3), np.float32),
                              "w": rng.standard_normal(3, np.float32)})


def test_loop_scan_output_of_unknown_length(check_against_ort):
    """The scan outputs' length is symbolic after shape inference (they feed a ReduceSum):
    the constant trip count sets it."""
    body = _loop_body(helper.make_node("Identity", ["c_in"], ["c_out"]))
    nodes = [helper.make_node("Loop", ["m", "", "v0"], ["v", "scans"], body=body),
             helper.make_node("ReduceSum", ["scans", "axis"], ["total"], keepdims=0)]
    inits = [numpy_helper.from_array(np.array(3, np.int64), "m"),
             numpy_helper.from_array(np.array([0], np.int64), "axis")]
    model = make_model(nodes, [tensor("v0", np.float32, (3,)), tensor("x", np.float32, (4, 3)),
                               tensor("w", np.float32, (3,))],
                       [tensor("total", np.float32, (3,))], opset=OPSET, initializers=inits)
    rng = np.random.default_rng(3)
    check_against_ort(model, {"v0": rng.standard_normal(3, np.float32),
                              "x": rng.standard_normal((4, 3), np.float32),
                              "w": rng.standard_normal(3, np.float32)})


@pytest.mark.parametrize("limit", [0.5, 3.0, 100.0])
def test_loop_runtime_condition_freezes_state(check_against_ort, limit):
    """cond_out = sum(v_out) < limit, known only at run time: the state stops changing once
    it is false, within the constant trip count."""
    cond = [helper.make_node("ReduceSum", ["v_out"], ["total"], keepdims=0),
            helper.make_node("Less", ["total", "limit"], ["c_out"])]
    body = _loop_body(cond[1])
    body.node.insert(len(body.node) - 1, cond[0])
    del body.output[2]  # no scan output: the iteration count is the trip count
    body.node.remove(body.node[5])  # the scan output's Identity
    node = helper.make_node("Loop", ["m", "c", "v0"], ["v"], body=body)
    model = make_model([node], [tensor("v0", np.float32, (3,)), tensor("x", np.float32, (6, 3)),
                                tensor("w", np.float32, (3,)), tensor("c", np.bool_, []),
                                tensor("limit", np.float32, [])],
                       [tensor("v", np.float32, (3,))], opset=OPSET,
                       initializers=[numpy_helper.from_array(np.array(6, np.int64), "m")])
    feeds = {"v0": np.zeros(3, np.float32), "x": np.full((6, 3), 0.25, np.float32),
             "w": np.ones(3, np.float32), "c": np.array(True), "limit": np.array(limit, np.float32)}
    check_against_ort(model, feeds)


def test_loop_condition_folds_to_false(check_against_ort):
    """Without a trip count, the loop runs while iter < 3, a condition that folds."""
    body = _loop_body(helper.make_node("Less", ["i", "three"], ["c_out"]))
    body.node.insert(0, _const("three", np.array(2, np.int64)))
    node = helper.make_node("Loop", ["", "", "v0"], ["v", "scans"], body=body)
    model = make_model([node], [tensor("v0", np.float32, (3,)), tensor("x", np.float32, (4, 3)),
                                tensor("w", np.float32, (3,))],
                       [tensor("v", np.float32, (3,)), tensor("scans", np.float32, (3, 3))],
                       opset=OPSET)
    rng = np.random.default_rng(1)
    check_against_ort(model, {"v0": rng.standard_normal(3, np.float32),
                              "x": rng.standard_normal((4, 3), np.float32),
                              "w": rng.standard_normal(3, np.float32)})


def test_loop_runtime_trip_count_without_scan_outputs_is_refused(compile_and_run):
    body = _loop_body(helper.make_node("Identity", ["c_in"], ["c_out"]))
    del body.output[2]
    node = helper.make_node("Loop", ["m", "", "v0"], ["v"], body=body)
    model = make_model([node], [tensor("m", np.int64, []), tensor("v0", np.float32, (3,)),
                                tensor("x", np.float32, (4, 3)), tensor("w", np.float32, (3,))],
                       [tensor("v", np.float32, (3,))], opset=OPSET)
    with pytest.raises(UnsupportedError, match="trip count known only at run time"):
        compile_and_run(model, {})


def test_loop_past_the_unrolling_limit_is_refused(compile_and_run):
    body = _loop_body(helper.make_node("Identity", ["c_in"], ["c_out"]))
    del body.output[2]
    node = helper.make_node("Loop", ["m", "", "v0"], ["v"], body=body)
    model = make_model([node], [tensor("v0", np.float32, (3,)), tensor("x", np.float32, (4, 3)),
                                tensor("w", np.float32, (3,))],
                       [tensor("v", np.float32, (3,))], opset=OPSET,
                       initializers=[numpy_helper.from_array(np.array(5000, np.int64), "m")])
    with pytest.raises(UnsupportedError, match="limit of 1024 iterations"):
        compile_and_run(model, {})


def test_loop_with_nested_if_on_the_iteration(check_against_ort):
    """The body's If tests iter % 2, which folds in each unrolled iteration."""
    then = _graph([helper.make_node("Add", ["v_in", "x"], ["a"])], "then", [], [_vi("a", F, [3])])
    other = _graph([helper.make_node("Sub", ["v_in", "x"], ["b"])], "else", [], [_vi("b", F, [3])])
    body = _graph([_const("two", np.array(2, np.int64)), _const("zero", np.array(0, np.int64)),
                   helper.make_node("Mod", ["i", "two"], ["r"]),
                   helper.make_node("Equal", ["r", "zero"], ["even"]),
                   helper.make_node("If", ["even"], ["v_out"], then_branch=then, else_branch=other),
                   helper.make_node("Identity", ["c_in"], ["c_out"])], "body",
                  [_vi("i", TensorProto.INT64, []), _vi("c_in", TensorProto.BOOL, []),
                   _vi("v_in", F, [3])],
                  [_vi("c_out", TensorProto.BOOL, []), _vi("v_out", F, [3])])
    node = helper.make_node("Loop", ["m", "", "v0"], ["v"], body=body)
    model = make_model([node], [tensor("v0", np.float32, (3,)), tensor("x", np.float32, (3,))],
                       [tensor("v", np.float32, (3,))], opset=OPSET,
                       initializers=[numpy_helper.from_array(np.array(5, np.int64), "m")])
    check_against_ort(model, {"v0": np.zeros(3, np.float32), "x": np.array([1, 2, 3], np.float32)})


SCAN_CASES = [
    # (input axis, input direction, output axis, output direction)
    (0, 0, 0, 0),
    (1, 1, 0, 0),
    (1, 0, 1, 1),
    (-1, 1, -1, 0),
]


@pytest.mark.parametrize("in_axis,in_dir,out_axis,out_dir", SCAN_CASES,
                         ids=[f"scan{i}" for i in range(len(SCAN_CASES))])
def test_scan(check_against_ort, in_axis, in_dir, out_axis, out_dir):
    """A running sum over one axis of x [4, 5] (rows of 5 or columns of 4), scaled by an
    outer value, with the sums as the scan output."""
    width = 5 if in_axis == 0 else 4
    steps = 4 if in_axis == 0 else 5
    body = _graph([helper.make_node("Mul", ["item", "scale"], ["scaled"]),
                   helper.make_node("Add", ["acc_in", "scaled"], ["acc_out"]),
                   helper.make_node("Identity", ["acc_out"], ["out"])], "body",
                  [_vi("acc_in", F, [width]), _vi("item", F, [width])],
                  [_vi("acc_out", F, [width]), _vi("out", F, [width])])
    node = helper.make_node("Scan", ["acc0", "x"], ["acc", "outs"], body=body, num_scan_inputs=1,
                            scan_input_axes=[in_axis], scan_input_directions=[in_dir],
                            scan_output_axes=[out_axis], scan_output_directions=[out_dir])
    outs_shape = (steps, width) if out_axis == 0 else (width, steps)
    model = make_model([node], [tensor("acc0", np.float32, (width,)), tensor("x", np.float32, (4, 5)),
                                tensor("scale", np.float32, [])],
                       [tensor("acc", np.float32, (width,)), tensor("outs", np.float32, outs_shape)],
                       opset=OPSET)
    rng = np.random.default_rng(2)
    check_against_ort(model, {"acc0": rng.standard_normal(width, np.float32),
                              "x": rng.standard_normal((4, 5), np.float32),
                              "scale": np.array(0.5, np.float32)})


@pytest.mark.parametrize("direction", [0, 1])
def test_scan_opset8_batches(check_against_ort, direction):
    """Opset 8's Scan: a leading batch dim, each batch entry scanned on its own."""
    body = _graph([helper.make_node("Add", ["acc_in", "item"], ["acc_out"]),
                   helper.make_node("Identity", ["acc_out"], ["out"])], "body",
                  [_vi("acc_in", F, [2]), _vi("item", F, [2])],
                  [_vi("acc_out", F, [2]), _vi("out", F, [2])])
    node = helper.make_node("Scan", ["", "acc0", "x"], ["acc", "outs"], body=body,
                            num_scan_inputs=1, directions=[direction])
    model = make_model([node], [tensor("acc0", np.float32, (3, 2)), tensor("x", np.float32, (3, 4, 2))],
                       [tensor("acc", np.float32, (3, 2)), tensor("outs", np.float32, (3, 4, 2))],
                       opset=8)
    rng = np.random.default_rng(4)
    check_against_ort(model, {"acc0": rng.standard_normal((3, 2), np.float32),
                              "x": rng.standard_normal((3, 4, 2), np.float32)})
