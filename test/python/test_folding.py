"""Compile-time evaluation in the importer: chains on constants fold, and the types ONNX's
whole-graph inference leaves symbolic become static, as in exported transformers."""

import numpy as np
from onnx import helper, numpy_helper

from conftest import make_model, tensor


def _int64(name, values):
    return numpy_helper.from_array(np.array(values, np.int64), name)


def test_shape_through_where_folds(check_against_ort):
    """Reshape to a shape computed by ConstantOfShape/Mul/Equal/Where (torch's Expand idiom):
    no handler is needed for Equal or Where, and the symbolic output dims become [6, 4]."""
    nodes = [
        helper.make_node("ConstantOfShape", ["rank"], ["ones"],
                         value=helper.make_tensor("v", 7, [1], [1])),
        helper.make_node("Mul", ["ones", "minus1"], ["neg"]),
        helper.make_node("Equal", ["target", "neg"], ["is_neg"]),
        helper.make_node("Where", ["is_neg", "four", "target"], ["shape"]),
        helper.make_node("Reshape", ["x", "shape"], ["r"]),
        helper.make_node("Relu", ["r"], ["y"]),
    ]
    inits = [_int64("rank", [2]), _int64("minus1", -1), _int64("target", [6, -1]),
             _int64("four", [4, 4])]
    model = make_model(nodes, [tensor("x", np.float32, (2, 3, 4))],
                       [tensor("y", np.float32, ["a", "b"])], opset=17, initializers=inits)
    x = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)
    (y,) = check_against_ort(model, {"x": x})
    assert y.shape == (6, 4)


def test_gather_elements_on_constants_folds(check_against_ort):
    """Position ids as BERT exports them: GatherElements of a constant range; onnx's reference
    implementation gets this shape wrong, so the folder has its own."""
    positions = np.arange(64, dtype=np.int64).reshape(1, 64)
    nodes = [
        helper.make_node("GatherElements", ["positions", "index"], ["ids"], axis=1),
        helper.make_node("Gather", ["table", "ids"], ["emb"]),
        helper.make_node("Add", ["x", "emb"], ["y"]),
    ]
    rng = np.random.default_rng(1)
    inits = [numpy_helper.from_array(positions, "positions"),
             _int64("index", np.arange(3, 19).reshape(1, 16)),
             numpy_helper.from_array(rng.standard_normal((64, 8)).astype(np.float32), "table")]
    model = make_model(nodes, [tensor("x", np.float32, (1, 16, 8))],
                       [tensor("y", np.float32, (1, 16, 8))], opset=17, initializers=inits)
    check_against_ort(model, {"x": rng.standard_normal((1, 16, 8)).astype(np.float32)})
