"""Walks an ONNX graph in order and builds one `func.func @main` in the mlc dialect.

Values known at compile time (initializers, Constant nodes, shape arithmetic on static shapes)
stay numpy arrays until an op needs them as MLIR values, so shape tensors fold away and only
weights that are used become `mlc.constant` ops. Handlers, one per ONNX op type, live in the
category modules (math, nn, tensor) and see a node through `NodeImport`.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from mlir import ir
from mlir.dialects import func
from onnx import numpy_helper

from mlc import dtypes
from mlc.errors import InputError, UnsupportedError
from mlc.interface import Interface, TensorSpec
from mlc.weights import WeightStore

from . import dynamic, folding
from .handlers import HANDLERS
from .node import NodeImport, symbolic_dims, tensor_type
from .onnx_loader import (check_and_infer, default_opset, forget_declared_dims, load_onnx,
                          name_input_dims, pin_input_shapes)


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
    opset = default_opset(model, source)
    if input_shapes:
        model = pin_input_shapes(model, dict(input_shapes), source)
    model = check_and_infer(forget_declared_dims(name_input_dims(model)), source)
    return _GraphImporter(model, context, source, opset).run()


class _GraphImporter:
    def __init__(self, model: onnx.ModelProto, context: ir.Context, source: str, opset: int):
        self.model, self.graph = model, model.graph
        self.context, self.source, self.opset = context, source, opset
        self.weights = WeightStore()
        self.values: dict[str, ir.Value] = {}
        self.consts: dict[str, np.ndarray] = {}
        self.types = {vi.name: vi.type for vi in
                      [*self.graph.input, *self.graph.value_info, *self.graph.output]}
        self.file_loc = None
        self.used = ({name for node in self.graph.node for name in node.input}
                     | {vi.name for vi in self.graph.output})

    def run(self) -> ImportedModel:
        with self.context, ir.Location.unknown():
            self.file_loc = ir.Location.file(Path(self.source).name, 0, 0)
            module = ir.Module.create(loc=self.file_loc)
            for init in self.graph.initializer:
                self.consts[init.name] = numpy_helper.to_array(init)
            inputs = [vi for vi in self.graph.input if vi.name not in self.consts]
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
            with ir.InsertionPoint(block):
                for index, node in enumerate(self.graph.node):
                    self._import_node(node, index)
                results = [self.value(vi.name, ir.Location.name(f"output {vi.name}"))
                           for vi in self.graph.output]
                func.ReturnOp(results, loc=self.file_loc)
            in_specs = tuple(_spec(self.types[vi.name], vi.name) for vi in inputs)
            symbols = {d for s in in_specs for d in s.shape if isinstance(d, str)}
            out_specs = tuple(self._output_spec(vi.name, result, symbols)
                              for vi, result in zip(self.graph.output, results))
            fn.attributes["function_type"] = ir.TypeAttr.get(
                ir.FunctionType.get(in_types, [r.type for r in results]))
            Interface(self._model_name(), in_specs, out_specs).attach(module)
        return ImportedModel(module, self.weights)

    def _output_spec(self, name: str, result: ir.Value, symbols: set) -> TensorSpec:
        """The output's spec; each dynamic dim must be a graph input's symbol, so the caller
        can size the output buffer from the inputs' shapes alone."""
        self._value_type(name, "graph output")
        dims = symbolic_dims(self.types[name])
        shape = ir.RankedTensorType(result.type).shape
        for d, size in enumerate(shape):
            if size < 0 and dims[d] not in symbols:
                what = f"'{dims[d]}'" if dims[d] else "an unnamed size"
                raise UnsupportedError(
                    f"{self.source}: graph output '{name}' dim {d} is {what}, which no graph "
                    "input's dims determine: its size is known only at run time",
                    hint="mlc sizes outputs from the input dims' symbols; pin the input dims "
                         "with --input-shape NAME=D0xD1x...")
        return _spec(self.types[name], name)

    def _model_name(self) -> str:
        return self.graph.name or Path(self.source).stem

    def _value_type(self, name: str, what: str) -> ir.Type:
        if name not in self.types:
            raise InputError(f"{self.source}: {what} '{name}' has no type after shape inference")
        return tensor_type(self.types[name], f"{self.source}: {what} '{name}'")

    def value(self, name: str, loc: ir.Location) -> ir.Value:
        """The MLIR value of `name`, materializing a compile-time constant on first use."""
        if name not in self.values:
            if name not in self.consts:
                raise InputError(f"{self.source}: value '{name}' is used but never defined")
            self.values[name] = self.weights.constant(self.consts[name], name, loc)
        return self.values[name]

    def _import_node(self, node: onnx.NodeProto, index: int) -> None:
        label = node.name or f"{node.op_type}_{index}"
        if node.domain not in ("", "ai.onnx"):
            raise UnsupportedError(f"{self.source}: node '{label}' uses op {node.domain}::{node.op_type}; "
                                   "mlc supports only the default ONNX domain")
        folded = folding.fold(node, self.consts, self.opset)
        if folded is not None:
            self._bind(node, folded)
            return
        folding.refine_types(node, self.types, self.consts, self.opset)
        handler = HANDLERS.get(node.op_type)
        if handler is None:
            raise UnsupportedError(
                f"{self.source}: node '{label}': op {node.op_type} (opset {self.opset}) is not supported",
                hint="supported ops: " + ", ".join(sorted(HANDLERS)))
        loc = ir.Location.name(label, childLoc=self.file_loc)
        with loc:
            view = NodeImport(self, node, label, loc)
            dynamic.check(view)
            results = handler(view)
        self._bind(node, results if isinstance(results, (list, tuple)) else [results])

    def _bind(self, node: onnx.NodeProto, results: list) -> None:
        """Records a node's results, and their static types for the nodes that use them."""
        for name, result in zip(node.output, results):
            if not name:
                continue
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


def _name_attr(name: str) -> ir.DictAttr:
    return ir.DictAttr.get({"mlc.name": ir.StringAttr.get(name)})


def _spec(type_proto, name) -> TensorSpec:
    """Static dims as sizes, dynamic ones as their symbol (str)."""
    tt = type_proto.tensor_type
    return TensorSpec(name, dtypes.from_onnx(tt.elem_type), tuple(symbolic_dims(type_proto)))
