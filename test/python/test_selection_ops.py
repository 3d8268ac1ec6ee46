"""Ops whose output size depends on the input values (NonZero, Compress, Unique,
NonMaxSuppression) against onnxruntime and onnx's reference implementation, and the ABI that
returns such outputs in their actual size (mlc_run_sized, data-dependent dims in mlc_model()).
"""

import ctypes
import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from conftest import assert_close, make_model, tensor


def _model(node, inputs, outputs, opset=13, initializers=()):
    """A one-node model; output dims are left to inference ([None] * rank)."""
    outs = [helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(np.dtype(dtype)),
                                          [None] * rank) for name, dtype, rank in outputs]
    return make_model([node], inputs, outs, opset=opset, initializers=initializers)


def _check_reference(compile_and_run, model, feeds):
    """mlc's outputs match onnx's reference implementation (for what onnxruntime lacks)."""
    expected = ReferenceEvaluator(model).run(None, feeds)
    assert_close(compile_and_run(model, feeds), expected)


# -- NonZero -------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,dtype", [((3, 4), np.float32), ((5,), np.int32),
                                         ((2, 3, 4), np.int64), ((2, 2), np.bool_)])
def test_nonzero(check_against_ort, shape, dtype):
    rng = np.random.default_rng(0)
    x = (rng.integers(-2, 3, shape) * (rng.random(shape) > 0.4)).astype(dtype)
    model = _model(helper.make_node("NonZero", ["x"], ["y"]), [tensor("x", dtype, shape)],
                   [("y", np.int64, 2)])
    out = check_against_ort(model, {"x": x})
    assert out[0].shape[1] == np.count_nonzero(x) < x.size  # a size the data decided


def test_nonzero_all_zero_and_nan(compile_model_so):
    model = _model(helper.make_node("NonZero", ["x"], ["y"]), [tensor("x", np.float32, (2, 3))],
                   [("y", np.int64, 2)])
    m = compile_model_so(model)
    assert m.run({"x": np.zeros((2, 3), np.float32)})["y"].shape == (2, 0)
    x = np.array([[0, np.nan, 0], [0, 0, -0.0]], np.float32)  # NaN is nonzero, -0.0 is not
    np.testing.assert_array_equal(m.run({"x": x})["y"], np.array(np.nonzero(x)))


# -- Compress ------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,axis,length", [((3, 4), 0, 3), ((3, 4), 1, 4), ((3, 4), -1, 2),
                                               ((2, 3, 4), 1, 3), ((3, 4), None, 12),
                                               ((3, 4), None, 5)])
def test_compress(check_against_ort, shape, axis, length):
    rng = np.random.default_rng(1)
    attrs = {} if axis is None else {"axis": axis}
    model = _model(helper.make_node("Compress", ["x", "c"], ["y"], **attrs),
                   [tensor("x", np.float32, shape), tensor("c", np.bool_, (length,))],
                   [("y", np.float32, 1 if axis is None else len(shape))], opset=11)
    condition = rng.random(length) > 0.5
    condition[0] = True
    check_against_ort(model, {"x": rng.standard_normal(shape).astype(np.float32), "c": condition})


def test_compress_bool_data(compile_and_run):
    """Bool data travels as bytes through the loop that copies it."""
    model = _model(helper.make_node("Compress", ["x", "c"], ["y"], axis=0),
                   [tensor("x", np.bool_, (4, 2)), tensor("c", np.bool_, (4,))],
                   [("y", np.bool_, 2)], opset=11)
    x = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], np.bool_)
    c = np.array([False, True, True, False])
    np.testing.assert_array_equal(compile_and_run(model, {"x": x, "c": c})[0], x[c])


def test_compress_constant_condition(check_against_ort, compile_model_so):
    """A constant condition selects fixed slices: the output shape is static."""
    condition = onnx.numpy_helper.from_array(np.array([True, False, True]), "c")
    model = make_model([helper.make_node("Compress", ["x", "c"], ["y"], axis=1)],
                       [tensor("x", np.float32, (2, 3))], [tensor("y", np.float32, (2, 2))],
                       opset=11, initializers=[condition])
    check_against_ort(model, {"x": np.arange(6, dtype=np.float32).reshape(2, 3)})
    assert compile_model_so(model).outputs[0].shape == (2, 2)


