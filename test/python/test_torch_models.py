"""Real model families exported from torch, compiled with mlc and compared with onnxruntime.

The models come from `mlc.tools.model_zoo` (built from small configs with seeded random
weights, nothing downloaded, exported at opset 17 with static input shapes): a BERT-like
encoder, a GPT-2-like decoder with its LM head, a ViT-like image classifier (transformers),
a MobileNetV2-like CNN (inverted residual blocks, depthwise convs, BatchNorm, ReLU6 as Clip,
adaptive average pool) and a small CNN. The BERT and GPT-2 models are also exported with
symbolic batch and sequence, compiled once and run at several sizes.
"""

import numpy as np
import pytest

from mlc.runtime import RuntimeInputError

from conftest import ort_run

pytest.importorskip("torch")
from mlc.tools import model_zoo  # noqa: E402  (after the skip: the zoo needs torch)


def _check(compile_model_so, model, feeds, atol=1e-4, rtol=1e-3):
    expected = ort_run(model, feeds)
    actual = list(compile_model_so(model).run(feeds).values())
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a.shape == e.shape and a.dtype == e.dtype
        print(f"max abs error {np.abs(a - e).max():.3g} (max |value| {np.abs(e).max():.3g})")
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def test_bert_encoder(compile_model_so):
    _check(compile_model_so, *model_zoo.bert_encoder())


def test_gpt2_decoder(compile_model_so):
    _check(compile_model_so, *model_zoo.gpt2_decoder())


def test_vit_classifier(compile_model_so):
    _check(compile_model_so, *model_zoo.vit_classifier())


def test_mobilenet_v2(compile_model_so):
    model, feeds = model_zoo.mobilenet_v2()
    ops = {node.op_type for node in model.graph.node}
    assert {"Conv", "Clip", "GlobalAveragePool", "Gemm"} <= ops  # BatchNorm folds into Conv
    _check(compile_model_so, model, feeds)


def test_small_cnn(compile_model_so):
    _check(compile_model_so, *model_zoo.small_cnn())


@pytest.mark.parametrize("builder", ["bert_encoder", "gpt2_decoder"])
def test_dynamic_batch_and_sequence(compile_model_so, builder):
    """Exported with symbolic batch and sequence: compiled once, run at several sizes."""
    model, _ = getattr(model_zoo, builder)(dynamic=True)
    m = compile_model_so(model)
    assert [s.shape[:2] for s in m.inputs] == [("batch", "seq")] * 2
    for batch, seq in [(1, 16), (2, 64), (2, 5)]:
        feeds = model_zoo.token_inputs(seq, batch)
        expected = ort_run(model, feeds)
        actual = list(m.run(feeds).values())
        assert [a.shape for a in actual] == [e.shape for e in expected]
        for a, e in zip(actual, expected):
            np.testing.assert_allclose(a, e, rtol=1e-3, atol=1e-4)
    feeds = model_zoo.token_inputs(16)
    feeds["attention_mask"] = np.ones((1, 8), np.int64)
    with pytest.raises(RuntimeInputError, match="'seq'.*inputs must agree"):
        m.run(feeds)


@pytest.mark.parametrize("builder", ["bert_encoder", "gpt2_decoder"])
def test_values_and_sizes_past_the_tables_are_refused(compile_model_so, builder):
    """As onnxruntime refuses them: a sequence longer than the position table (64) the
    export slices or gathers, before anything runs; a token id past the vocabulary."""
    model, _ = getattr(model_zoo, builder)(dynamic=True)
    m = compile_model_so(model)
    with pytest.raises(RuntimeInputError, match="'seq' is 65 .* at most 64: node '.*'"):
        m.run(model_zoo.token_inputs(65))
    feeds = model_zoo.token_inputs(8)
    feeds["input_ids"][0, 5] = model_zoo.VOCAB
    with pytest.raises(RuntimeInputError, match=r"node '.*' \(Gather.*outside \[-1000, 999\]"):
        m.run(feeds)
    feeds["input_ids"][0, 5] = model_zoo.VOCAB - 1
    m.run(feeds)
