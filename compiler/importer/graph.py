"""Walks an ONNX graph in order and builds one `func.func @main` in the mlc dialect.

Values known at compile time (initializers, Constant nodes, shape arithmetic on static shapes)
stay numpy arrays until an op needs them as MLIR values, so shape tensors fold away and only
weights that are used become `mlc.constant` ops. A sequence built inside the graph is a tuple of
such values (`sequence_ops`), resolved at compile time. Handlers, one per ONNX op type, live in
the category modules (math, nn, tensor) and see a node through `NodeImport`; a node whose op has
no handler is imported as the nodes of the op's ONNX function body, when it has one
(`function_expansion`).

The subgraphs of If, Loop and Scan are imported inline by `import_graph`: a child scope binds
the subgraph's inputs, sees the enclosing graphs' names, and forgets its own names afterwards,
so a loop body imported once per iteration unrolls the loop.
"""

import copy
from collections import ChainMap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from mlir import ir
from mlir.dialects import func
from onnx import numpy_helper

from mlc import dtypes
from mlc.errors import InputError, UnsupportedError
from mlc.interface import STATUS_RESULT, Interface, SymbolLimit, TensorSpec
from mlc.weights import WeightStore

from . import (checks, data_dependent, dynamic, folding, function_expansion, narrow_types,
               symbolic_shapes)
from .handlers import HANDLERS
from .node import Bound, NodeImport, require_tensor, symbolic_dims, tensor_type
from .onnx_loader import (check_and_infer, default_opset, forget_declared_dims, infer,
                          load_onnx, name_input_dims, pin_input_shapes, upgrade_old_opset)
from .sequence_ops import TensorSequence

# Function bodies may use ops that are functions themselves; past this depth an op whose body
# keeps expanding is reported unsupported.
MAX_EXPANSION_DEPTH = 4


@dataclass
class ImportedModel:
    """An mlc-dialect module and the bytes of its weights."""

    module: ir.Module
    weights: WeightStore


def import_onnx_file(path: str | Path, context: ir.Context, input_shapes=()) -> ImportedModel:
    model = load_onnx(path)
    return import_model(model, context, source=str(path), input_shapes=input_shapes)


def import_model(model: onnx.ModelProto, context: ir.Context, source: str = "<model>",
                 input_shapes=()) -> ImportedModel:
    """`input_shapes` pins graph-input dims ((name, dims), ...) before shape inference."""
    if input_shapes:
        # Before the opset upgrade too: the converter's broadcast adapters need input shapes.
        model = pin_input_shapes(model, dict(input_shapes), source)
    model = upgrade_old_opset(model, source)
    opset = default_opset(model, source)
    model = function_expansion.with_explicit_defaults(model, opset, HANDLERS)
    model = check_and_infer(forget_declared_dims(name_input_dims(model)), source)
    if any(not d.HasField("dim_value") for vi in model.graph.input
           for d in vi.type.tensor_type.shape.dim):
        model, limits = symbolic_shapes.refine(model, lambda m: infer(m, source))
    else:
        limits = {}
    return _GraphImporter(model, context, source, opset, limits).run()


