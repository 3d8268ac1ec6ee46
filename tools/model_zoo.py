"""Model families built from configs in torch and exported to ONNX: tests and the benchmark.

Each builder makes a model with seeded random weights (nothing is downloaded), exports it with
torch's TorchScript-based exporter at opset 17 with static input shapes (the token models
with symbolic 'batch' and 'seq' instead when asked for `dynamic`), and returns
(onnx model, feeds): a BERT-like encoder, a GPT-2-like decoder with its LM head, a ViT-like
image classifier (transformers) and a MobileNetV2-like CNN and a small CNN (plain torch).
torch and transformers are imported only when a builder runs (the test extra has them).
"""

import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx

VOCAB = 1000


def _export(module, args, names, dynamic_axes=None) -> onnx.ModelProto:
    import torch

    module.eval()
    with tempfile.TemporaryDirectory(prefix="mlc-zoo-") as tmp, warnings.catch_warnings(), \
            torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        path = Path(tmp) / "model.onnx"
        torch.onnx.export(module, args, str(path), opset_version=17, dynamo=False,
                          input_names=names, do_constant_folding=True,
                          dynamic_axes=dynamic_axes)
        return onnx.load(path)


def _outputs(model, names, field):
    """A module calling a transformers model by keyword, returning one tensor of its output."""
    import torch

    class Outputs(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *args):
            return getattr(self.model(**dict(zip(names, args))), field)

    return Outputs()


def token_inputs(seq: int, batch: int = 1) -> dict:
    rng = np.random.default_rng(0)
    ids = rng.integers(0, VOCAB, (batch, seq)).astype(np.int64)
    mask = np.ones((batch, seq), np.int64)
    mask[:, -4:] = 0  # padding at the end exercises the attention-mask path
    return {"input_ids": ids, "attention_mask": mask}


def _token_model(module, seq: int, dynamic: bool = False) -> tuple[onnx.ModelProto, dict]:
    """With `dynamic`, batch and sequence length are symbolic ('batch', 'seq') in the export."""
    import torch

    feeds = token_inputs(seq)
    names = ["input_ids", "attention_mask"]
    args = tuple(torch.from_numpy(feeds[n]) for n in names)
    axes = {n: {0: "batch", 1: "seq"} for n in names} if dynamic else None
    return _export(module, args, names, axes), feeds


def bert_encoder(hidden: int = 128, layers: int = 2, heads: int = 4, seq: int = 16,
                 dynamic: bool = False):
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.BertConfig(hidden_size=hidden, num_hidden_layers=layers,
                                     num_attention_heads=heads, intermediate_size=4 * hidden,
                                     vocab_size=VOCAB, max_position_embeddings=max(64, seq),
                                     attn_implementation="eager")
    module = _outputs(transformers.BertModel(config), ["input_ids", "attention_mask"],
                      "last_hidden_state")
    return _token_model(module, seq, dynamic)


def gpt2_decoder(hidden: int = 128, layers: int = 2, heads: int = 4, seq: int = 16,
                 dynamic: bool = False):
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.GPT2Config(n_embd=hidden, n_layer=layers, n_head=heads,
                                     n_positions=max(64, seq), vocab_size=VOCAB, use_cache=False,
                                     attn_implementation="eager")
    # An explicit attention mask keeps transformers' packed-sequence detection (torch.diff,
    # which the exporter lacks) out of the traced graph.
    module = _outputs(transformers.GPT2LMHeadModel(config), ["input_ids", "attention_mask"],
                      "logits")
    return _token_model(module, seq, dynamic)


def vit_classifier(image: int = 32, patch: int = 8, hidden: int = 64, layers: int = 2):
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.ViTConfig(image_size=image, patch_size=patch, hidden_size=hidden,
                                    num_hidden_layers=layers, num_attention_heads=4,
                                    intermediate_size=2 * hidden, num_labels=10,
                                    attn_implementation="eager")
    module = _outputs(transformers.ViTForImageClassification(config), ["pixel_values"], "logits")
    pixels = np.random.default_rng(1).standard_normal((1, 3, image, image)).astype(np.float32)
    return _export(module, (torch.from_numpy(pixels),), ["pixel_values"]), {"pixel_values": pixels}


def _conv_bn_relu6(c_in, c_out, kernel=3, stride=1, groups=1):
    from torch import nn

    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups,
                                   bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU6())


def _mobilenet_v2_module(width: float, classes: int):
    import torch
    from torch import nn

    class InvertedResidual(nn.Module):
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

    # (expansion, channels, blocks, first stride): the paper's table, the last stages cut
    stages = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 2, 2), (6, 96, 1, 1)]

    class MobileNetV2(nn.Module):
        def __init__(self):
            super().__init__()
            c = int(16 * width)
            layers = [_conv_bn_relu6(3, c, 3, 2)]
            for expand, c_out, blocks, stride in stages:
                for i in range(blocks):
                    layers.append(InvertedResidual(c, int(c_out * width), stride if i == 0 else 1,
                                                   expand))
                    c = int(c_out * width)
            layers.append(_conv_bn_relu6(c, 256, 1))
            self.features = nn.Sequential(*layers)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.classifier = nn.Linear(256, classes)

        def forward(self, x):
            return self.classifier(torch.flatten(self.pool(self.features(x)), 1))

    return MobileNetV2()


def mobilenet_v2(image: int = 64, width: float = 1.0, classes: int = 10):
    """Inverted residual blocks, depthwise convs, BatchNorm with non-identity statistics,
    ReLU6 (Clip), adaptive average pool, a linear classifier."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    module = _mobilenet_v2_module(width, classes)
    for layer in module.modules():
        if isinstance(layer, nn.BatchNorm2d):
            layer.running_mean.uniform_(-0.5, 0.5)
            layer.running_var.uniform_(0.5, 1.5)
            layer.weight.data.uniform_(0.5, 1.5)
    pixels = np.random.default_rng(2).standard_normal((1, 3, image, image)).astype(np.float32)
    return _export(module, (torch.from_numpy(pixels),), ["image"]), {"image": pixels}


def small_cnn(image: int = 32, classes: int = 10):
    """Two 3x3 conv + ReLU + max-pool stages and a classifier (a CIFAR-sized network)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    module = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                           nn.Flatten(), nn.Linear(64 * (image // 4) ** 2, 128), nn.ReLU(),
                           nn.Linear(128, classes))
    pixels = np.random.default_rng(3).standard_normal((1, 3, image, image)).astype(np.float32)
    return _export(module, (torch.from_numpy(pixels),), ["image"]), {"image": pixels}
