"""Sequences built and read inside the graph (resolved at compile time) against onnxruntime:
SplitToSequence, SequenceConstruct/Empty/Insert/Erase/At/Length, ConcatFromSequence, and
OptionalGetElement/OptionalHasElement on present values."""

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

from conftest import make_model, tensor
from mlc.errors import InputError, UnsupportedError
from mlc.importer import import_model
from mlc.mlir_context import make_context


def _random(rng, shape, dtype=np.float32):
    return np.asarray(rng.standard_normal(shape), dtype)


def _int(name, value, dtype=np.int64):
    return numpy_helper.from_array(np.array(value, dtype), name)


@pytest.mark.parametrize("split,axis,keepdims,concat", [
    (None, 1, 1, dict(axis=1)),             # size-1 parts, concatenated back
    (None, -1, 0, dict(axis=-1, new_axis=1)),  # squeezed parts, stacked back
    (3, 1, 1, dict(axis=1)),                # chunks of 3 and a remainder of 1
    ([1, 4, 2], 1, 0, dict(axis=1)),        # keepdims applies only without split
    ([2, 1], 0, 1, dict(axis=0)),
])
def test_split_to_sequence_and_back(check_against_ort, split, axis, keepdims, concat):
    rng = np.random.default_rng(0)
    inputs, inits = ["x"], []
    if split is not None:
        inputs.append("split")
        inits.append(_int("split", split))
    nodes = [
        helper.make_node("SplitToSequence", inputs, ["parts"], axis=axis, keepdims=keepdims),
        helper.make_node("ConcatFromSequence", ["parts"], ["joined"], **concat),
        helper.make_node("Relu", ["joined"], ["y"]),
        helper.make_node("SequenceLength", ["parts"], ["count"]),
    ]
    model = make_model(nodes, [tensor("x", np.float32, (3, 7))],
                       [tensor("y", np.float32, (3, 7)), tensor("count", np.int64, ())],
                       opset=12, initializers=inits)
    check_against_ort(model, {"x": _random(rng, (3, 7))})


@pytest.mark.parametrize("pos_dtype", [np.int64, np.int32])
def test_insert_erase_at_with_negative_positions(check_against_ort, pos_dtype):
    """Graph inputs and a weight go in; positions count from either end."""
    rng = np.random.default_rng(1)
    weight = numpy_helper.from_array(_random(rng, (2, 3)), "w")
    nodes = [
        helper.make_node("SequenceEmpty", [], ["empty"], dtype=onnx.TensorProto.FLOAT),
        helper.make_node("SequenceInsert", ["empty", "a"], ["s1"]),
        helper.make_node("SequenceInsert", ["s1", "w", "front"], ["s2"]),    # [w, a]
        helper.make_node("SequenceInsert", ["s2", "b", "minus1"], ["s3"]),   # [w, b, a]
        helper.make_node("SequenceErase", ["s3", "minus3"], ["s4"]),         # [b, a]
        helper.make_node("SequenceErase", ["s4"], ["s5"]),                   # [b]
        helper.make_node("SequenceAt", ["s3", "minus1"], ["last"]),          # a
        helper.make_node("SequenceAt", ["s3", "front"], ["first"]),          # w
        helper.make_node("SequenceAt", ["s5", "front"], ["only"]),           # b
        helper.make_node("Add", ["last", "first"], ["sum"]),
        helper.make_node("Sub", ["sum", "only"], ["y"]),
        helper.make_node("SequenceLength", ["s4"], ["count"]),
    ]
    model = make_model(nodes, [tensor("a", np.float32, (2, 3)), tensor("b", np.float32, (2, 3))],
                       [tensor("y", np.float32, (2, 3)), tensor("count", np.int64, ())], opset=12,
                       initializers=[weight, _int("front", 0, pos_dtype),
                                     _int("minus1", -1, pos_dtype), _int("minus3", -3, pos_dtype)])
    check_against_ort(model, {"a": _random(rng, (2, 3)), "b": _random(rng, (2, 3))})


def test_construct_identity_concat_with_constant_elements(check_against_ort):
    """A sequence of a graph input and a weight, passed through Identity, concatenated."""
    rng = np.random.default_rng(2)
    weight = numpy_helper.from_array(_random(rng, (1, 4)), "w")
    nodes = [
        helper.make_node("SequenceConstruct", ["w", "x", "w"], ["s"]),
        helper.make_node("Identity", ["s"], ["t"]),
        helper.make_node("ConcatFromSequence", ["t"], ["y"], axis=-2),
    ]
    model = make_model(nodes, [tensor("x", np.float32, (2, 4))], [tensor("y", np.float32, (4, 4))],
                       opset=14, initializers=[weight])  # Identity takes sequences from 14
    check_against_ort(model, {"x": _random(rng, (2, 4))})


def test_sequence_of_constants_folds(check_against_ort):
    """Every element known at compile time: the concat is a constant added to the input."""
    rng = np.random.default_rng(3)
    nodes = [
        helper.make_node("SplitToSequence", ["w"], ["s"], axis=0, keepdims=0),
        helper.make_node("ConcatFromSequence", ["s"], ["c"], axis=0, new_axis=1),
        helper.make_node("Add", ["x", "c"], ["y"]),
    ]
    weight = numpy_helper.from_array(np.arange(6, dtype=np.int32).reshape(2, 3), "w")
    model = make_model(nodes, [tensor("x", np.int32, (2, 3))], [tensor("y", np.int32, (2, 3))],
                       opset=12, initializers=[weight])
    check_against_ort(model, {"x": rng.integers(-5, 5, (2, 3)).astype(np.int32)})


def test_optional_ops_on_present_values(check_against_ort):
    nodes = [
        helper.make_node("OptionalGetElement", ["x"], ["got"]),
        helper.make_node("Neg", ["got"], ["y"]),
        helper.make_node("OptionalHasElement", ["x"], ["has"]),
        helper.make_node("OptionalHasElement", [], ["has_none"]),
    ]
    model = make_model(nodes, [tensor("x", np.float32, (3,))],
                       [tensor("y", np.float32, (3,)), tensor("has", np.bool_, ()),
                        tensor("has_none", np.bool_, ())], opset=18)
    check_against_ort(model, {"x": np.array([1.0, -2.0, 3.0], np.float32)})


def _import(model):
    return import_model(model, make_context(), source="seq.onnx")


def test_position_out_of_range_is_an_input_error():
    nodes = [helper.make_node("SequenceConstruct", ["x", "x"], ["s"]),
             helper.make_node("SequenceAt", ["s", "pos"], ["y"], name="pick")]
    model = make_model(nodes, [tensor("x", np.float32, (2,))], [tensor("y", np.float32, (2,))],
                       opset=12, initializers=[_int("pos", 2)])
    with pytest.raises(InputError, match=r"node 'pick' \(SequenceAt, opset 12\): position 2 is "
                                         r"out of range for a sequence of length 2"):
        _import(model)


def test_sequence_graph_input_is_refused():
    seq_in = helper.make_tensor_sequence_value_info("s", onnx.TensorProto.FLOAT, [2])
    nodes = [helper.make_node("SequenceAt", ["s", "pos"], ["y"])]
    model = make_model(nodes, [seq_in], [tensor("y", np.float32, (2,))], opset=12,
                       initializers=[_int("pos", 0)])
    with pytest.raises(UnsupportedError, match="graph input 's' is a sequence"):
        _import(model)
