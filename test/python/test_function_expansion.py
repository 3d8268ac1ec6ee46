"""Ops mlc imports through their ONNX function body, against onnxruntime: the losses
(context-dependent bodies), Shrink (a body newer than the model's opset), PRelu, MVN; and how
`function_expansion.expand` binds a body to a node."""

import numpy as np
import onnx
import pytest
from onnx import helper

from conftest import make_model, tensor
from mlc.errors import UnsupportedError
from mlc.importer import import_model
from mlc.importer.function_expansion import expand
from mlc.importer.handlers import HANDLERS
from mlc.mlir_context import make_context


def _random(rng, shape, scale=1.0):
    return np.asarray(rng.standard_normal(shape) * scale, np.float32)


def _targets(rng, shape, classes, ignore_index):
    target = rng.integers(0, classes, shape).astype(np.int64)
    if ignore_index is not None:
        target.flat[::3] = ignore_index  # some ignored entries, so the masking is exercised
    return target


@pytest.fixture(autouse=True)
def _through_the_body(monkeypatch):
    """These ops go through their body even once mlc has handlers for them."""
    for op in ("NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss", "Shrink", "PRelu",
               "MeanVarianceNormalization", "Det", "Bernoulli", "RandomUniformLike"):
        monkeypatch.delitem(HANDLERS, op, raising=False)


LOSS_CASES = [
    # (input shape, reduction, weight, ignore_index)
    ((4, 5), "mean", False, None),
    ((4, 5), "sum", True, None),
    ((4, 5), "none", False, 2),
    ((3, 5, 6), "mean", True, 1),
    ((3, 5, 6), "none", True, None),
    ((2, 4, 3, 2), "sum", False, -1),
    ((2, 4, 3, 2), "mean", True, -1),
]


def _loss_model(rng, op, shape, reduction, weight, ignore_index, opset, x_scale=1.0,
                log_prob=False):
    """A model of one loss node on scores x [N, C, ...] and targets t (and weights w), and
    feeds for it."""
    n, c, rest = shape[0], shape[1], shape[2:]
    out_shape = (n, *rest) if reduction == "none" else ()
    attrs = {"reduction": reduction}
    if ignore_index is not None:
        attrs["ignore_index"] = ignore_index
    outputs = ["y", "log_prob"] if log_prob else ["y"]
    node = helper.make_node(op, ["x", "t", "w" if weight else ""], outputs, **attrs)
    inputs = [tensor("x", np.float32, shape), tensor("t", np.int64, (n, *rest))]
    feeds = {"x": _random(rng, shape, x_scale), "t": _targets(rng, (n, *rest), c, ignore_index)}
    if weight:
        inputs.append(tensor("w", np.float32, (c,)))
        feeds["w"] = (rng.random(c) + 0.5).astype(np.float32)
    out_values = [tensor("y", np.float32, out_shape)]
    if log_prob:
        out_values.append(tensor("log_prob", np.float32, shape))
    return make_model([node], inputs, out_values, opset=opset), feeds


@pytest.mark.parametrize("shape,reduction,weight,ignore_index", LOSS_CASES)
def test_nll_loss(check_against_ort, shape, reduction, weight, ignore_index):
    check_against_ort(*_loss_model(np.random.default_rng(0), "NegativeLogLikelihoodLoss", shape,
                                   reduction, weight, ignore_index, opset=22))


@pytest.mark.parametrize("shape,reduction,weight,ignore_index", LOSS_CASES)
@pytest.mark.parametrize("log_prob", [False, True])
def test_softmax_cross_entropy_loss(check_against_ort, shape, reduction, weight, ignore_index,
                                    log_prob):
    check_against_ort(*_loss_model(np.random.default_rng(1), "SoftmaxCrossEntropyLoss", shape,
                                   reduction, weight, ignore_index, opset=13, x_scale=2.0,
                                   log_prob=log_prob))


@pytest.mark.parametrize("attrs", [{}, {"lambd": 1.5, "bias": 0.25}])
def test_shrink_at_an_opset_older_than_its_body(check_against_ort, attrs):
    """Shrink-9's only body is written in opset 18 (it needs CastLike); defaults come from
    the schema when the node omits them."""
    rng = np.random.default_rng(2)
    model = make_model([helper.make_node("Shrink", ["x"], ["y"], **attrs)],
                       [tensor("x", np.float32, (3, 7))], [tensor("y", np.float32, (3, 7))],
                       opset=9)
    check_against_ort(model, {"x": _random(rng, (3, 7), 2.0)})


@pytest.mark.parametrize("x_shape,slope_shape", [((2, 3, 4), (3, 1)), ((2, 5), (5,))])
def test_prelu(check_against_ort, x_shape, slope_shape):
    rng = np.random.default_rng(3)
    model = make_model([helper.make_node("PRelu", ["x", "slope"], ["y"])],
                       [tensor("x", np.float32, x_shape), tensor("slope", np.float32, slope_shape)],
                       [tensor("y", np.float32, x_shape)], opset=16)
    check_against_ort(model, {"x": _random(rng, x_shape), "slope": _random(rng, slope_shape)})


