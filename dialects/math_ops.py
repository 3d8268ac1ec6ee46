"""Elementwise and math ops of the `mlc` dialect."""

from .op_def import OpDef, binary, unary

OPS = [
    binary("add", "lhs + rhs"),
    binary("sub", "lhs - rhs"),
    binary("mul", "lhs * rhs"),
    binary("div", "lhs / rhs (integer division truncates)"),
    unary("relu", "max(x, 0)"),
    unary("sigmoid", "1 / (1 + exp(-x))"),
    unary("tanh", "tanh(x)"),
    unary("cast", "Element type conversion to the result's element type"),
]
