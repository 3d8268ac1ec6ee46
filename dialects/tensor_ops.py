"""Tensor and shape ops of the `mlc` dialect (constants, data movement, reshapes)."""

from .op_def import OpDef

OPS = [
    OpDef("constant", "A constant tensor: `value` is a dense or dense_resource elements attribute",
          (), attrs={"value": "any"}),
    OpDef("reshape", "Same elements in row-major order, result shape from the result type",
          ("input",)),
    OpDef("transpose", "Permutes dims: result dim i is input dim perm[i]", ("input",),
          attrs={"perm": "ints"}),
    # IRDL binds one type to all operands of a variadic group, so concat is binary; an n-way
    # ONNX Concat is a left-nested chain, flattened again when lowered.
    OpDef("concat", "Concatenation of two tensors along one axis", ("lhs", "rhs"),
          attrs={"axis": "int"}),
    OpDef("gather", "Slices of `data` along `axis` at run-time `indices` (negative counts from "
          "the end)", ("data", "indices"), attrs={"axis": "int"}),
    OpDef("broadcast", "The input broadcast to the result shape (numpy rules)", ("input",)),
    OpDef("slice", "result[i...] = input[offsets + strides * i...]; strides may be negative, "
          "sizes from the result type", ("input",), attrs={"offsets": "ints", "strides": "ints"}),
    OpDef("pad", "Padding by `pads` ([begin..., end...], negative crops); mode constant (with "
          "`value`, else 0), reflect, edge or wrap", ("input", "value?"),
          attrs={"pads": "ints", "mode": "str"}),
    OpDef("trilu", "The upper (upper = 1: j - i >= k) or lower (j - i <= k) triangle of the last "
          "two dims; the rest is 0. A run-time `k` operand is added to attribute k",
          ("input", "k?"), attrs={"upper": "int", "k": "int"}),
    OpDef("dynamic_slice", "ONNX Slice with run-time starts, axes and steps (1-D, one entry per "
          "sliced axis); the result type gives the static sizes, `ends` the dynamic ones",
          ("input", "starts", "axes", "steps", "ends?")),
    OpDef("dynamic_pad", "ONNX Pad with run-time pads ([begin..., end...] over `axes`); the result "
          "type gives the padded sizes; mode constant (with `value`), reflect, edge or wrap",
          ("input", "pads", "value", "axes"), attrs={"mode": "str"}),
    OpDef("range", "result[i] = start + i * delta for the result's length (a dynamic length: "
          "ceil((limit - start) / delta), at least 0)", ("start", "delta", "limit?")),
    # Run-time shapes: sizes computed from values, for dims the result type leaves dynamic.
    OpDef("shape_of", "The input's dims from `start` on (as many as the result has) as a 1-D "
          "i64 tensor, dynamic ones read at run time", ("input",), attrs={"start": "int"}),
    OpDef("dynamic_reshape", "ONNX Reshape to the run-time `shape` (1-D i64): 0 copies the input "
          "dim unless allowzero, -1 takes what is left; the result type's static dims are "
          "trusted", ("input", "shape"), attrs={"allowzero": "int"}),
    OpDef("dynamic_broadcast", "The input broadcast (numpy rules) to the run-time `shape` (1-D "
          "i64); a dynamic input dim gives its result dim's size", ("input", "shape")),
    # Indexing: indices are read at run time; negative ones count from the end of their dim.
    OpDef("gather_elements", "result[i...] = data[i...] with dim `axis` replaced by indices[i...]",
          ("data", "indices"), attrs={"axis": "int"}),
    OpDef("gather_nd", "ONNX GatherND: the last dim of `indices` addresses the leading dims of "
          "`data` after `batch_dims`", ("data", "indices"), attrs={"batch_dims": "int"}),
    OpDef("scatter_elements", "A copy of `data` with updates[i...] written (or combined by "
          "`reduction`: none, add, mul, max, min) at i... with dim `axis` replaced by "
          "indices[i...], in order", ("data", "indices", "updates"),
          attrs={"axis": "int", "reduction": "str"}),
    OpDef("scatter_nd", "ONNX ScatterND: a copy of `data` with update slices written (or combined "
          "by `reduction`) where the last dim of `indices` addresses, in order",
          ("data", "indices", "updates"), attrs={"reduction": "str"}),
    OpDef("one_hot", "values[1] where the position along `axis` equals the index (negative counts "
          "from depth), values[0] elsewhere; depth from the result type", ("indices", "values"),
          attrs={"axis": "int"}),
    # Data-dependent result sizes: each op writes a result of the bound size its type gives and
    # `count`, a tensor<1xi64> holding how much of the data-dependent dim is filled.
    OpDef("nonzero", "ONNX NonZero of the flattened `input` (whose dims are `shape`): result[d, k] "
          "is dim d of the k-th nonzero element's index, for k < count", ("input",),
          ("result", "count"), attrs={"shape": "ints"}),
    OpDef("compress", "result[o, k, i] = input[o, j, i] for the k-th j with condition[j] != 0 "
          "(j < the condition's length), for k < count", ("input", "condition"),
          ("result", "count")),
    OpDef("unique", "ONNX Unique of the slices input[:, j, :] (sorted = 1: ascending, "
          "lexicographically; 0: in order of first occurrence): unique slices, first indices, "
          "inverse indices and counts; the first count entries along dim 1 are filled",
          ("input",), ("unique", "indices", "inverse", "counts", "count"),
          attrs={"sorted": "int", "unsigned": "int"}),
    OpDef("non_max_suppression", "ONNX NonMaxSuppression: rows (batch, class, box) of the boxes "
          "selected per batch and class in score order, for rows < count; the score threshold "
          "applies when has_score_threshold = 1", ("boxes", "scores", "max_per_class", "iou",
                                                   "score"),
          ("selected", "count"), attrs={"center_point_box": "int", "has_score_threshold": "int"}),
    OpDef("resize", "ONNX Resize over `axes` (the `resized` positions of them): `factors` are "
          "scales, or sizes when from_sizes = 1 (turned into scales by `policy`); sampling "
          "positions are computed at run time; `roi` for tf_crop_and_resize",
          ("input", "factors", "roi?"),
          attrs={"axes": "ints", "resized": "ints", "from_sizes": "int", "policy": "str",
                 "mode": "str", "coordinate_mode": "str", "nearest_mode": "str",
                 "cubic_a": "float", "exclude_outside": "int", "extrapolation": "float",
                 "antialias": "int"}),
]
