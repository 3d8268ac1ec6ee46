"""The record type for one op of the `mlc` dialect (what `irdl.py` turns into IRDL)."""

from dataclasses import dataclass, field

# IRDL base constraints for attribute kinds, named by what the importer stores.
ATTR_BASES = {
    "int": "#builtin.integer",
    "float": "#builtin.float",
    "ints": "#builtin.dense_array",
    "floats": "#builtin.dense_array",
    "str": "#builtin.string",
    "type": "#builtin.type",
    "any": None,
}


@dataclass(frozen=True)
class OpDef:
    """One op: operand names (suffix `?` optional), result names, attributes.

    No variadic operands: IRDL constrains all operands of a variadic group to one type.
    """

    name: str
    summary: str
    operands: tuple[str, ...] = ()
    results: tuple[str, ...] = ("result",)
    attrs: dict[str, str] = field(default_factory=dict)


def unary(name: str, summary: str, **attrs: str) -> OpDef:
    return OpDef(name, summary, ("input",), attrs=attrs)


def binary(name: str, summary: str) -> OpDef:
    return OpDef(name, summary + " (numpy broadcasting)", ("lhs", "rhs"))
