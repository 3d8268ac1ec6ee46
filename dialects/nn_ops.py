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
    OpDef("conv_nhwc", "2-D convolution of NHWC images by an HWCF filter (group 1), optional "
          "per-channel bias; the NHWC result. Made by mlc-nhwc-layout, not by the importer",
          ("input", "filter", "bias?"),
          attrs={"strides": "ints", "pads": "ints", "dilations": "ints"}),
    OpDef("max_pool", "Max pooling over a window (padding never wins)", ("input",), attrs=_WINDOW),
    OpDef("max_pool_nhwc", "2-D max pooling of NHWC images; the NHWC result. Made by "
          "mlc-nhwc-layout, not by the importer", ("input",), attrs=_WINDOW),
    OpDef("max_pool_with_indices", "Max pooling and the flat index of each maximum in the "
          "unpadded input (storage_order 1: spatial dims column-major)", ("input",),
          ("result", "indices"), attrs={**_WINDOW, "storage_order": "int"}),
    OpDef("avg_pool", "Average pooling; count_include_pad chooses the divisor at the borders",
          ("input",), attrs={**_WINDOW, "count_include_pad": "int"}),
    OpDef("avg_pool_nhwc", "2-D average pooling of NHWC images; the NHWC result. Made by "
          "mlc-nhwc-layout, not by the importer", ("input",),
          attrs={**_WINDOW, "count_include_pad": "int"}),
    OpDef("global_avg_pool", "Mean over every spatial dim, keeping them as size 1", ("input",)),
    OpDef("global_max_pool", "Max over every spatial dim, keeping them as size 1", ("input",)),
    OpDef("lp_pool", "(sum of |x| ** p over a window) ** (1 / p); padding adds zeros",
          ("input",), attrs={**_WINDOW, "p": "float"}),
    OpDef("conv_transpose", "Transposed (fractionally strided) N-d convolution, NCHW input, "
          "CFHW filter (F per group), optional bias; pads crop the full output",
          ("input", "filter", "bias?"),
          attrs={"strides": "ints", "pads": "ints", "dilations": "ints",
                 "output_padding": "ints", "group": "int"}),
    OpDef("batch_norm", "Inference batch normalization with running statistics",
          ("input", "scale", "bias", "mean", "var"), attrs={"epsilon": "float"}),
    OpDef("layer_norm", "(x - mean) / sqrt(var + epsilon) over dims axis.. of each row, times "
          "scale plus bias (both broadcast to those dims); also each row's mean and "
          "1 / sqrt(var + epsilon), the normalized dims kept as size 1",
          ("input", "scale", "bias?"), ("result", "mean", "inv_std_dev"),
          attrs={"axis": "int", "epsilon": "float"}),
    OpDef("rms_norm", "x / sqrt(mean(x * x) + epsilon) over dims axis.. of each row, times "
          "scale (broadcast to those dims)", ("input", "scale"),
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
    OpDef("hardmax", "1 at the first maximum along one axis, 0 elsewhere", ("input",),
          attrs={"axis": "int"}),
    OpDef("matmul", "Matrix product with numpy semantics (batched, broadcast batch dims)",
          ("lhs", "rhs")),
]
