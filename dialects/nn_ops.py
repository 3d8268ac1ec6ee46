"""Neural-network ops of the `mlc` dialect (convolution, pooling, normalization, softmax).

Spatial attributes are explicit and cover every spatial dim: `pads` is [begin..., end...]
as in ONNX, already resolved from auto_pad by the importer.
"""

from .op_def import OpDef

_WINDOW = {"kernel": "ints", "strides": "ints", "pads": "ints", "dilations": "ints"}

OPS = [
    OpDef("conv", "N-d convolution, NCHW input, FCHW filter, optional per-channel bias",
          ("input", "filter", "bias?"),
          attrs={"strides": "ints", "pads": "ints", "dilations": "ints", "group": "int"}),
    OpDef("max_pool", "Max pooling over a window (padding never wins)", ("input",), attrs=_WINDOW),
    OpDef("avg_pool", "Average pooling; count_include_pad chooses the divisor at the borders",
          ("input",), attrs={**_WINDOW, "count_include_pad": "int"}),
    OpDef("global_avg_pool", "Mean over every spatial dim, keeping them as size 1", ("input",)),
    OpDef("batch_norm", "Inference batch normalization with running statistics",
          ("input", "scale", "bias", "mean", "var"), attrs={"epsilon": "float"}),
    OpDef("layer_norm", "(x - mean) / sqrt(var + epsilon) over dims axis.. of each row, times "
          "scale plus bias (both broadcast to those dims)", ("input", "scale", "bias?"),
          attrs={"axis": "int", "epsilon": "float"}),
    OpDef("instance_norm", "Normalization over the spatial dims of each (n, c), then "
          "per-channel scale and bias", ("input", "scale", "bias"), attrs={"epsilon": "float"}),
    OpDef("group_norm", "Normalization over each group of channels with its spatial dims, then "
          "per-channel scale and bias", ("input", "scale", "bias"),
          attrs={"num_groups": "int", "epsilon": "float"}),
    OpDef("lrn", "Local response normalization across channels", ("input",),
          attrs={"size": "int", "alpha": "float", "beta": "float", "bias": "float"}),
    OpDef("softmax", "exp(x - max) / sum(exp(x - max)) along one axis", ("input",),
          attrs={"axis": "int"}),
    OpDef("matmul", "Matrix product with numpy semantics (batched, broadcast batch dims)",
          ("lhs", "rhs")),
]
