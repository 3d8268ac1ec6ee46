"""Real model families exported from torch, compiled with mlc and compared with onnxruntime.

Each model is built from a small config with seeded random weights (nothing is downloaded),
exported with torch's TorchScript-based exporter at opset 17 with static input shapes, and run
on the same inputs by mlc and onnxruntime: a BERT-like encoder, a GPT-2-like decoder with its
LM head, a ViT-like image classifier (transformers) and a MobileNetV2-like CNN (plain torch:
inverted residual blocks, depthwise convs, BatchNorm, ReLU6 as Clip, adaptive average pool).
"""

import warnings

import numpy as np
import onnx
import pytest

from conftest import ort_run

torch = pytest.importorskip("torch")
nn = torch.nn

SEQ = 16
VOCAB = 1000


def _export(module, args, names, path) -> onnx.ModelProto:
    module.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(module, args, str(path), opset_version=17, dynamo=False,
                          input_names=names, do_constant_folding=True)
    return onnx.load(path)


class _Outputs(nn.Module):
    """Calls a transformers model by keyword and returns one tensor of its output."""

    def __init__(self, model, names, field):
        super().__init__()
        self.model, self.names, self.field = model, names, field

    def forward(self, *args):
        return getattr(self.model(**dict(zip(self.names, args))), self.field)


def _token_inputs():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, VOCAB, (1, SEQ)).astype(np.int64)
    mask = np.ones((1, SEQ), np.int64)
    mask[:, -4:] = 0  # padding at the end exercises the attention-mask path
    return ids, mask


def _check(compile_model_so, model, feeds, atol=1e-4, rtol=1e-3):
    expected = ort_run(model, feeds)
    actual = list(compile_model_so(model).run(feeds).values())
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a.shape == e.shape and a.dtype == e.dtype
        print(f"max abs error {np.abs(a - e).max():.3g} (max |value| {np.abs(e).max():.3g})")
        np.testing.assert_allclose(a, e, rtol=rtol, atol=atol)


def test_bert_encoder(compile_model_so, tmp_path):
    import transformers

    torch.manual_seed(0)
    config = transformers.BertConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=512, vocab_size=VOCAB,
                                     max_position_embeddings=64, attn_implementation="eager")
    names = ["input_ids", "attention_mask"]
    module = _Outputs(transformers.BertModel(config), names, "last_hidden_state")
    ids, mask = _token_inputs()
    model = _export(module, (torch.from_numpy(ids), torch.from_numpy(mask)), names,
                    tmp_path / "bert.onnx")
    _check(compile_model_so, model, {"input_ids": ids, "attention_mask": mask})


def test_gpt2_decoder(compile_model_so, tmp_path):
    import transformers

    torch.manual_seed(0)
    config = transformers.GPT2Config(n_embd=128, n_layer=2, n_head=4, n_positions=64,
                                     vocab_size=VOCAB, use_cache=False, attn_implementation="eager")
    # An explicit attention mask keeps transformers' packed-sequence detection (torch.diff,
    # which the exporter lacks) out of the traced graph.
    names = ["input_ids", "attention_mask"]
    module = _Outputs(transformers.GPT2LMHeadModel(config), names, "logits")
    ids, mask = _token_inputs()
    model = _export(module, (torch.from_numpy(ids), torch.from_numpy(mask)), names,
                    tmp_path / "gpt2.onnx")
    _check(compile_model_so, model, {"input_ids": ids, "attention_mask": mask})


def test_vit_classifier(compile_model_so, tmp_path):
    import transformers

    torch.manual_seed(0)
    config = transformers.ViTConfig(image_size=32, patch_size=8, hidden_size=64,
                                    num_hidden_layers=2, num_attention_heads=4,
                                    intermediate_size=128, num_labels=10,
                                    attn_implementation="eager")
    names = ["pixel_values"]
    module = _Outputs(transformers.ViTForImageClassification(config), names, "logits")
    pixels = np.random.default_rng(1).standard_normal((1, 3, 32, 32)).astype(np.float32)
    model = _export(module, (torch.from_numpy(pixels),), names, tmp_path / "vit.onnx")
    _check(compile_model_so, model, {"pixel_values": pixels})


def _conv_bn_relu6(c_in, c_out, kernel=3, stride=1, groups=1):
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups,
                                   bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU6())


class _InvertedResidual(nn.Module):
    def __init__(self, c_in, c_out, stride, expand):
        super().__init__()
        hidden = c_in * expand
        self.residual = stride == 1 and c_in == c_out
        layers = [_conv_bn_relu6(c_in, hidden, 1)] if expand != 1 else []
        layers += [_conv_bn_relu6(hidden, hidden, 3, stride, groups=hidden),  # depthwise
                   nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


class _MobileNetV2(nn.Module):
    # (expansion, channels, blocks, first stride), a narrow version of the paper's table
    STAGES = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 2, 2), (6, 96, 1, 1)]

    def __init__(self, classes=10):
        super().__init__()
        layers, c = [_conv_bn_relu6(3, 16, 3, 2)], 16
        for expand, c_out, blocks, stride in self.STAGES:
            for i in range(blocks):
                layers.append(_InvertedResidual(c, c_out, stride if i == 0 else 1, expand))
                c = c_out
        layers.append(_conv_bn_relu6(c, 256, 1))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(256, classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def test_mobilenet_v2(compile_model_so, tmp_path):
    torch.manual_seed(0)
    module = _MobileNetV2()
    for layer in module.modules():  # running statistics that are not the identity
        if isinstance(layer, nn.BatchNorm2d):
            layer.running_mean.uniform_(-0.5, 0.5)
            layer.running_var.uniform_(0.5, 1.5)
            layer.weight.data.uniform_(0.5, 1.5)
    image = np.random.default_rng(2).standard_normal((1, 3, 64, 64)).astype(np.float32)
    model = _export(module, (torch.from_numpy(image),), ["image"], tmp_path / "mobilenet_v2.onnx")
    ops = {node.op_type for node in model.graph.node}
    assert {"Conv", "Clip", "GlobalAveragePool", "Gemm"} <= ops  # BatchNorm folds into Conv
    _check(compile_model_so, model, {"image": image})
