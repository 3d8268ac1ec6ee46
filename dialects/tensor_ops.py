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
]