# -- Unique --------------------------------------------------------------------------------
def _unique_model(shape, dtype, outputs=4, **attrs):
    names = ["y", "indices", "inverse", "counts"][:outputs]
    return _model(helper.make_node("Unique", ["x"], names, **attrs), [tensor("x", dtype, shape)],
                  [(name, dtype if name == "y" else np.int64,
                    len(shape) if name == "y" and "axis" in attrs else 1) for name in names],
                  opset=11)


@pytest.mark.parametrize("sorted_", [1, 0])
@pytest.mark.parametrize("shape,axis", [((10,), None), ((3, 4), None), ((6, 3), 0), ((2, 5, 2), 1),
                                        ((3, 6), -1)])
def test_unique(check_against_ort, sorted_, shape, axis):
    rng = np.random.default_rng(2)
    x = rng.integers(-2, 2, shape).astype(np.float32)
    if axis is not None:  # slices drawn from three, so some repeat
        pool = np.take(x, [0, 1, 2], axis=axis)
        x = np.take(pool, rng.integers(0, 3, shape[axis]), axis=axis)
    attrs = {"sorted": sorted_} | ({} if axis is None else {"axis": axis})
    out = check_against_ort(_unique_model(shape, np.float32, **attrs), {"x": x})
    assert out[1].size < (x.size if axis is None else x.shape[axis])  # duplicates were dropped


@pytest.mark.parametrize("dtype", [np.int64, np.int8])
def test_unique_integers(check_against_ort, dtype):
    x = np.array([3, -1, 3, 0, -128 if dtype == np.int8 else -5, -1, 2], dtype)
    check_against_ort(_unique_model(x.shape, dtype), {"x": x})


def test_unique_unsigned_and_fewer_outputs(compile_and_run):
    """uint8 sorts as unsigned (200 > 3); a node with only Y and indices."""
    x = np.array([200, 3, 200, 7, 3], np.uint8)
    _check_reference(compile_and_run, _unique_model(x.shape, np.uint8, outputs=2), {"x": x})


def test_unique_nan_sorts_last(compile_and_run):
    x = np.array([2, np.nan, 1, np.nan, 2], np.float32)
    y = compile_and_run(_unique_model(x.shape, np.float32, outputs=1), {"x": x})[0]
    np.testing.assert_array_equal(y, np.unique(x))


# -- NonMaxSuppression ---------------------------------------------------------------------
def _nms_inputs(rng, batches, classes, boxes, center):
    if center:  # [x_center, y_center, width, height]
        corners = rng.random((batches, boxes, 4))
        corners[..., 2:] = corners[..., 2:] * 0.5 + 0.1
    else:  # [y1, x1, y2, x2], some with the corners swapped
        low = rng.random((batches, boxes, 2))
        corners = np.concatenate([low, low + rng.random(low.shape) * 0.5 + 0.05], axis=-1)
        flip = rng.random((batches, boxes)) < 0.3
        corners[flip] = corners[flip][:, [2, 3, 0, 1]]
    scores = rng.random((batches, classes, boxes)).astype(np.float32)
    scores[0, 0, :2] = 0.75  # a tie: the lower index first
    return corners.astype(np.float32), scores


@pytest.mark.parametrize("center", [0, 1])
@pytest.mark.parametrize("batches,classes,boxes,limit,iou,score", [
    (1, 1, 6, 3, 0.5, 0.0), (2, 3, 8, 4, 0.3, 0.2), (1, 2, 7, 10, 0.0, 0.5), (2, 1, 5, 0, 0.5, 0.1)])