@pytest.mark.parametrize("opset", [13, 18])
@pytest.mark.parametrize("axes", [None, [0, 2]])
def test_mean_variance_normalization(check_against_ort, opset, axes):
    """One body per opset: ReduceMean's axes are an attribute in 13's, an input in 18's.
    Without `axes` (default [0, 2, 3]), onnx's own shape inference needs the default spelled
    out on the node."""
    rng = np.random.default_rng(4)
    attrs = {} if axes is None else {"axes": axes}
    node = helper.make_node("MeanVarianceNormalization", ["x"], ["y"], **attrs)
    model = make_model([node], [tensor("x", np.float32, (3, 4, 5, 2))],
                       [tensor("y", np.float32, (3, 4, 5, 2))], opset=opset)
    check_against_ort(model, {"x": _random(rng, (3, 4, 5, 2), 3.0)})


def test_expand_binds_inputs_outputs_and_attribute_references():
    node = helper.make_node("Shrink", ["a"], ["b"], lambd=2.0)
    body = expand(node, 9, [onnx.TypeProto()], "s::")
    assert body.opset == 18
    assert body.nodes[-1].output == ["b"]
    uses = {x for inner in body.nodes for x in inner.input}
    assert "a" in uses and all(x == "a" or x.startswith("s::") for x in uses)
    constants = {n.output[0]: n.attribute[0] for n in body.nodes if n.op_type == "Constant"}
    assert constants["s::Lambd"].f == 2.0 and not constants["s::Lambd"].ref_attr_name
    assert constants["s::Bias"].f == 0.0  # the schema's default


def test_expand_leaves_an_omitted_optional_input_omitted():
    node = helper.make_node("NegativeLogLikelihoodLoss", ["x", "t"], ["y"])
    types = [helper.make_tensor_type_proto(onnx.TensorProto.FLOAT, [2, 3]),
             helper.make_tensor_type_proto(onnx.TensorProto.INT64, [2])]
    body = expand(node, 22, types, "l::")
    assert body.opset == 22
    assert not any(x.startswith("l::weight") for n in body.nodes for x in n.input)


def test_expand_declines_ops_without_a_body():
    assert expand(helper.make_node("Det", ["x"], ["y"]), 22, [onnx.TypeProto()], "d::") is None


def _import_error(node, opset, inputs, outputs) -> str:
    model = make_model([node], inputs, outputs, opset=opset)
    with pytest.raises(UnsupportedError) as e:
        import_model(model, make_context())
    return e.value.message


def test_an_op_with_neither_handler_nor_body_keeps_its_message():
    node = helper.make_node("Det", ["x"], ["y"], name="det")
    message = _import_error(node, 22, [tensor("x", np.float32, (3, 3))],
                            [tensor("y", np.float32, ())])
    assert message == "<model>: node 'det': op Det (opset 22) is not supported"


def test_a_body_that_fails_to_import_names_the_op_and_the_inner_failure():
    """Bernoulli's body draws with RandomUniformLike, which mlc does not compile."""
    node = helper.make_node("Bernoulli", ["x"], ["y"], name="coin")
    message = _import_error(node, 22, [tensor("x", np.float32, (4,))],
                            [tensor("y", np.float32, (4,))])
    assert message.startswith("<model>: node 'coin': op Bernoulli (opset 22) is not supported: "
                              "its function body fails to import: node 'coin::")
    assert "RandomUniformLike" in message


@pytest.mark.parametrize("rule", ["linear", "gated_delta"])
def test_a_body_with_a_scan_subgraph(compile_and_run, rule):
    """LinearAttention's body (onnx 1.23, opset 27) is a recurrence written as a Scan whose
    subgraph reads the body's values: the subgraph's names are bound like the body's. Checked
    against onnx's reference implementation (onnxruntime has no LinearAttention)."""
    from onnx.reference import ReferenceEvaluator

    rng = np.random.default_rng(3)
    b, t, hq, hkv, d = 2, 5, 4, 2, 3
    feeds = {"q": _random(rng, (b, t, hq * d)), "k": _random(rng, (b, t, hkv * d)),
             "v": _random(rng, (b, t, hkv * d))}
    inputs = ["q", "k", "v"]
    if rule == "gated_delta":
        feeds["decay"] = _random(rng, (b, t, hkv), 0.1) - 0.2
        feeds["beta"] = np.asarray(rng.uniform(0, 1, (b, t, hkv)), np.float32)
        inputs += ["", "decay", "beta"]
    node = helper.make_node("LinearAttention", inputs, ["y", "state"], q_num_heads=hq,
                            kv_num_heads=hkv, update_rule=rule)
    model = make_model([node], [tensor(name, np.float32, x.shape) for name, x in feeds.items()],
                       [tensor("y", np.float32, (b, t, hq * d)),
                        tensor("state", np.float32, (b, hkv, d, d))], opset=27, check=False)
    expected = ReferenceEvaluator(model).run(None, feeds)
    for got, want in zip(compile_and_run(model, feeds), expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
