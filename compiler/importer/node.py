"""`NodeImport`: what an op handler sees of one ONNX node, and helpers to build mlc ops."""

from dataclasses import dataclass

import numpy as np
import onnx
from mlir import ir

from mlc import dtypes
from mlc.errors import InputError, UnsupportedError


def element_type(dtype: dtypes.DType) -> ir.Type:
    return ir.Type.parse(dtype.mlir)


def require_tensor(type_proto: onnx.TypeProto, what: str) -> None:
    """Refuses a graph boundary value that is not a tensor (mlc has only tensors at run time)."""
    kind = type_proto.WhichOneof("value")
    if kind == "tensor_type":
        return
    kind = {"sequence_type": "a sequence", "optional_type": "an optional", "map_type": "a map",
            "sparse_tensor_type": "a sparse tensor"}.get(kind, "an untyped value")
    hint = ("a sequence the graph builds and reads with constant positions is resolved at "
            "compile time; only tensors can cross the graph's boundary"
            if kind == "a sequence" else None)
    raise UnsupportedError(f"{what} is {kind}; only tensor values are supported", hint=hint)


def tensor_type(type_proto: onnx.TypeProto, what: str) -> ir.RankedTensorType:
    require_tensor(type_proto, what)
    tt = type_proto.tensor_type
    dtype = dtypes.from_onnx(tt.elem_type)
    if dtype is None:
        name = onnx.TensorProto.DataType.Name(tt.elem_type)
        raise UnsupportedError(f"{what}: element type {name} is not supported")
    if not tt.HasField("shape"):
        raise UnsupportedError(f"{what}: the rank is unknown after shape inference")
    dims = [d if isinstance(d, int) else ir.ShapedType.get_dynamic_size() for d in symbolic_dims(type_proto)]
    return ir.RankedTensorType.get(dims, element_type(dtype))


def symbolic_dims(type_proto: onnx.TypeProto) -> list:
    """Each dim as its size (int), its symbol (str) or None (a dynamic dim with no name)."""
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
            for d in type_proto.tensor_type.shape.dim]


def attr_value(value) -> ir.Attribute:
    """Python value -> MLIR attribute, by the kinds the mlc dialect declares."""
    if isinstance(value, ir.Attribute):
        return value
    if isinstance(value, bool) or isinstance(value, (int, np.integer)):
        return ir.IntegerAttr.get(ir.IntegerType.get_signless(64), int(value))
    if isinstance(value, (float, np.floating)):
        return ir.FloatAttr.get(ir.F32Type.get(), float(value))
    if isinstance(value, str):
        return ir.StringAttr.get(value)
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, (int, np.integer)) for v in value):
            return ir.DenseI64ArrayAttr.get([int(v) for v in value])
        return ir.DenseF32ArrayAttr.get([float(v) for v in value])
    raise TypeError(f"no attribute kind for {value!r}")


@dataclass(frozen=True)
class Bound:
    """A value crossing a subgraph's boundary: a numpy array when known at compile time, else
    an MLIR value; `dtype` is its ONNX element type (MLIR's signless integers lose the sign)."""

    value: "ir.Value | np.ndarray"
    dtype: dtypes.DType

    @property
    def shape(self) -> list[int]:
        if isinstance(self.value, np.ndarray):
            return list(self.value.shape)
        return list(ir.RankedTensorType(self.value.type).shape)