def test_non_max_suppression(check_against_ort, center, batches, classes, boxes, limit, iou, score):
    rng = np.random.default_rng(3)
    corners, scores = _nms_inputs(rng, batches, classes, boxes, center)
    model = _model(helper.make_node("NonMaxSuppression", ["b", "s", "m", "iou", "st"], ["y"],
                                    center_point_box=center),
                   [tensor("b", np.float32, corners.shape), tensor("s", np.float32, scores.shape),
                    tensor("m", np.int64, (1,)), tensor("iou", np.float32, (1,)),
                    tensor("st", np.float32, (1,))], [("y", np.int64, 2)], opset=11)
    check_against_ort(model, {"b": corners, "s": scores, "m": np.array([limit]),
                              "iou": np.array([iou], np.float32), "st": np.array([score], np.float32)})


def test_non_max_suppression_constant_limit_and_no_threshold(check_against_ort, compile_model_so):
    """A constant max_output_boxes_per_class bounds the output; no score threshold given."""
    rng = np.random.default_rng(4)
    corners, scores = _nms_inputs(rng, 2, 2, 9, 0)
    limit = onnx.numpy_helper.from_array(np.array([2], np.int64), "m")
    model = _model(helper.make_node("NonMaxSuppression", ["b", "s", "m"], ["y"]),
                   [tensor("b", np.float32, corners.shape), tensor("s", np.float32, scores.shape)],
                   [("y", np.int64, 2)], opset=11, initializers=[limit])
    check_against_ort(model, {"b": corners, "s": scores})
    assert compile_model_so(model).outputs[0].shape == ("<=8", 3)  # 2 batches * 2 classes * 2


def test_elementwise_readers_and_transpose_carry_the_size(check_against_ort):
    """torch.nonzero's NonZero + Transpose, through a broadcast Mul and a Cast."""
    scale = onnx.numpy_helper.from_array(np.array([[1], [10]], np.int64), "scale")
    nodes = [helper.make_node("NonZero", ["x"], ["nz"]),
             helper.make_node("Mul", ["nz", "scale"], ["scaled"]),
             helper.make_node("Transpose", ["scaled"], ["t"]),
             helper.make_node("Cast", ["t"], ["y"], to=TensorProto.FLOAT)]
    model = make_model(nodes, [tensor("x", np.float32, (3, 4))], [tensor("y", np.float32, (None, 2))],
                       initializers=[scale])
    x = (np.random.default_rng(5).random((3, 4)) > 0.5).astype(np.float32)
    check_against_ort(model, {"x": x})


def test_non_max_suppression_without_limit_selects_nothing(check_against_ort, compile_model_so):
    """max_output_boxes_per_class left out is 0: a bound of 0 rows."""
    rng = np.random.default_rng(6)
    corners, scores = _nms_inputs(rng, 1, 2, 4, 0)
    model = _model(helper.make_node("NonMaxSuppression", ["b", "s"], ["y"]),
                   [tensor("b", np.float32, corners.shape), tensor("s", np.float32, scores.shape)],
                   [("y", np.int64, 2)], opset=11)
    assert check_against_ort(model, {"b": corners, "s": scores})[0].shape == (0, 3)
    assert compile_model_so(model).outputs[0].shape == ("<=0", 3)


# -- the ABI -------------------------------------------------------------------------------
@pytest.fixture
def nonzero_and_relu(compile_model_so):
    """A model with a data-dependent output between two ordinary ones."""
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("NonZero", ["x"], ["nz"]),
             helper.make_node("Neg", ["x"], ["n"])]
    model = make_model(nodes, [tensor("x", np.float32, (2, 3))],
                       [tensor("r", np.float32, (2, 3)), tensor("nz", np.int64, (2, None)),
                        tensor("n", np.float32, (2, 3))])
    return compile_model_so(model)


