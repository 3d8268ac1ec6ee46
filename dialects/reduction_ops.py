"""Reduction ops of the `mlc` dialect: one op per ONNX Reduce*, ArgMax and ArgMin.

`axes` is explicit, sorted and non-negative (the importer resolves the attribute-or-input
forms, negative axes and "empty means all"); `keepdims` is read off the result type, which
keeps or drops the reduced dims.
"""

from .op_def import OpDef

_KINDS = {
    "reduce_sum": "sum",
    "reduce_mean": "mean",
    "reduce_max": "maximum",
    "reduce_min": "minimum",
    "reduce_prod": "product",
    "reduce_sum_square": "sum of squares",
    "reduce_l1": "sum of |x|",
    "reduce_l2": "sqrt of the sum of squares",
    "reduce_log_sum": "log of the sum",
    "reduce_log_sum_exp": "log of the sum of exp(x)",
}

OPS = [OpDef(name, f"The {what} over `axes`", ("input",), attrs={"axes": "ints"})
       for name, what in _KINDS.items()] + [
    OpDef("arg_max", "Index of the first (or, with select_last_index, last) maximum along `axis`",
          ("input",), attrs={"axis": "int", "select_last_index": "int"}),
    OpDef("arg_min", "Index of the first (or, with select_last_index, last) minimum along `axis`",
          ("input",), attrs={"axis": "int", "select_last_index": "int"}),
    OpDef("cumsum", "Running sum along `axis` (a run-time `axis` operand overrides it); "
          "exclusive leaves out the element itself, reverse runs from the end",
          ("input", "axis?"), attrs={"axis": "int", "exclusive": "int", "reverse": "int"}),
    OpDef("cumprod", "Running product along `axis`, with cumsum's operands and flags",
          ("input", "axis?"), attrs={"axis": "int", "exclusive": "int", "reverse": "int"}),
    OpDef("top_k", "The k (from the result type) largest (or smallest) elements along `axis`, "
          "sorted, ties to the lower index, and their int64 indices; unsigned orders integers "
          "as unsigned", ("input",), ("values", "indices"),
          attrs={"axis": "int", "largest": "int", "unsigned": "int"}),
    OpDef("einsum", "Sum of products over the letters missing from the output, as `equation` "
          "says (explicit letters only: the importer spells out '...' and implicit outputs)",
          ("lhs", "rhs?"), attrs={"equation": "str"}),
]
