"""What the importer knows at compile time: nodes evaluated on constants, and static output types.

Exporters compute attention masks, position ids and target shapes through chains of Equal,
Where, Expand, Range, Slice... on constants. `fold` evaluates such a node with onnx's
reference implementation when every input is known and small, whether or not mlc has a
handler for the op, so those chains leave no trace in the compiled model.

ONNX shape inference runs once over the whole graph before import and cannot see through
such chains: an Expand whose shape comes out of a Where gets symbolic dims. `refine_types`
runs ONNX's inference again for one node, with the static types and constant values the
importer has by then, so every handler sees static output types. `backfill_types` goes the
other way, once per graph: an input of an elementwise unary node (a Cast, say) gets the static
shape of its output, which tells a Loop's scan outputs their length when only the graph
output after such a node declares it.
"""

import numpy as np
import onnx
from onnx import numpy_helper

from mlc import dtypes

# Past this many elements a value stays an MLIR op: weights stay weights, not folded copies.
FOLD_LIMIT = 4096

# Ops never folded: random ones, Constant-likes the handlers turn into splats, and ops with
# subgraphs.
_NO_FOLD = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
            "Multinomial", "Bernoulli", "Constant", "ConstantOfShape", "If", "Loop", "Scan"}


def _gather_elements(node, data, indices):
    axis = next((a.i for a in node.attribute if a.name == "axis"), 0)
    indices = np.where(indices < 0, indices + data.shape[axis], indices)
    return [np.take_along_axis(data, indices, axis=axis)]


# Ops whose reference implementation is wrong for some shapes (onnx 1.23's GatherElements
# fails when the indices are smaller than the data along a non-axis dim).
_OVERRIDES = {"GatherElements": _gather_elements}


def fold(node: onnx.NodeProto, consts: dict[str, np.ndarray], opset: int) -> list | None:
    """The node's outputs as numpy arrays when all its inputs are small constants, else None."""
    names = [name for name in node.input if name]
    if (not names or node.op_type in _NO_FOLD or node.domain not in ("", "ai.onnx")
            or any(name not in consts or consts[name].size > FOLD_LIMIT for name in names)):
        return None
    from onnx.reference import ReferenceEvaluator

    try:
        if node.op_type in _OVERRIDES:
            results = _OVERRIDES[node.op_type](node, *(consts[name] for name in names))
        else:
            evaluator = ReferenceEvaluator(node, opsets={"": opset})
            results = evaluator.run(None, {name: consts[name] for name in names})
    except Exception:  # the reference lacks the op or this variant: import it as usual
        return None
    if any(not isinstance(r, np.ndarray) or r.size > FOLD_LIMIT
           or dtypes.from_numpy(r.dtype) is None for r in results):
        return None
    return [np.asarray(r) for r in results]


def is_static(type_proto: onnx.TypeProto | None) -> bool:
    if type_proto is None or not type_proto.HasField("tensor_type"):
        return False
    tt = type_proto.tensor_type
    return tt.HasField("shape") and all(d.HasField("dim_value") for d in tt.shape.dim)


def static_type(elem_type: int, shape) -> onnx.TypeProto:
    return onnx.helper.make_tensor_type_proto(elem_type, [int(d) for d in shape])


def refine_types(node: onnx.NodeProto, types: dict[str, onnx.TypeProto],
                 consts: dict[str, np.ndarray], opset: int) -> None:
    """Re-infers the node's output types in `types` when any of them is not static.

    `types` must hold a static type for each of the node's inputs; outputs whose inference
    still fails keep the type they had (the handler then reports it).
    """
    if all(is_static(types.get(name)) for name in node.output if name):
        return
    try:
        schema = onnx.defs.get_schema(node.op_type, opset, node.domain)
    except onnx.defs.SchemaError:
        return
    names = [name for name in node.input if name]
    input_types, input_data = {}, {}
    for name in names:
        if name in consts:
            value = consts[name]
            input_types[name] = static_type(dtypes.from_numpy(value.dtype).onnx, value.shape)
            if value.size <= FOLD_LIMIT:
                input_data[name] = numpy_helper.from_array(np.ascontiguousarray(value), name)
        elif name in types:
            input_types[name] = types[name]
    try:
        inferred = onnx.shape_inference.infer_node_outputs(
            schema, node, input_types, input_data,
            opset_imports=[onnx.helper.make_opsetid("", opset)])
    except Exception:  # inference could not do better; the handler reports what is missing
        return
    for name, type_proto in inferred.items():
        # A partial type beats none: the handler then names the dim that is not static.
        if is_static(type_proto) or name not in types:
            types[name] = type_proto


# Ops whose output shape is their input 0's.
_SHAPE_PRESERVING = {"Cast", "CastLike", "Identity", "Neg", "Abs", "Relu", "Sigmoid", "Tanh",
                     "Exp", "Log", "Sqrt", "Floor", "Ceil", "Round", "Not"}


def backfill_types(nodes, types) -> None:
    """Gives the non-static input of each shape-preserving node its output's static shape."""
    for node in reversed(list(nodes)):
        if node.op_type not in _SHAPE_PRESERVING or not node.input or not node.output:
            continue
        source, result = node.input[0], types.get(node.output[0])
        if not is_static(result) or source not in types or is_static(types[source]):
            continue
        known = types[source]
        if not known.HasField("tensor_type"):
            continue
        shape = [d.dim_value for d in result.tensor_type.shape.dim]
        types[source] = static_type(known.tensor_type.elem_type, shape)
