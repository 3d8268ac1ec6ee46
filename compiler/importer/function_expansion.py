"""Expands a node whose op has no handler into the nodes of its ONNX schema's function body.

Many ONNX ops are defined in their schema by a function body of simpler ops: Shrink, PRelu,
Swish, the window functions... Some bodies depend on the node itself ("context-dependent"
functions: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss build a different body for
each reduction, ignore_index and optional weight). When no handler imports such an op, the
importer imports the body's nodes in its place, each through the normal handlers, so coverage
grows without hand-written lowerings.

`expand` returns the body's nodes bound to the node: formal inputs and outputs become the
node's actual value names (an omitted optional input stays "", as ONNX treats it inside the
body), every other value gets a prefix unique to this expansion, and attribute references
(`ref_attr_name`) become the node's attribute, the schema's default, or nothing. The nodes are
written in the body's own opset, returned with them: the importer imports each at that opset,
which may differ from the model's.

`with_explicit_defaults` runs before ONNX shape inference: onnx 1.23 infers such an op through
a body without the schema's attribute defaults (MeanVarianceNormalization without `axes`
fails strict inference), so the nodes the importer will expand get their defaults spelled out.
"""

from collections.abc import Container
from dataclasses import dataclass

import onnx
from onnx import AttributeProto

@dataclass
class Expansion:
    nodes: list[onnx.NodeProto]
    opset: int     # the default-domain opset the nodes are written in


def expand(node: onnx.NodeProto, opset: int, input_types: list[onnx.TypeProto],
           prefix: str) -> Expansion | None:
    """The node's function body bound to its values, or None when its op has no usable body.

    `input_types` has one type per entry of `node.input` (an empty TypeProto for an omitted
    input); context-dependent bodies are built from them. Inner values are named `prefix + name`.
    """
    try:
        schema = onnx.defs.get_schema(node.op_type, opset, node.domain)
    except onnx.defs.SchemaError:
        return None
    attrs = _attributes(node, schema)
    body = _body(schema, node, attrs, opset, input_types)
    if body is None:
        return None
    body_opset = next((o.version for o in body.opset_import if o.domain in ("", "ai.onnx")), opset)
    for fn_default in body.attribute_proto:
        attrs.setdefault(fn_default.name, fn_default)

    names = {"": ""}
    names.update(zip(body.input, [*node.input, *[""] * (len(body.input) - len(node.input))]))
    for i, formal in enumerate(body.output):
        if i < len(node.output) and node.output[i]:
            names[formal] = node.output[i]

    def rename(name: str) -> str:
        return names.get(name, prefix + name)

    nodes = [_bind_node(inner, rename, attrs) for inner in body.node]
    if any(bound is None for bound in nodes):
        return None
    return Expansion(nodes, body_opset)


def has_body(node: onnx.NodeProto, opset: int) -> bool:
    """Whether ONNX defines the node's op (in any domain it knows) by a function body."""
    try:
        schema = onnx.defs.get_schema(node.op_type, opset, node.domain)
    except onnx.defs.SchemaError:
        return False
    return schema.has_function or schema.has_context_dependent_function


def _bind_node(inner: onnx.NodeProto, rename, attrs: dict[str, AttributeProto]):
    """A body node with its values renamed and its attribute references resolved; the same,
    recursively, for the nodes of its subgraphs (a Scan's body)."""
    bound = onnx.NodeProto()
    bound.CopyFrom(inner)
    bound.input[:] = [rename(x) for x in inner.input]
    bound.output[:] = [rename(y) for y in inner.output]
    del bound.attribute[:]
    for a in inner.attribute:
        if a.ref_attr_name:
            if a.ref_attr_name not in attrs:
                continue
            actual = AttributeProto()
            actual.CopyFrom(attrs[a.ref_attr_name])
            actual.name = a.name
            bound.attribute.append(actual)
        elif a.type == AttributeProto.GRAPH:
            graph = _bind_graph(a.g, rename, attrs)
            if graph is None:
                return None
            bound.attribute.append(onnx.helper.make_attribute(a.name, graph))
        elif a.type == AttributeProto.GRAPHS:
            return None
        else:
            bound.attribute.append(a)
    return bound


def _bind_graph(graph: onnx.GraphProto, rename, attrs) -> onnx.GraphProto | None:
    """A subgraph of a body node, every name in it renamed as the body's are (ONNX names are
    unique across a graph and its subgraphs, so one renaming serves both)."""
    nodes = [_bind_node(inner, rename, attrs) for inner in graph.node]
    if any(node is None for node in nodes):
        return None
    bound = onnx.GraphProto()
    bound.CopyFrom(graph)
    del bound.node[:]
    bound.node.extend(nodes)
    for vi in [*bound.input, *bound.output, *bound.value_info]:
        vi.name = rename(vi.name)
    for init in bound.initializer:
        init.name = rename(init.name)
    return bound


def with_explicit_defaults(model: onnx.ModelProto, opset: int,
                           handled: Container[str]) -> onnx.ModelProto:
    """`model`, or a copy in which the top-level nodes of ops not in `handled` that have a
    function body carry their schema's default attributes explicitly."""
    updates = {}
    for index, node in enumerate(model.graph.node):
        if node.op_type in handled or node.domain not in ("", "ai.onnx"):
            continue
        try:
            schema = onnx.defs.get_schema(node.op_type, opset, node.domain)
        except onnx.defs.SchemaError:
            continue
        if schema.has_function or schema.has_context_dependent_function:
            attrs = _attributes(node, schema)
            if len(attrs) > len(node.attribute):
                updates[index] = attrs
    if not updates:
        return model
    model = onnx.ModelProto.FromString(model.SerializeToString())
    for index, attrs in updates.items():
        node = model.graph.node[index]
        given = {a.name for a in node.attribute}
        node.attribute.extend(a for name, a in attrs.items() if name not in given)
    return model


def _attributes(node: onnx.NodeProto, schema) -> dict[str, AttributeProto]:
    """The node's attributes, with the schema's defaults for those it leaves out."""
    attrs = {}
    for name, declared in schema.attributes.items():
        default = declared.default_value
        if default.type != AttributeProto.UNDEFINED:
            attrs[name] = default
    attrs.update({a.name: a for a in node.attribute})
    return attrs


def _body(schema, node: onnx.NodeProto, attrs: dict[str, AttributeProto], opset: int,
          input_types: list[onnx.TypeProto]) -> onnx.FunctionProto | None:
    if schema.has_function:
        version = _pick(schema.function_opset_versions, opset)
        data = schema.get_function_with_opset_version(version)
    elif schema.has_context_dependent_function:
        version = _pick(schema.context_dependent_function_opset_versions, opset)
        # The body builders read attributes off the node, defaults included.
        full = onnx.NodeProto()
        full.CopyFrom(node)
        del full.attribute[:]
        full.attribute.extend(attrs.values())
        try:
            data = schema.get_context_dependent_function_with_opset_version(
                version, full.SerializeToString(), [t.SerializeToString() for t in input_types])
        except Exception:  # the builder rejects this node (types it does not handle)
            return None
    else:
        return None
    if not data:
        return None
    return onnx.FunctionProto.FromString(data)


def _pick(versions: list[int], opset: int) -> int:
    """The body written for the model's opset: the newest not past it.

    A schema's bodies all define the same op; a body is added at a later opset when it needs
    newer ops (Shrink-9's body is written in opset 18, for CastLike). When every body is newer
    than the model, the oldest one still defines the op, and mlc imports each node at the
    body's own opset.
    """
    older = [v for v in versions if v <= opset]
    return max(older) if older else min(versions)
