"""`Decomposition`: a handler that imports its node as other ONNX nodes builds them here.

Ops such as DFT, GridSample and LpNormalization are sums, gathers and matmuls of the ops mlc
already imports. Their handlers write those nodes in numpy-like Python; `import_into` then
imports the small graph in the node's place (`NodeImport.import_graph`), so every piece goes
through the usual handlers, folding and shape inference.
"""

import numpy as np
from onnx import helper, numpy_helper

from .node import Bound, NodeImport


class Decomposition:
    def __init__(self, opset: int | None = None):
        """`opset`: the one the nodes are written in (default: the model's)."""
        self.opset = opset
        self.nodes, self.inits, self.inputs, self.bindings = [], [], [], []
        self._count = 0

    def _name(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def input(self, bound: Bound, name: str | None = None) -> str:
        """A graph input bound to a value of the node being imported."""
        name = name or self._name("in")
        self.inputs.append(helper.make_tensor_value_info(name, bound.dtype.onnx, bound.shape))
        self.bindings.append(bound)
        return name

    def const(self, value, dtype=None) -> str:
        name = self._name("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def op(self, op_type: str, *inputs: str, **attrs) -> str:
        """One node with one output; returns the output's name."""
        out = self._name(op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def import_into(self, n: NodeImport, output: str | list[str], tag: str):
        """Imports the nodes in `n`'s place; the MLIR value of `output`, typed as n's output 0
        (for a list of outputs, the list of values typed as n's outputs 0, 1, ...)."""
        names = [output] if isinstance(output, str) else output
        outs = []
        for i, name in enumerate(names):
            self.nodes.append(helper.make_node("Identity", [name], [f"y{i}"]))
            outs.append(helper.make_tensor_value_info(f"y{i}", n.out_dtype(i).onnx, n.out_shape(i)))
        graph = helper.make_graph(self.nodes, tag, self.inputs, outs, self.inits)
        values = [n.materialize(y) for y in n.import_graph(graph, self.bindings, tag, self.opset)]
        return values[0] if isinstance(output, str) else values