class _GraphImporter:
    def __init__(self, model: onnx.ModelProto, context: ir.Context, source: str, opset: int,
                 limits: dict[str, tuple[int, str]]):
        self.model, self.graph = model, model.graph
        self.limits = limits
        self.context, self.source, self.opset = context, source, opset
        self.weights = WeightStore()
        # Scoped name maps: a subgraph's scope is a child of each (ChainMap.new_child).
        self.values: ChainMap[str, ir.Value] = ChainMap()
        self.consts: ChainMap[str, np.ndarray] = ChainMap()
        self.sequences: ChainMap[str, TensorSequence] = ChainMap()
        self.types = ChainMap({vi.name: vi.type for vi in
                               [*self.graph.input, *self.graph.value_info, *self.graph.output]})
        self.file_loc = None
        self.prefix = ""  # of node labels: the enclosing control-flow nodes and iterations
        self.used = ({name for node in self.graph.node for name in node.input}
                     | {vi.name for vi in self.graph.output})
        self._expansion_prefixes: set[str] = set()  # shared by every scope
        self.checks: list[tuple[ir.Value, str]] = []  # (failed, message), checks.py
        # Values of data-dependent size, by name (shared by every scope: names are unique).
        self.data_dependent: dict[str, data_dependent.DataDependent] = {}

    def run(self) -> ImportedModel:
        with self.context, ir.Location.unknown():
            self.file_loc = ir.Location.file(Path(self.source).name, 0, 0)
            module = ir.Module.create(loc=self.file_loc)
            for init in self.graph.initializer:
                self.consts[init.name] = numpy_helper.to_array(init)
            inputs = [vi for vi in self.graph.input if vi.name not in self.consts]
            for vi in self.graph.output:
                require_tensor(vi.type, f"{self.source}: graph output '{vi.name}'")
            in_types = [self._value_type(vi.name, "graph input") for vi in inputs]
            # Result types are read off the imported values: an exporter may declare symbolic
            # output dims that only folding makes static.
            with ir.InsertionPoint(module.body):
                fn = func.FuncOp("main", ir.FunctionType.get(in_types, []), loc=self.file_loc)
                fn.arg_attrs = ir.ArrayAttr.get([_name_attr(vi.name) for vi in inputs])
                fn.res_attrs = ir.ArrayAttr.get([_name_attr(vi.name) for vi in self.graph.output])
                block = fn.add_entry_block()
            for vi, arg in zip(inputs, block.arguments):
                self.values[vi.name] = arg
            folding.backfill_types(self.graph.node, self.types)
            with ir.InsertionPoint(block):
                for index, node in enumerate(self.graph.node):
                    self._import_node(node, node.name or f"{node.op_type}_{index}", self.opset)
                results = [self.value(vi.name, ir.Location.name(f"output {vi.name}"))
                           for vi in self.graph.output]
                made = [self.data_dependent[vi.name] for vi in self.graph.output
                        if vi.name in self.data_dependent]
                with ir.Location.name("output sizes"):
                    sizes = data_dependent.sizes_result(made, self._concat)
                hidden, names = [], []
                if sizes is not None:
                    hidden.append(sizes)
                    names.append(data_dependent.SIZES_NAME)
                if self.checks:
                    hidden.append(checks.status(
                        [failed for failed, _ in self.checks],
                        lambda a: self.weights.constant(a, "check", self.file_loc), self.file_loc))
                    names.append(STATUS_RESULT)
                func.ReturnOp(results + hidden, loc=self.file_loc)
            if hidden:
                fn.res_attrs = ir.ArrayAttr.get([*fn.res_attrs, *map(_name_attr, names)])
            in_specs = tuple(_spec(self.types[vi.name], vi.name) for vi in inputs)
            symbols = {d for s in in_specs for d in s.shape if isinstance(d, str)}
            out_specs = tuple(self._output_spec(vi.name, result, symbols)
                              for vi, result in zip(self.graph.output, results))
            fn.attributes["function_type"] = ir.TypeAttr.get(
                ir.FunctionType.get(in_types, [r.type for r in results + hidden]))
            limits = tuple(SymbolLimit(symbol, most, why)
                           for symbol, (most, why) in sorted(self.limits.items())
                           if all(f.isdigit() or f in symbols for f in symbol.split("*")))
            Interface(self._model_name(), in_specs, out_specs, limits,
                      tuple(message for _, message in self.checks)).attach(module)
        return ImportedModel(module, self.weights)

    def _output_spec(self, name: str, result: ir.Value, symbols: set) -> TensorSpec:
        """The output's spec; each dynamic dim must be a graph input's symbol or a product of
        them ('batch*seq'), so the caller can size the output buffer from the inputs' shapes."""
        self._value_type(name, "graph output")
        dims = symbolic_dims(self.types[name])
        shape = ir.RankedTensorType(result.type).shape
        for d, size in enumerate(shape):
            if size < 0 and not sizes_from(dims[d], symbols):
                what = f"'{dims[d]}'" if dims[d] else "an unnamed size"
                raise UnsupportedError(
                    f"{self.source}: graph output '{name}' dim {d} is {what}, which no graph "
                    "input's dims determine: its size is known only at run time",
                    hint="mlc sizes outputs from the input dims' symbols; pin the input dims "
                         "with --input-shape NAME=D0xD1x...")
        spec = _spec(self.types[name], name)
        dims = data_dependent.output_dims(list(spec.shape), self.data_dependent.get(name))
        return TensorSpec(spec.name, spec.dtype, tuple(dims))

    @staticmethod
    def _concat(a: ir.Value, b: ir.Value, type_: ir.Type) -> ir.Value:
        return ir.Operation.create("mlc.concat", results=[type_], operands=[a, b],
                                   attributes={"axis": ir.IntegerAttr.get(
                                       ir.IntegerType.get_signless(64), 0)}).result

    def _model_name(self) -> str:
        return self.graph.name or Path(self.source).stem

    def _value_type(self, name: str, what: str) -> ir.Type:
        if name not in self.types:
            raise InputError(f"{self.source}: {what} '{name}' has no type after shape inference")
        return tensor_type(self.types[name], f"{self.source}: {what} '{name}'")

    def value(self, name: str, loc: ir.Location) -> ir.Value:
        """The MLIR value of `name`, materializing a compile-time constant on first use."""
        if name not in self.values:
            if name in self.sequences:
                raise UnsupportedError(f"{self.source}: sequence '{name}' is used where a tensor "
                                       "is expected (mlc reads sequences only through the "
                                       "Sequence* ops and ConcatFromSequence)")
            if name not in self.consts:
                raise InputError(f"{self.source}: value '{name}' is used but never defined")
            # Recorded in the scope that owns the constant: every iteration of an unrolled
            # loop then uses one op (all scopes build into the same block).
            depth = next(i for i, m in enumerate(self.consts.maps) if name in m)
            self.values.maps[depth][name] = self.weights.constant(self.consts[name], name, loc)
        return self.values[name]

    def bound(self, name: str) -> Bound:
        """`name` as a Bound: its array when known at compile time, else its MLIR value."""
        if name in self.consts:
            return Bound(self.consts[name], dtypes.from_numpy(self.consts[name].dtype))
        if name in self.data_dependent:  # a subgraph's output, read by its If/Loop/Scan
            raise data_dependent.reader_error(self.source, "a subgraph output", name,
                                              self.data_dependent[name])
        if name not in self.types:
            raise InputError(f"{self.source}: value '{name}' has no type after shape inference")
        dtype = dtypes.from_onnx(self.types[name].tensor_type.elem_type)
        return Bound(self.value(name, self.file_loc), dtype)

    def import_graph(self, graph: onnx.GraphProto, bindings: list[Bound], prefix: str,
                     opset: int | None = None) -> list[Bound]:
        """Imports a subgraph's nodes at the insertion point, its inputs bound in order to
        `bindings`; outer names stay visible. Returns its outputs."""
        scope = copy.copy(self)  # shares the module, weights and options; only names are new
        scope.values, scope.consts = self.values.new_child(), self.consts.new_child()
        scope.sequences, scope.types = self.sequences.new_child(), self.types.new_child()
        scope.prefix = prefix
        for vi in [*graph.value_info, *graph.output]:
            if folding.is_static(vi.type):
                scope.types[vi.name] = vi.type
        for init in graph.initializer:
            scope.consts[init.name] = numpy_helper.to_array(init)
        folding.backfill_types(graph.node, scope.types)
        for vi, bound in zip(graph.input, bindings):
            scope._bind_one(vi.name, bound)
        for index, node in enumerate(graph.node):
            scope._import_node(node, prefix + (node.name or f"{node.op_type}_{index}"),
                               opset or self.opset)
        return [scope.bound(vi.name) for vi in graph.output]

    def _import_node(self, node: onnx.NodeProto, label: str, opset: int, depth: int = 0) -> None:
        if node.domain not in ("", "ai.onnx"):
            if function_expansion.has_body(node, opset):  # ai.onnx.preview's FlexAttention
                self._import_function_body(node, label, opset, depth)
                return
            raise UnsupportedError(f"{self.source}: node '{label}' uses op {node.domain}::{node.op_type}; "
                                   "mlc supports the default ONNX domain, and other ops that "
                                   "ONNX defines by a function body")
        read = data_dependent.refuse_readers(self.source, node, label, opset, self.data_dependent)
        folded = folding.fold(node, self.consts, opset)
        if folded is not None:
            self._bind(node, folded)
            return
        folding.refine_types(node, self.types, self.consts, opset)
        handler = HANDLERS.get(node.op_type)
        if handler is None:
            self._import_function_body(node, label, opset, depth)
            return
        loc = ir.Location.name(label, childLoc=self.file_loc)
        with loc:
            view = NodeImport(self, node, label, loc, opset)
            narrow_types.check_node(view, [self.types.get(name) for name in node.input]
                                    + [self.types.get(name) for name in node.output])
            dynamic.check(view)
            results = handler(view)
            if read:
                results = data_dependent.carry(self.source, view, read, self.data_dependent, results)
            dynamic.check_results(view, results if isinstance(results, (list, tuple)) else [results])
        self._bind(node, results if isinstance(results, (list, tuple)) else [results])

    def _import_function_body(self, node: onnx.NodeProto, label: str, opset: int,
                              depth: int) -> None:
        """Imports, in the node's place, the nodes of its op's function body."""
        unsupported = f"{self.source}: node '{label}': op {node.op_type} (opset {opset}) is not supported"
        hint = "supported ops: " + ", ".join(sorted(HANDLERS))
        prefix, k = f"{label}::", 1
        while prefix in self._expansion_prefixes:  # node names need not be unique
            prefix, k = f"{label}#{k}::", k + 1
        self._expansion_prefixes.add(prefix)
        body = None
        if depth < MAX_EXPANSION_DEPTH:
            body = function_expansion.expand(node, opset, [self._type_proto(x) for x in node.input],
                                             prefix)
        if body is None:
            raise UnsupportedError(unsupported, hint=hint)
        try:
            for index, inner in enumerate(body.nodes):
                inner_label = prefix + (inner.name or f"{inner.op_type}_{index}")
                self._import_node(inner, inner_label, body.opset, depth + 1)
        except UnsupportedError as e:
            inner = e.message.removeprefix(f"{self.source}: ")
            raise UnsupportedError(f"{unsupported}: its function body fails to import: {inner}",
                                   hint=e.hint) from None

    def _type_proto(self, name: str) -> onnx.TypeProto:
        """The value's type as the importer knows it (empty for an omitted input)."""
        if name in self.consts:
            value = self.consts[name]
            return folding.static_type(dtypes.from_numpy(value.dtype).onnx, value.shape)
        return self.types.get(name, onnx.TypeProto())

    def _bind(self, node: onnx.NodeProto, results: list) -> None:
        """Records a node's results, and their static types for the nodes that use them."""
        for name, result in zip(node.output, results):
            if name:
                self._bind_one(name, result)

    def _bind_one(self, name: str, result) -> None:
        if isinstance(result, TensorSequence):
            self.sequences[name] = result
            return
        if isinstance(result, data_dependent.DataDependent):
            # Typed by its bound, whatever the model declares: the interface marks the dim.
            self.data_dependent[name] = result
            self.values[name] = result.value
            self.types[name] = folding.static_type(self.types[name].tensor_type.elem_type,
                                                   ir.RankedTensorType(result.value.type).shape)
            return
        if isinstance(result, Bound):
            if isinstance(result.value, np.ndarray):
                result = result.value
            else:
                self.values[name] = result.value
                shape = ir.RankedTensorType(result.value.type).shape
                self.types[name] = folding.static_type(result.dtype.onnx, shape)
                return
        if isinstance(result, np.ndarray):
            self.consts[name] = result
            self.types[name] = folding.static_type(dtypes.from_numpy(result.dtype).onnx,
                                                   result.shape)
        else:
            self.values[name] = result
            if name in self.types and not folding.is_static(self.types[name]):
                # The handler may know sizes inference did not; dynamic dims keep their symbol.
                elem = self.types[name].tensor_type.elem_type
                shape = ir.RankedTensorType(result.type).shape
                dims = symbolic_dims(self.types[name])
                if len(dims) != len(shape):
                    dims = [None] * len(shape)
                self.types[name] = onnx.helper.make_tensor_type_proto(
                    elem, [size if size >= 0 else dims[d] for d, size in enumerate(shape)])


def sizes_from(dim, symbols: set) -> bool:
    """Whether symbolic dim `dim` is an input symbol or a product of them and a number."""
    return isinstance(dim, str) and all(f.isdigit() or f in symbols for f in dim.split("*"))


def _name_attr(name: str) -> ir.DictAttr:
    return ir.DictAttr.get({"mlc.name": ir.StringAttr.get(name)})


def _spec(type_proto, name) -> TensorSpec:
    """Static dims as sizes, dynamic ones as their symbol (str)."""
    tt = type_proto.tensor_type
    return TensorSpec(name, dtypes.from_onnx(tt.elem_type), tuple(symbolic_dims(type_proto)))
