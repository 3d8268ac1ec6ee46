"""Tensor and shape ops against onnxruntime: Reshape, Transpose, Unsqueeze, Squeeze, Flatten,
Concat, Constant, ConstantOfShape, Identity, and Shape/Gather folding."""

import numpy as np
import pytest
from onnx import helper, numpy_helper

from conftest import make_model, tensor
from mlc.runtime import RuntimeInputError


def _random(rng, shape, dtype=np.float32):
    return np.asarray(rng.standard_normal(shape), dtype)


def _shape_init(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


@pytest.mark.parametrize("in_shape,target,out_shape", [
    ((2, 3, 4), [6, 4], (6, 4)),
    ((2, 3, 4), [-1], (24,)),
    ((2, 3, 4), [0, -1], (2, 12)),
    ((2, 3, 4), [0, 0, 2, 2], (2, 3, 2, 2)),
    ((6,), [2, -1, 1], (2, 3, 1)),
    ((1, 1), [], ()),
    ((), [1, 1], (1, 1)),
])
def test_reshape(check_against_ort, in_shape, target, out_shape):
    rng = np.random.default_rng(0)
    # Relu after the reshape keeps it a real op rather than a renamed graph input.
    model = make_model([helper.make_node("Reshape", ["x", "shape"], ["r"]),
                        helper.make_node("Relu", ["r"], ["y"])],
                       [tensor("x", np.float32, in_shape)], [tensor("y", np.float32, out_shape)],
                       initializers=[_shape_init("shape", target)])
    check_against_ort(model, {"x": _random(rng, in_shape)})


def test_reshape_shape_from_graph(check_against_ort):
    """A target shape computed by Shape/Gather/Concat folds to a constant."""
    rng = np.random.default_rng(1)
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Concat", ["n", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"]),
    ]
    model = make_model(nodes, [tensor("x", np.float32, (3, 2, 5))], [tensor("y", np.float32, (3, 10))],
                       initializers=[_shape_init("zero", [0]), _shape_init("minus1", [-1])])
    check_against_ort(model, {"x": _random(rng, (3, 2, 5))})


@pytest.mark.parametrize("shape,perm", [
    ((2, 3), None),
    ((2, 3, 4), None),
    ((2, 3, 4), [0, 2, 1]),
    ((2, 3, 4, 5), [0, 2, 3, 1]),
    ((2, 3, 4, 5), [3, 1, 0, 2]),
    ((2, 3, 4), [0, 1, 2]),
])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_transpose(check_against_ort, shape, perm, dtype):
    rng = np.random.default_rng(2)
    attrs = {} if perm is None else {"perm": perm}
    out_shape = np.transpose(np.empty(shape), perm).shape
    model = make_model([helper.make_node("Transpose", ["x"], ["t"], **attrs),
                        helper.make_node("Mul", ["t", "t"], ["y"])],
                       [tensor("x", dtype, shape)], [tensor("y", dtype, out_shape)])
    check_against_ort(model, {"x": np.asarray(rng.integers(-50, 50, shape), dtype)})


@pytest.mark.parametrize("shape,axes,out_shape", [
    ((3, 4), [0], (1, 3, 4)),
    ((3, 4), [1], (3, 1, 4)),
    ((3, 4), [-1], (3, 4, 1)),
    ((3, 4), [0, 3], (1, 3, 4, 1)),
    ((), [0], (1,)),
])
@pytest.mark.parametrize("opset", [11, 13])
def test_unsqueeze(check_against_ort, shape, axes, out_shape, opset):
    """Opset 11 takes axes as an attribute, opset 13 as a second input."""
    rng = np.random.default_rng(3)
    if opset < 13:
        node, inits = helper.make_node("Unsqueeze", ["x"], ["u"], axes=axes), []
    else:
        node, inits = helper.make_node("Unsqueeze", ["x", "axes"], ["u"]), [_shape_init("axes", axes)]
    model = make_model([node, helper.make_node("Tanh", ["u"], ["y"])],
                       [tensor("x", np.float32, shape)], [tensor("y", np.float32, out_shape)],
                       opset=opset, initializers=inits)
    check_against_ort(model, {"x": _random(rng, shape)})


