"""Rewrites an ONNX model so that every graph-input dim is symbolic, for the dynamic
conformance mode (`python -m mlc.tools.conformance --dynamic`), as onnx-mlir's backend tests
force every input dim dynamic.

Each input dim becomes a `dim_param`; dims of equal size share one symbol (`n<size>`), as a
real model's batch dim is one symbol across its inputs, so broadcasting that the test data
shows between equal dims stays decidable at compile time, while a size-1 dim broadcast
against a larger one meets a different symbol (and mlc refuses what it cannot decide). The
graph's value_info and output sizes are dropped, so shape inference recomputes them from the
symbols; a compiled model must then run at the test's sizes like any other binding.
"""

import onnx


def symbol_for(size: int) -> str:
    return f"n{size}"


def make_inputs_symbolic(model: onnx.ModelProto) -> onnx.ModelProto:
    model = onnx.ModelProto.FromString(model.SerializeToString())
    graph = model.graph
    weights = {init.name for init in graph.initializer}
    for vi in graph.input:
        if vi.name in weights or not vi.type.HasField("tensor_type"):
            continue
        for d in vi.type.tensor_type.shape.dim:
            if d.HasField("dim_value"):
                d.dim_param = symbol_for(d.dim_value)  # a oneof: clears dim_value
    del graph.value_info[:]
    for vi in graph.output:  # the rank stays (the checker wants a shape), the sizes go
        if vi.type.HasField("tensor_type"):
            for d in vi.type.tensor_type.shape.dim:
                d.Clear()
    return model
