"""Writes a small image classifier as ONNX (the README's first command compiles it).

Conv-BatchNorm-Relu-MaxPool twice, then GlobalAveragePool, Gemm and Softmax, with seeded random
weights: `python -m mlc.tools.example_model example.onnx`.
"""

import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build(seed: int = 0) -> onnx.ModelProto:
    rng = np.random.default_rng(seed)
    weights = []

    def weight(name, *shape, scale=0.1):
        weights.append(numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name))
        return name

    def positive(name, n):
        weights.append(numpy_helper.from_array(rng.uniform(0.5, 1.5, n).astype(np.float32), name))
        return name

    nodes, x = [], "image"
    for i, (cin, cout) in enumerate([(3, 16), (16, 32)]):
        nodes += [
            helper.make_node("Conv", [x, weight(f"conv{i}_w", cout, cin, 3, 3), weight(f"conv{i}_b", cout)],
                             [f"conv{i}"], name=f"conv{i}", pads=[1, 1, 1, 1]),
            helper.make_node("BatchNormalization",
                             [f"conv{i}", positive(f"bn{i}_scale", cout), weight(f"bn{i}_bias", cout),
                              weight(f"bn{i}_mean", cout), positive(f"bn{i}_var", cout)],
                             [f"bn{i}"], name=f"bn{i}"),
            helper.make_node("Relu", [f"bn{i}"], [f"relu{i}"], name=f"relu{i}"),
            helper.make_node("MaxPool", [f"relu{i}"], [f"pool{i}"], name=f"pool{i}",
                             kernel_shape=[2, 2], strides=[2, 2]),
        ]
        x = f"pool{i}"
    nodes += [
        helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["features"], name="flatten"),
        helper.make_node("Gemm", ["features", weight("fc_w", 10, 32), weight("fc_b", 10)], ["logits"],
                         name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
    ]
    graph = helper.make_graph(
        nodes, "example_cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 10])], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    return model


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m mlc.tools.example_model OUTPUT.onnx", file=sys.stderr)
        return 1
    onnx.save(build(), argv[0])
    print(f"wrote {argv[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