@pytest.mark.parametrize("shape,axes,out_shape", [
    ((1, 3, 1, 4), [0], (3, 1, 4)),
    ((1, 3, 1, 4), [0, 2], (3, 4)),
    ((1, 3, 1, 4), [-2], (1, 3, 4)),
    ((1, 3, 1, 4), None, (3, 4)),
    ((1,), [0], ()),
])
@pytest.mark.parametrize("opset", [11, 13])
def test_squeeze(check_against_ort, shape, axes, out_shape, opset):
    rng = np.random.default_rng(11)
    if axes is None:
        node, inits = helper.make_node("Squeeze", ["x"], ["s"]), []
    elif opset < 13:
        node, inits = helper.make_node("Squeeze", ["x"], ["s"], axes=axes), []
    else:
        node, inits = helper.make_node("Squeeze", ["x", "axes"], ["s"]), [_shape_init("axes", axes)]
    model = make_model([node, helper.make_node("Relu", ["s"], ["y"])],
                       [tensor("x", np.float32, shape)], [tensor("y", np.float32, out_shape)],
                       opset=opset, initializers=inits)
    check_against_ort(model, {"x": _random(rng, shape)})


@pytest.mark.parametrize("shape,axis", [
    ((2, 3, 4, 5), None), ((2, 3, 4, 5), 0), ((2, 3, 4, 5), 2), ((2, 3, 4, 5), 4),
    ((2, 3, 4, 5), -1), ((5,), 1),
])
@pytest.mark.parametrize("opset", [11, 13])  # negative axes need opset 11
def test_flatten(check_against_ort, shape, axis, opset):
    rng = np.random.default_rng(4)
    attrs = {} if axis is None else {"axis": axis}
    a = 1 if axis is None else axis + len(shape) if axis < 0 else axis
    out_shape = (int(np.prod(shape[:a])), int(np.prod(shape[a:])))
    model = make_model([helper.make_node("Flatten", ["x"], ["f"], **attrs),
                        helper.make_node("Sigmoid", ["f"], ["y"])],
                       [tensor("x", np.float32, shape)], [tensor("y", np.float32, out_shape)],
                       opset=opset)
    check_against_ort(model, {"x": _random(rng, shape)})


@pytest.mark.parametrize("shapes,axis", [
    ([(2, 3), (2, 3)], 0),
    ([(2, 3), (2, 5)], 1),
    ([(1, 2, 4, 4), (1, 3, 4, 4), (1, 1, 4, 4)], 1),
    ([(2, 3, 1), (2, 3, 2), (2, 3, 3)], -1),
    ([(4,), (1,), (2,)], 0),
])
def test_concat(check_against_ort, shapes, axis):
    rng = np.random.default_rng(5)
    names = [f"x{i}" for i in range(len(shapes))]
    out_shape = np.concatenate([np.empty(s) for s in shapes], axis=axis).shape
    model = make_model([helper.make_node("Concat", names, ["y"], axis=axis)],
                       [tensor(n, np.float32, s) for n, s in zip(names, shapes)],
                       [tensor("y", np.float32, out_shape)])
    check_against_ort(model, {n: _random(rng, s) for n, s in zip(names, shapes)})


def test_concat_with_weight_and_nested(check_against_ort):
    """A stored operand, the same input twice, and a concat feeding a concat."""
    rng = np.random.default_rng(6)
    w = _random(rng, (1, 2, 3, 3))
    model = make_model([helper.make_node("Concat", ["x", "w"], ["c"], axis=1),
                        helper.make_node("Concat", ["c", "x", "x"], ["y"], axis=1)],
                       [tensor("x", np.float32, (1, 4, 3, 3))], [tensor("y", np.float32, (1, 14, 3, 3))],
                       initializers=[numpy_helper.from_array(w, "w")])
    check_against_ort(model, {"x": _random(rng, (1, 4, 3, 3))})


