"""Prints the mlc dialect's IRDL text (the source of dialects/mlc.irdl.mlir)."""

from .irdl import irdl_text

print(irdl_text(), end="")
