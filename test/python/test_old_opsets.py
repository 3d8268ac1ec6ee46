"""Models older than opset 7, upgraded by onnx.version_converter before import.

onnxruntime does not run opset-6 models, so the references are the outputs onnx ships with its
pytorch backend cases, and numpy for the hand-built model.
"""

import glob
from pathlib import Path

import numpy as np
import onnx
import onnx.backend.test.loader
import pytest
from onnx import helper, numpy_helper

from conftest import assert_close, make_model, tensor
from mlc.errors import InputError, UnsupportedError
from mlc.importer import import_model
from mlc.mlir_context import make_context

_DATA = Path(onnx.backend.test.loader.DATA_DIR)


@pytest.mark.parametrize("case", [
    "pytorch-converted/test_PReLU_2d_multiparam",      # a per-channel slope of shape [C]
    "pytorch-converted/test_BatchNorm2d_eval",         # BatchNormalization-6's is_test/spatial
    "pytorch-converted/test_GLU",                      # Split-2's split attribute
    "pytorch-converted/test_Linear",                   # Gemm-6's broadcast attribute
    "pytorch-operator/test_operator_add_size1_broadcast",
    "pytorch-operator/test_operator_symbolic_override",  # InstanceNormalization-6
])
def test_pytorch_opset6_case(compile_model_so, case):
    folder = _DATA / case
    model = onnx.load(folder / "model.onnx")
    assert model.opset_import[0].version == 6
    weights = {init.name for init in model.graph.initializer}
    names = [vi.name for vi in model.graph.input if vi.name not in weights]
    compiled = compile_model_so(model)
    for data_set in sorted(glob.glob(str(folder / "test_data_set_*"))):
        inputs = [_read(p) for p in sorted(glob.glob(f"{data_set}/input_*.pb"))]
        expected = [_read(p) for p in sorted(glob.glob(f"{data_set}/output_*.pb"))]
        actual = list(compiled.run(dict(zip(names, inputs))).values())
        assert_close(actual, expected, rtol=1e-3, atol=1e-6)


def _read(path: str) -> np.ndarray:
    return numpy_helper.to_array(onnx.TensorProto.FromString(Path(path).read_bytes()))


def _opset6_model(nodes, inputs, outputs, initializers=(), check=True):
    # IR 4: initializers need not be graph inputs.
    return make_model(nodes, inputs, outputs, opset=6, ir_version=4, initializers=initializers,
                      check=check)


def test_legacy_broadcast_and_channel_slope(compile_model_so):
    rng = np.random.default_rng(0)
    slope = np.array([0.1, 0.2, 0.3], np.float32)
    nodes = [helper.make_node("Add", ["x", "b"], ["s"], broadcast=1),
             helper.make_node("PRelu", ["s", "slope"], ["y"])]
    model = _opset6_model(nodes, [tensor("x", np.float32, (2, 3, 4, 5)),
                                  tensor("b", np.float32, (5,))],
                          [tensor("y", np.float32, (2, 3, 4, 5))],
                          [numpy_helper.from_array(slope, "slope")])
    x = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
    b = rng.standard_normal(5).astype(np.float32)
    s = x + b
    expected = np.where(s < 0, s * slope.reshape(3, 1, 1), s)
    assert_close(list(compile_model_so(model).run({"x": x, "b": b}).values()), [expected])


def test_unconvertible_model_names_the_converter_reason():
    # The converter's adapter for a broadcast along `axis` rejects these shapes.
    nodes = [helper.make_node("Add", ["x", "b"], ["y"], broadcast=1, axis=1)]
    model = _opset6_model(nodes, [tensor("x", np.float32, (2, 3, 4, 5)),
                                  tensor("b", np.float32, (3, 4))],
                          [tensor("y", np.float32, (2, 3, 4, 5))])
    reason = (r"old\.onnx: opset 6 is older than mlc supports \(7 to \d+\), "
              r"and onnx.version_converter cannot upgrade it: Dimension 0")
    with pytest.raises(InputError, match=reason):
        import_model(model, make_context(), source="old.onnx")


def test_symbolic_dims_hint_at_pinning_shapes():
    """The converter's broadcast adapter needs dims: the error says to pin them, and pinning works."""
    nodes = [helper.make_node("Add", ["x", "b"], ["y"], broadcast=1)]
    model = _opset6_model(nodes, [tensor("x", np.float32, ("n", 3)), tensor("b", np.float32, (3,))],
                          [tensor("y", np.float32, ("n", 3))])
    with pytest.raises(InputError, match="cannot upgrade it: n Dimension is a param") as error:
        import_model(model, make_context(), source="old.onnx")
    assert "--input-shape" in error.value.hint
    imported = import_model(model, make_context(), source="old.onnx", input_shapes=[("x", (2, 3))])
    assert "mlc.add" in str(imported.module)


def test_invalid_old_model_fails_the_checker_first():
    nodes = [helper.make_node("NoSuchOp", ["x"], ["y"])]
    model = _opset6_model(nodes, [tensor("x", np.float32, (2,))], [tensor("y", np.float32, (2,))],
                          check=False)
    reason = "old.onnx: the model fails the ONNX checker: No Op registered for NoSuchOp"
    with pytest.raises(InputError, match=reason):
        import_model(model, make_context(), source="old.onnx")


def test_model_of_another_domain_only_is_unsupported():
    node = helper.make_node("Binarizer", ["x"], ["y"], domain="ai.onnx.ml")
    graph = helper.make_graph([node], "g", [tensor("x", np.float32, (2,))],
                              [tensor("y", np.float32, (2,))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("ai.onnx.ml", 1)],
                              ir_version=8)
    reason = "ml.onnx: the model imports only the opsets ai.onnx.ml 1; mlc compiles only ops"
    with pytest.raises(UnsupportedError, match=reason):
        import_model(model, make_context(), source="ml.onnx")