@pytest.mark.parametrize("value,x_shape", [
    (np.arange(6, dtype=np.float32).reshape(2, 3), (2, 3)),
    (np.full((2, 3), 2.5, np.float32), (2, 3)),  # a splat
    (np.array(3.0, np.float32), (2, 3)),  # a scalar
    (np.arange(12, dtype=np.float32).reshape(3, 4) / 7, (2, 3, 4)),  # broadcast over x's batch
])
def test_constant_operand(check_against_ort, value, x_shape):
    rng = np.random.default_rng(7)
    model = make_model([helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(value)),
                        helper.make_node("Add", ["x", "c"], ["y"])],
                       [tensor("x", np.float32, x_shape)],
                       [tensor("y", np.float32, np.broadcast_shapes(x_shape, value.shape))])
    check_against_ort(model, {"x": _random(rng, x_shape)})


@pytest.mark.parametrize("attr,value", [
    ("value_float", 1.5), ("value_floats", [1.0, -2.0, 3.5]), ("value_int", 7),
    ("value_ints", [1, 2, 3, 4]),
])
def test_constant_as_output(check_against_ort, attr, value):
    """A Constant node that is itself a graph output, with the scalar/list attribute forms."""
    dtype = np.float32 if "float" in attr else np.int64
    shape = (len(value),) if isinstance(value, list) else ()
    model = make_model([helper.make_node("Constant", [], ["c"], **{attr: value}),
                        helper.make_node("Relu", ["x"], ["y"])],
                       [tensor("x", np.float32, (2,))],
                       [tensor("c", dtype, shape), tensor("y", np.float32, (2,))])
    check_against_ort(model, {"x": np.array([-1.0, 1.0], np.float32)})


@pytest.mark.parametrize("value,dtype", [
    (None, np.float32), (0.5, np.float32), (3, np.int64), (-2, np.int32),
])
@pytest.mark.parametrize("shape", [[2, 3], [4], [1, 2, 1, 3]])
def test_constant_of_shape(check_against_ort, value, dtype, shape):
    """ConstantOfShape both as a graph output and as an operand."""
    attrs = {}
    if value is not None:
        attrs["value"] = numpy_helper.from_array(np.array([value], dtype))
    model = make_model([helper.make_node("ConstantOfShape", ["shape"], ["c"], **attrs),
                        helper.make_node("Add", ["x", "c"], ["y"])],
                       [tensor("x", dtype, shape)], [tensor("c", dtype, shape), tensor("y", dtype, shape)],
                       initializers=[_shape_init("shape", shape)])
    x = np.arange(np.prod(shape)).reshape(shape).astype(dtype)
    check_against_ort(model, {"x": x})


def test_constant_of_shape_from_shape(check_against_ort):
    rng = np.random.default_rng(8)
    model = make_model([helper.make_node("Shape", ["x"], ["s"]),
                        helper.make_node("ConstantOfShape", ["s"], ["c"],
                                         value=numpy_helper.from_array(np.array([2.0], np.float32))),
                        helper.make_node("Mul", ["x", "c"], ["y"])],
                       [tensor("x", np.float32, (3, 4))], [tensor("y", np.float32, (3, 4))])
    check_against_ort(model, {"x": _random(rng, (3, 4))})


@pytest.mark.parametrize("opset", [13, 16])
def test_identity(check_against_ort, opset):
    """Identity of an input straight to an output, and in the middle of a graph."""
    rng = np.random.default_rng(9)
    model = make_model([helper.make_node("Identity", ["x"], ["i"]),
                        helper.make_node("Identity", ["i"], ["j"]),
                        helper.make_node("Relu", ["j"], ["y"])],
                       [tensor("x", np.float32, (2, 3))],
                       [tensor("i", np.float32, (2, 3)), tensor("y", np.float32, (2, 3))], opset=opset)
    check_against_ort(model, {"x": _random(rng, (2, 3))})