def test_runtime_describes_and_sizes_outputs(nonzero_and_relu):
    m = nonzero_and_relu
    assert [s.shape for s in m.outputs] == [(2, 3), (2, "<=6"), (2, 3)]
    assert "nz: int64[2x<=6]" in repr(m)
    x = np.zeros((2, 3), np.float32)
    assert m.output_shapes({"x": x})["nz"] == (2, 6)  # before a run: the bound
    for count in (0, 1, 4, 6):
        x = np.zeros(6, np.float32)
        x[np.random.default_rng(count).permutation(6)[:count]] = np.arange(1, count + 1)
        x = x.reshape(2, 3)
        out = m.run({"x": x})
        np.testing.assert_array_equal(out["nz"], np.array(np.nonzero(x)))
        np.testing.assert_array_equal(out["r"], np.maximum(x, 0))
        np.testing.assert_array_equal(out["n"], -x)


def test_c_abi_reports_actual_shapes(nonzero_and_relu):
    """mlc_run and mlc_run_shaped refuse a data-dependent model; mlc_run_sized writes the
    output dense in its actual shape at the start of the bound-sized buffer."""
    info_shape = ctypes.POINTER(ctypes.c_int64)
    lib = ctypes.CDLL(str(nonzero_and_relu.path))
    x = np.array([[0, 5, 0], [7, 0, 8]], np.float32)
    r, nz, n = np.zeros((2, 3), np.float32), np.full((2, 6), -1, np.int64), np.zeros((2, 3), np.float32)
    ins = (ctypes.c_void_p * 1)(x.ctypes.data)
    outs = (ctypes.c_void_p * 3)(r.ctypes.data, nz.ctypes.data, n.ctypes.data)
    in_shapes = (info_shape * 1)((ctypes.c_int64 * 2)(2, 3))
    assert lib.mlc_run(ins, outs) == 4  # MLC_STATUS_NEEDS_OUTPUT_SHAPES
    assert lib.mlc_run_shaped(ins, in_shapes, outs) == 4
    assert lib.mlc_run_sized(ins, in_shapes, outs, None) == 4
    out_shapes = [(ctypes.c_int64 * 2)() for _ in range(3)]
    assert lib.mlc_run_sized(ins, in_shapes, outs, (info_shape * 3)(*out_shapes)) == 0
    assert [tuple(s) for s in out_shapes] == [(2, 3), (2, 3), (2, 3)]
    np.testing.assert_array_equal(nz.reshape(-1)[:6].reshape(2, 3), np.array(np.nonzero(x)))


def test_c_example_prints_actual_shapes(nonzero_and_relu, tmp_path):
    from mlc.runtime.header import include_dir

    source = __import__("pathlib").Path(__file__).parents[2] / "tools" / "c_example" / "run_model.c"
    exe = tmp_path / "run_model"
    subprocess.run(["cc", "-std=c11", "-O2", f"-I{include_dir()}", str(source), "-o", str(exe),
                    "-ldl", "-lm"], check=True)
    done = subprocess.run([str(exe), str(nonzero_and_relu.path), "100"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    # run_model's input: (i % 17) * 0.0625 - 0.5, which is 0 nowhere in the first 6 elements
    x = (np.arange(6) % 17 * 0.0625 - 0.5).astype(np.float32).reshape(2, 3)
    expected = np.array(np.nonzero(x))
    assert "output 1: nz int64[2x<=6]" in done.stdout
    assert f"output 1: nz shape 2x{expected.shape[1]}" in done.stdout
    assert "nz: " + " ".join(map(str, expected.reshape(-1))) in done.stdout


# -- refusals ------------------------------------------------------------------------------
def test_reader_of_data_dependent_value_is_refused(tmp_path):
    nodes = [helper.make_node("NonZero", ["x"], ["nz"], name="find"),
             helper.make_node("ReduceSum", ["nz"], ["y"], name="sum")]
    model = make_model(nodes, [tensor("x", np.float32, (2, 3))], [tensor("y", np.int64, (1, 1))])
    onnx.save(model, tmp_path / "m.onnx")
    done = subprocess.run([sys.executable, "-m", "mlc", "compile", str(tmp_path / "m.onnx"), "-o",
                           str(tmp_path / "m.so")], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "node 'sum' (ReduceSum, opset 13) reads 'nz', the result of node 'find' (NonZero)" in done.stderr
    assert "depends on the input values" in done.stderr
