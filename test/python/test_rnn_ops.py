"""RNN, GRU and LSTM against onnxruntime: directions, layouts, initial states, biases,
peepholes, sequence_lens (constant and run-time), activations with alpha/beta, clip,
linear_before_reset, input_forget."""

import numpy as np
import pytest
from onnx import helper, numpy_helper

from conftest import assert_close, make_model, ort_run, tensor

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def _model(op, steps=4, batch=2, size=3, hidden=5, direction="forward", layout=0,
           bias=False, lens=None, runtime_lens=False, initial=False, peepholes=False,
           outputs=("Y", "Y_h", "Y_c"), seed=0, **attrs):
    """A one-node model (W, R and B initializers, X and optional states as inputs) and its feeds."""
    rng = np.random.default_rng(seed)
    dirs = 2 if direction == "bidirectional" else 1
    gates = GATES[op]
    rand = lambda *shape: np.asarray(rng.uniform(-1, 1, shape), np.float32)  # noqa: E731
    inits = [numpy_helper.from_array(rand(dirs, gates * hidden, size), "W"),
             numpy_helper.from_array(rand(dirs, gates * hidden, hidden), "R")]
    # Data is drawn in layout 0 and transposed, so both layouts of one seed compute the same.
    batch_first = (lambda a: a.swapaxes(0, 1)) if layout else (lambda a: a)  # noqa: E731
    x = batch_first(rand(steps, batch, size))
    state_shape = (batch, dirs, hidden) if layout else (dirs, batch, hidden)
    inputs, feeds = [tensor("X", np.float32, x.shape)], {"X": x}
    names = ["X", "W", "R", "", "", "", "", ""]
    if bias:
        inits.append(numpy_helper.from_array(rand(dirs, 2 * gates * hidden), "B"))
        names[3] = "B"
    if lens is not None:
        lens = np.asarray(lens, np.int32)
        names[4] = "lens"
        if runtime_lens:
            inputs.append(tensor("lens", np.int32, lens.shape))
            feeds["lens"] = lens
        else:
            inits.append(numpy_helper.from_array(lens, "lens"))
    if initial:
        for index, name in [(5, "h0")] + ([(6, "c0")] if op == "LSTM" else []):
            inputs.append(tensor(name, np.float32, state_shape))
            feeds[name] = batch_first(rand(dirs, batch, hidden))
            names[index] = name
    if peepholes:
        inits.append(numpy_helper.from_array(rand(dirs, 3 * hidden), "P"))
        names[7] = "P"
    while names[-1] == "":
        names.pop()
    y_shape = (batch, steps, dirs, hidden) if layout else (steps, dirs, batch, hidden)
    shapes = {"Y": y_shape, "Y_h": state_shape, "Y_c": state_shape}
    wanted = [o for o in outputs if o != "Y_c" or op == "LSTM"]
    node_outputs = [o if o in wanted else "" for o in ("Y", "Y_h", "Y_c")[:3 if op == "LSTM" else 2]]
    while node_outputs[-1] == "":
        node_outputs.pop()
    node = helper.make_node(op, names, node_outputs, hidden_size=hidden, direction=direction,
                            layout=layout, **attrs)
    model = make_model([node], inputs, [tensor(o, np.float32, shapes[o]) for o in wanted],
                       opset=14, initializers=inits)
    return model, feeds


CASES = [
    ("RNN", {}),
    ("RNN", {"direction": "reverse", "bias": True, "initial": True}),
    ("RNN", {"direction": "bidirectional", "layout": 1, "activations": ["Relu", "Tanh"]}),
    ("RNN", {"lens": [4, 2], "runtime_lens": True, "direction": "bidirectional"}),
    ("GRU", {"bias": True}),
    ("GRU", {"bias": True, "linear_before_reset": 1, "direction": "bidirectional"}),
    ("GRU", {"layout": 1, "initial": True, "direction": "reverse", "lens": [3, 1]}),
    ("GRU", {"activations": ["HardSigmoid", "LeakyRelu"], "activation_alpha": [0.3, 0.2],
             "activation_beta": [0.4], "clip": 0.5}),
    ("LSTM", {}),
    ("LSTM", {"bias": True, "peepholes": True, "initial": True, "direction": "bidirectional"}),
    ("LSTM", {"layout": 1, "lens": [2, 4], "runtime_lens": True, "direction": "reverse",
              "initial": True, "bias": True}),
    ("LSTM", {"input_forget": 1, "clip": 0.7, "bias": True, "outputs": ("Y_c",)}),
    ("LSTM", {"activations": ["Sigmoid", "ScaledTanh", "Affine"], "activation_alpha": [1.5, 0.5],
              "activation_beta": [0.7, 0.1], "outputs": ("Y", "Y_c")}),
]


def _expected(op, kwargs):
    """onnxruntime's outputs; for layout 1, which it lacks, those of layout 0 transposed."""
    if not kwargs.get("layout"):
        return ort_run(*_model(op, **kwargs))
    outputs = ort_run(*_model(op, **{**kwargs, "layout": 0}))
    return [o.transpose(2, 0, 1, 3) if o.ndim == 4 else o.swapaxes(0, 1) for o in outputs]


@pytest.mark.parametrize("op,kwargs", CASES, ids=[f"{op.lower()}{i}" for i, (op, _) in enumerate(CASES)])
def test_recurrent(compile_and_run, op, kwargs):
    assert_close(compile_and_run(*_model(op, **kwargs)), _expected(op, kwargs), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op", ["GRU", "LSTM"])
def test_zero_length(check_against_ort, op):
    """A batch entry of length 0 runs no step: its Y and, as onnxruntime has it, its final
    states are zero, whatever the initial states."""
    actual = check_against_ort(*_model(op, lens=[0, 3], runtime_lens=True, initial=True, steps=3))
    assert not actual[0][:, :, 0].any() and not actual[1][:, 0].any()


def test_sequence_lens_past_the_sequence_is_refused(compile_and_run):
    from mlc.errors import UnsupportedError

    model, feeds = _model("RNN", lens=[5, 9])
    with pytest.raises(UnsupportedError, match="sequence_lens"):
        compile_and_run(model, feeds)