def test_identity_of_weight(check_against_ort):
    rng = np.random.default_rng(10)
    w = _random(rng, (4, 4))
    model = make_model([helper.make_node("Identity", ["w"], ["i"]),
                        helper.make_node("MatMul", ["x", "i"], ["y"])],
                       [tensor("x", np.float32, (2, 4))], [tensor("y", np.float32, (2, 4))],
                       initializers=[numpy_helper.from_array(w, "w")])
    check_against_ort(model, {"x": _random(rng, (2, 4))})


@pytest.mark.parametrize("shape", [(2, 3, 4), (5,), ()])
def test_size(check_against_ort, shape):
    """Size of a static shape folds to a constant; Mul by a run-time input keeps it an output."""
    rng = np.random.default_rng(11)
    model = make_model([helper.make_node("Size", ["x"], ["s"]), helper.make_node("Mul", ["s", "k"], ["y"])],
                       [tensor("x", np.float32, shape), tensor("k", np.int64, ())],
                       [tensor("y", np.int64, ())])
    check_against_ort(model, {"x": _random(rng, shape), "k": np.array(3, np.int64)})


@pytest.mark.parametrize("p,axis", [(2, -1), (2, 0), (1, 1)])
@pytest.mark.parametrize("opset", [13, 22])
def test_lp_normalization(check_against_ort, p, axis, opset):
    rng = np.random.default_rng(12)
    x = _random(rng, (3, 4, 5))
    x[1, :, :] = 0  # zero norms along axes 1 and 2 for this slice
    model = make_model([helper.make_node("LpNormalization", ["x"], ["y"], p=p, axis=axis)],
                       [tensor("x", np.float32, x.shape)], [tensor("y", np.float32, x.shape)],
                       opset=opset)
    check_against_ort(model, {"x": x})


@pytest.mark.parametrize("op", ["Gather", "GatherElements", "ScatterElements"])
def test_index_values_out_of_range_are_refused(compile_model_so, op):
    """ONNX makes such an index an error: the call is refused with a message naming the node
    (as onnxruntime refuses it), and a valid call to the same model still runs."""
    data = np.arange(12, dtype=np.float32).reshape(4, 3)
    shape = (2, 2) if op == "Gather" else (2, 3)
    inputs = ["data", "indices"] + (["updates"] if op == "ScatterElements" else [])
    out_shape = (2, 2, 3) if op == "Gather" else (4, 3) if op == "ScatterElements" else (2, 3)
    model = make_model([helper.make_node(op, inputs, ["y"], axis=0, name="picker")],
                       [tensor("data", np.float32, data.shape), tensor("indices", np.int64, shape)]
                       + ([tensor("updates", np.float32, shape)] if op == "ScatterElements" else []),
                       [tensor("y", np.float32, out_shape)])
    m = compile_model_so(model)
    feeds = {"data": data, "indices": np.array([[1, 3, 0], [-4, 2, 1]][:2])[:, :shape[1]]}
    if op == "ScatterElements":
        feeds["updates"] = np.ones(shape, np.float32)
    m.run(feeds)  # in range, negative ones too
    for bad in (4, -5, 10**9):
        feeds["indices"] = feeds["indices"].copy()
        feeds["indices"][1, 0] = bad
        with pytest.raises(RuntimeInputError,
                           match=r"node 'picker' \(%s.*index along axis 0 is outside \[-4, 3\]" % op):
            m.run(feeds)


@pytest.mark.parametrize("time_axis", [0, 1])
def test_reverse_sequence(check_against_ort, time_axis):
    """Each batch entry's first lens[b] steps reversed, the rest kept; lens given at run time."""
    rng = np.random.default_rng(5)
    shape = (6, 4, 3) if time_axis == 0 else (4, 6, 3)
    x = _random(rng, shape)
    lens = np.array([6, 1, 3, 0], np.int64)
    model = make_model([helper.make_node("ReverseSequence", ["x", "lens"], ["y"],
                                         time_axis=time_axis, batch_axis=1 - time_axis)],
                       [tensor("x", np.float32, shape), tensor("lens", np.int64, (4,))],
                       [tensor("y", np.float32, shape)], opset=10)
    check_against_ort(model, {"x": x, "lens": lens})
