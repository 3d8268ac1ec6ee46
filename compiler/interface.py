"""The compiled model's interface: input/output names, dtypes and shapes.

It travels with the module as the `mlc.interface` string attribute (JSON), set by the importer,
so every stage, down to the .so's metadata, knows the ONNX-level signature (MLIR's signless
integers forget whether an i8 was int8 or uint8).
"""

import json
from dataclasses import dataclass

from mlir import ir

from mlc import dtypes

ATTR = "mlc.interface"
# @main's hidden last result when the model has run-time checks (importer/checks.py).
STATUS_RESULT = "mlc.status"


def bound_of(dim) -> int | None:
    """The upper bound of a data-dependent output dim, written '<=N'; None for any other dim."""
    return int(dim[2:]) if isinstance(dim, str) and dim.startswith("<=") else None


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: dtypes.DType
    # A dynamic dim is its symbol's name; an output's data-dependent dim (its size known only
    # after a run: NonZero, Unique, ...) is '<=N', N its upper bound.
    shape: tuple[int | str, ...]

    @property
    def is_static(self) -> bool:
        return all(isinstance(d, int) for d in self.shape)

    @property
    def symbolic(self) -> bool:
        return any(isinstance(d, str) and bound_of(d) is None for d in self.shape)

    @property
    def data_dependent(self) -> bool:
        return any(bound_of(d) is not None for d in self.shape)

    def to_json(self) -> dict:
        return {"name": self.name, "dtype": self.dtype.name, "shape": list(self.shape)}


@dataclass(frozen=True)
class SymbolLimit:
    """A symbolic size (an input symbol, or a product 'batch*seq') the model cannot exceed:
    the graph reads a static table that far (a position-embedding table, say)."""
    symbol: str
    most: int
    why: str

    def to_json(self) -> dict:
        return {"symbol": self.symbol, "most": self.most, "why": self.why}


@dataclass(frozen=True)
class Interface:
    model_name: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    limits: tuple[SymbolLimit, ...] = ()
    # The messages of the run-time checks, in order; with any, @main has a last result
    # STATUS_RESULT (i32): 0, or the number (from 1) of a check that failed.
    checks: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"name": self.model_name,
                           "inputs": [t.to_json() for t in self.inputs],
                           "outputs": [t.to_json() for t in self.outputs],
                           "limits": [limit.to_json() for limit in self.limits],
                           "checks": list(self.checks)})

    def attach(self, module: ir.Module) -> None:
        module.operation.attributes[ATTR] = ir.StringAttr.get(self.to_json())


def _spec(d: dict) -> TensorSpec:
    return TensorSpec(d["name"], dtypes.BY_NAME[d["dtype"]], tuple(d["shape"]))


def from_module(module: ir.Module) -> Interface:
    """The interface recorded on the module, or one derived from @main's tensor types."""
    attrs = module.operation.attributes
    if ATTR in attrs:
        d = json.loads(ir.StringAttr(attrs[ATTR]).value)
        return Interface(d["name"], tuple(map(_spec, d["inputs"])), tuple(map(_spec, d["outputs"])),
                         tuple(SymbolLimit(**limit) for limit in d.get("limits", ())),
                         tuple(d.get("checks", ())))
    return _derive(module)


_SIGNED = {"f32": "float32", "f64": "float64", "f16": "float16", "bf16": "bfloat16",
           "i1": "bool", "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64"}


def _derive(module: ir.Module) -> Interface:
    from mlc.errors import InputError, UnsupportedError

    for op in module.body.operations:
        if op.operation.name == "func.func" and op.sym_name.value == "main":
            fn_type = ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value)
            break
    else:
        raise InputError("the module has no func.func @main to compile")

    def specs(types, prefix):
        out = []
        for i, t in enumerate(types):
            shaped = ir.ShapedType(t)
            if not shaped.has_static_shape:
                raise UnsupportedError(f"@main's {prefix} {i} has dynamic dims but the module "
                                       "carries no mlc.interface naming their symbols",
                                       hint="compile the ONNX model instead")
            out.append(TensorSpec(f"{prefix}{i}", dtypes.BY_NAME[_SIGNED[str(shaped.element_type)]],
                                  tuple(shaped.shape)))
        return tuple(out)

    return Interface("main", specs(fn_type.inputs, "input"), specs(fn_type.results, "output"))