class NodeImport:
    def __init__(self, importer, node: onnx.NodeProto, label: str, loc: ir.Location, opset: int):
        self._importer = importer
        self.node, self.label, self.loc = node, label, loc
        self.op_type = node.op_type
        self.opset = opset  # the model's, or a function body's for the nodes expanded from it
        self._attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}

    # -- inputs and outputs --------------------------------------------------------------
    @property
    def num_inputs(self) -> int:
        return len(self.node.input)

    def has_input(self, i: int) -> bool:
        return i < len(self.node.input) and self.node.input[i] != ""

    def input(self, i: int) -> ir.Value:
        return self._importer.value(self.node.input[i], self.loc)

    def is_sequence(self, i: int) -> bool:
        return self.has_input(i) and self.node.input[i] in self._importer.sequences

    def sequence(self, i: int):
        """Input i as the `TensorSequence` the graph built before this node."""
        if not self.is_sequence(i):
            raise UnsupportedError(self.error_text(
                f"input '{self.node.input[i]}' is not a sequence built inside the graph"))
        return self._importer.sequences[self.node.input[i]]

    def inputs(self) -> list[ir.Value]:
        return [self.input(i) for i in range(self.num_inputs) if self.has_input(i)]

    def const(self, i: int) -> np.ndarray | None:
        """The input's value when known at compile time, else None."""
        if not self.has_input(i):
            return None
        return self._importer.consts.get(self.node.input[i])

    def require_const(self, i: int, what: str) -> np.ndarray:
        value = self.const(i)
        if value is None:
            raise UnsupportedError(self.error_text(f"{what} (input {i}) must be a compile-time constant"))
        return value

    def in_type(self, i: int) -> ir.RankedTensorType:
        name = self.node.input[i]
        if name in self._importer.consts and name not in self._importer.values:
            arr = self._importer.consts[name]
            return ir.RankedTensorType.get(arr.shape, element_type(dtypes.from_numpy(arr.dtype)))
        return ir.RankedTensorType(self.input(i).type)

    def in_shape(self, i: int) -> list[int]:
        return list(self.in_type(i).shape)

    def in_dims(self, i: int) -> list:
        """Input i's dims as `symbolic_dims` gives them: sizes, symbols or None."""
        name = self.node.input[i]
        if name in self._importer.consts and name not in self._importer.values:
            return list(self._importer.consts[name].shape)
        if name in self._importer.types:
            return symbolic_dims(self._importer.types[name])
        return [None if d < 0 else d for d in self.in_shape(i)]

    def out_type_proto(self, i: int = 0) -> onnx.TypeProto:
        """Output i's ONNX type as inference left it; checks may name its dynamic dims."""
        return self._importer.types[self.node.output[i]]

    def is_used(self, name: str) -> bool:
        """Whether a node or a graph output reads the value `name`."""
        return name in self._importer.used

    def out_dims(self, i: int = 0) -> list:
        name = self.node.output[i]
        return symbolic_dims(self._importer.types[name]) if name in self._importer.types else []

    def in_dtype(self, i: int) -> dtypes.DType:
        """The ONNX element type of input i (MLIR's signless integers lose signedness)."""
        name = self.node.input[i]
        if name in self._importer.consts:
            return dtypes.from_numpy(self._importer.consts[name].dtype)
        if name in self._importer.types:
            return dtypes.from_onnx(self._importer.types[name].tensor_type.elem_type)
        raise InputError(self.error_text(f"input '{name}' has no type after shape inference"))

    def out_type(self, i: int = 0) -> ir.RankedTensorType:
        name = self.node.output[i]
        types = self._importer.types
        if name not in types:
            raise InputError(self.error_text(f"output '{name}' has no type after shape inference"))
        return tensor_type(types[name], self.error_text(f"output '{name}'"))

    def out_shape(self, i: int = 0) -> list[int]:
        return list(self.out_type(i).shape)

    def out_dtype(self, i: int = 0) -> dtypes.DType:
        name = self.node.output[i]
        if name not in self._importer.types:
            raise InputError(self.error_text(f"output '{name}' has no type after shape inference"))
        return dtypes.from_onnx(self._importer.types[name].tensor_type.elem_type)

    def bound(self, i: int) -> Bound:
        return self._importer.bound(self.node.input[i])

    # -- subgraphs --------------------------------------------------------------------------
    def import_subgraph(self, attr: str, bindings: list[Bound], tag: str = "") -> list[Bound]:
        """Imports the subgraph in attribute `attr` inline, its inputs bound to `bindings`; its
        nodes are labelled '<this node>/<tag>/<node>'."""
        graph = self._attrs[attr]
        if len(bindings) != len(graph.input):
            raise InputError(self.error_text(f"subgraph '{attr}' takes {len(graph.input)} inputs, "
                                             f"the node binds {len(bindings)}"))
        return self.import_graph(graph, bindings, tag)

    def import_graph(self, graph: onnx.GraphProto, bindings: list[Bound], tag: str = "",
                     opset: int | None = None) -> list[Bound]:
        """Imports `graph` inline (a subgraph, or a decomposition a handler built), its inputs
        bound to `bindings`; its nodes are labelled '<this node>/<tag>/<node>' and read at
        `opset` (default: the model's)."""
        prefix = f"{self.label}/{tag + '/' if tag else ''}"
        return self._importer.import_graph(graph, bindings, prefix, opset)

    def materialize(self, bound: Bound) -> ir.Value:
        """A Bound as an MLIR value (a constant op for a compile-time array)."""
        return self.constant(bound.value) if isinstance(bound.value, np.ndarray) else bound.value

    # -- attributes -----------------------------------------------------------------------
    def attr(self, name: str, default=None):
        value = self._attrs.get(name, default)
        return value.decode() if isinstance(value, bytes) else value

    # -- building ---------------------------------------------------------------------------
    def op(self, name: str, operands: list[ir.Value], result_type: ir.Type | None = None,
           **attrs) -> ir.Value:
        """Builds `mlc.<name>` with the given operands and attributes, typed like output 0."""
        op = ir.Operation.create(
            f"mlc.{name}", results=[result_type or self.out_type(0)], operands=operands,
            attributes={k: attr_value(v) for k, v in attrs.items()}, loc=self.loc)
        return op.result

    def multi_op(self, name: str, operands: list[ir.Value], result_types: list[ir.Type],
                 **attrs) -> list[ir.Value]:
        """Builds `mlc.<name>` with several results."""
        op = ir.Operation.create(
            f"mlc.{name}", results=result_types, operands=operands,
            attributes={k: attr_value(v) for k, v in attrs.items()}, loc=self.loc)
        return list(op.results)

    def constant(self, array: np.ndarray) -> ir.Value:
        return self._importer.weights.constant(np.asarray(array), f"{self.label}_const", self.loc)

    # -- run-time checks (checks.py) -------------------------------------------------------
    @property
    def at_top_level(self) -> bool:
        """Whether this node is in the graph itself, not in a subgraph or a decomposition."""
        return not self._importer.prefix

    def add_check(self, failed: ir.Value, what: str) -> None:
        """Makes the call fail, naming this node and `what`, when `failed` (i32, 0-d) is 1."""
        self._importer.checks.append((failed, self.error_text(what)))

    def error_text(self, what: str) -> str:
        return (f"{self._importer.source}: node '{self.label}' ({self.op_type}, opset {self.opset}): "
                f"{what}")

    def unsupported(self, what: str) -> UnsupportedError:
        return UnsupportedError(self.error_text(what))

    def data_dependent(self, value: ir.Value, dim: int, count: ir.Value):
        """A result whose dim `dim` is filled up to `count` (tensor<1xi64>) at run time."""
        from .data_dependent import DataDependent

        return DataDependent(value, dim, count, self.label, self.op_type)
