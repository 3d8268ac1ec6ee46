"""Names the dynamic dims that ONNX shape inference leaves unnamed, by tracking shape values.

Exporters compute target shapes at run time: Shape -> Gather -> Unsqueeze -> Concat ->
Reshape, Range up to a Gather of a Shape, Expand to a Where of a shape... ONNX's data
propagation loses the graph inputs' symbols on the way (a Slice to a run-time end, an Expand,
a Range all come out as fresh 'unk__N' dims), and the importer's compile-time checks (a
broadcast meets the same symbol, a MatMul contracts the same symbol) then refuse the graph.

This pass walks the graph once in order, keeping for every small integer tensor whose
elements are dims the elements as symbols ('seq'), products of symbols ('batch*seq') or ints,
and derives the output dims of the ops whose shape is such a value (Reshape, Expand,
ConstantOfShape, Range, Slice, Flatten); every other node whose inputs got names is inferred
again on its own (ONNX's per-node inference), so the names reach the next shape computation in
the same walk. The names found go into the graph's value_info and whole-graph inference runs
again, until a walk finds nothing new. The sizes themselves are computed at
run time by the lowerings; the names are what lets the checks and the interface relate them.
"""

import math

import numpy as np
import onnx
from onnx import numpy_helper

from .node import symbolic_dims

# A walk carries the names it finds on through ONNX's per-node inference, so one round
# usually names everything (12-layer BERT and GPT-2 exports: one); the rounds after it only
# confirm the fixed point through whole-graph inference.
MAX_ROUNDS = 32
# Shape values longer than this are not tracked (a shape tensor has one element per dim).
MAX_ELEMENTS = 16


def refine(model: onnx.ModelProto, infer) -> tuple[onnx.ModelProto, dict[str, tuple[int, str]]]:
    """`model` with better-named dims, and the limits the graph puts on its symbols
    ({symbol or product: (largest size, why)}); `infer(model)` is the inference to re-run."""
    named: dict[str, tuple[int, list]] = {}
    limits: dict[str, tuple[int, str]] = {}
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 1)
    base = _without_weights(model)
    # Inference keeps a declared dim, a stale one too: only the names found here are declared.
    del base.graph.value_info[:]
    for vi in base.graph.output:
        if vi.type.HasField("tensor_type"):
            for d in vi.type.tensor_type.shape.dim:
                if not d.HasField("dim_value"):
                    d.Clear()
    current = model
    for _ in range(MAX_ROUNDS):
        walk = _Walk(current.graph, opset)
        found = walk.run()
        for symbol, (most, why) in walk.limits.items():
            _tighten(limits, symbol, most, why)
        if not found:
            break
        named.update(found)
        current = onnx.ModelProto.FromString(base.SerializeToString())
        outputs = {vi.name: vi for vi in current.graph.output}
        for name, (elem, dims) in named.items():
            vi = outputs.get(name)
            if vi is None:
                vi = current.graph.value_info.add()
                vi.name = name
            vi.type.CopyFrom(onnx.helper.make_tensor_type_proto(elem, dims))
        current = infer(current)
    if current is not model:  # the types found, back on the model with its weights
        del model.graph.value_info[:]
        model.graph.value_info.extend(current.graph.value_info)
        for vi, found in zip(model.graph.output, current.graph.output):
            vi.type.CopyFrom(found.type)
    return model, limits


def _tighten(limits: dict[str, tuple[int, str]], symbol: str, most: int, why: str) -> None:
    """Keeps the smaller of `symbol`'s recorded limit and `most`."""
    if symbol not in limits or most < limits[symbol][0]:
        limits[symbol] = (most, why)


def _without_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy whose large initializers are typed graph inputs instead: each round of
    inference then serializes the graph, not the weights."""
    light = onnx.ModelProto()
    light.CopyFrom(model)
    small = [init for init in light.graph.initializer if math.prod(init.dims) <= MAX_ELEMENTS]
    large = [init for init in light.graph.initializer if math.prod(init.dims) > MAX_ELEMENTS]
    declared = {vi.name for vi in light.graph.input}
    light.graph.input.extend(onnx.helper.make_tensor_value_info(init.name, init.data_type,
                                                                list(init.dims))
                             for init in large if init.name not in declared)
    del light.graph.initializer[:]
    light.graph.initializer.extend(small)
    return light


# -- symbolic integers: an int, or a product of symbols with an int coefficient ---------------
def _factors(x) -> tuple[int, list[str]]:
    if isinstance(x, (int, np.integer)):
        return int(x), []
    coef, names = 1, []
    for f in x.split("*"):
        if f.lstrip("-").isdigit():
            coef *= int(f)
        else:
            names.append(f)
    return coef, names


def _make(coef: int, names: list[str]):
    if not names or coef == 0:
        return coef
    return "*".join(([str(coef)] if coef != 1 else []) + sorted(names))


def _mul(a, b):
    if a is None or b is None:
        return None
    (ca, na), (cb, nb) = _factors(a), _factors(b)
    return _make(ca * cb, na + nb)


def _div(a, b):
    """a / b when it is exact (b's symbols all in a and the coefficients divide), else None."""
    if a is None or b is None:
        return None
    (ca, na), (cb, nb) = _factors(a), _factors(b)
    rest = list(na)
    for name in nb:
        if name not in rest:
            return None
        rest.remove(name)
    if cb == 0 or ca % cb:
        return None
    return _make(ca // cb, rest)


def _add(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return a + b
    if b == 0:
        return a
    if a == 0:
        return b
    return None


def _sub(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return a - b
    return a if b == 0 else None


def _equal(a, b):
    if a is None or b is None:
        return None
    if isinstance(a, int) and isinstance(b, int):
        return int(a == b)
    if a == b:
        return 1
    # A dim is never negative: a symbol differs from -1 (how exporters mark "keep this dim").
    if (isinstance(a, int) and a < 0) or (isinstance(b, int) and b < 0):
        return 0
    return None


def _known(x) -> bool:
    return x is not None


# -- the walk -------------------------------------------------------------------------------
# Ops whose output holds the values of their input 0 (reshaped or repeated): a bound on those
# values (`_Walk.below`) carries through.
_SAME_VALUES = {"Identity", "Cast", "Unsqueeze", "Squeeze", "Reshape", "Expand"}

class _Value:
    """A tracked integer tensor: its elements (row-major) and its shape (0-D or 1-D)."""

    def __init__(self, items, scalar=False):
        self.items, self.scalar = list(items), scalar


class _Walk:
    def __init__(self, graph: onnx.GraphProto, opset: int):
        self.graph, self.opset = graph, opset
        self.types = {vi.name: vi.type for vi in [*graph.input, *graph.value_info, *graph.output]}
        self.values: dict[str, _Value] = {}
        self.named: dict[str, tuple[int, list]] = {}
        # Integer tensors whose elements lie in [0, bound) for a symbolic bound (a Range up
        # to a sequence length), and the sizes a symbol can take without a read out of bounds.
        self.below: dict[str, str] = {}
        self.limits: dict[str, tuple[int, str]] = {}
        self.init_types = {init.name: init.data_type for init in graph.initializer}
        self.init_shapes = {init.name: list(init.dims) for init in graph.initializer}
        # Small constants, for the inference of ops that read them (Split's sizes, axes).
        self.data = {init.name: init for init in graph.initializer
                     if math.prod(init.dims) <= MAX_ELEMENTS}
        for init in graph.initializer:
            self._const(init.name, numpy_helper.to_array(init))

    def _const(self, name, array):
        if array.dtype.kind in "iu" and array.ndim <= 1 and array.size <= MAX_ELEMENTS:
            self.values[name] = _Value([int(x) for x in array.reshape(-1)], array.ndim == 0)

    def _type(self, name: str) -> onnx.TypeProto | None:
        if name in self.named:
            return onnx.helper.make_tensor_type_proto(*self.named[name])
        if name in self.types:
            return self.types[name]
        if name in self.init_shapes:
            return onnx.helper.make_tensor_type_proto(self.init_types[name], self.init_shapes[name])
        return None

    def dims(self, name):
        if name in self.named:
            return self.named[name][1]
        if name not in self.types or not self.types[name].tensor_type.HasField("shape"):
            return None
        return symbolic_dims(self.types[name])

    def run(self) -> dict:
        for node in self.graph.node:
            try:
                self._node(node)
            except (IndexError, ValueError, TypeError, ZeroDivisionError):
                pass  # a malformed or unusual node: the importer reports it
        return self.named

    def _value(self, node, i):
        if i < len(node.input) and node.input[i] in self.values:
            return self.values[node.input[i]]
        return None

    def _attr(self, node, name, default=None):
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    def _set_dims(self, name: str, dims: list, elem: int) -> None:
        """Records `dims` for output `name` (of element type `elem`) where they name more than
        inference did, or where inference gave no shape at all."""
        if dims is None or not elem:
            return
        old = self.dims(name)
        if old is None:
            self.named[name] = (elem, list(dims))
            return
        if len(old) != len(dims):
            return
        better = [n if _better(o, n) else o for o, n in zip(old, dims)]
        if better != old:
            self.named[name] = (elem, better)

    def elem(self, name: str) -> int:
        """The element type of value `name` (0 when unknown)."""
        if name in self.types:
            return self.types[name].tensor_type.elem_type
        return self.init_types.get(name, 0)

    def _node(self, node):
        op = node.op_type
        out = node.output[0] if node.output else ""
        if op == "Constant":
            value = self._attr(node, "value")
            if value is not None:
                self._const(out, numpy_helper.to_array(value))
                if math.prod(value.dims) <= MAX_ELEMENTS:
                    self.data[out] = value
            elif self._attr(node, "value_int") is not None:
                self.values[out] = _Value([self._attr(node, "value_int")], True)
            elif self._attr(node, "value_ints") is not None:
                self.values[out] = _Value(list(self._attr(node, "value_ints")))
            return
        if op in _SAME_VALUES and node.input and node.input[0] in self.below:
            self.below[out] = self.below[node.input[0]]
        handler = getattr(self, "_" + op, None)
        if handler is not None:
            handler(node, out)
        self._infer(node)

    def _infer(self, node):
        """ONNX's inference of this one node from the names found so far, so that they reach
        the next shape computation in this round rather than the next."""
        if all(name in self.named for name in node.output if name):
            return
        try:
            schema = onnx.defs.get_schema(node.op_type, self.opset, node.domain)
        except onnx.defs.SchemaError:
            return
        if not any(name in self.named for name in node.input if name):
            return  # nothing new to carry through this node
        input_types = {name: self._type(name) for name in node.input if name}
        if any(t is None for t in input_types.values()):
            return
        try:
            data = {name: self.data[name] for name in node.input if name in self.data}
            inferred = onnx.shape_inference.infer_node_outputs(
                schema, node, input_types, data,
                opset_imports=[onnx.helper.make_opsetid("", self.opset)])
        except Exception:  # inference needs what this walk does not have: the next round
            return
        for name, type_proto in inferred.items():
            if name not in self.named and type_proto.tensor_type.HasField("shape"):
                self._set_dims(name, symbolic_dims(type_proto), type_proto.tensor_type.elem_type)

    # shape values
    def _Shape(self, node, out):
        dims = self.dims(node.input[0])
        if dims is None:
            return
        rank = len(dims)
        start, end = self._attr(node, "start", 0), self._attr(node, "end", rank)
        self.values[out] = _Value(dims[slice(start, end)])

    def _Size(self, node, out):
        dims = self.dims(node.input[0])
        if dims is not None:
            self.values[out] = _Value([_product(dims)], True)

    def _limit(self, symbol, most: int, node, why: str) -> None:
        """Records that `symbol` (a symbolic size) may be at most `most`."""
        if isinstance(symbol, str):
            _tighten(self.limits, symbol, most,
                     f"node '{node.name or node.op_type}' ({node.op_type}) {why}")

    def _Gather(self, node, out):
        src = self.dims(node.input[0])
        if node.input[1] in self.below and src is not None:
            axis = self._attr(node, "axis", 0)
            size = src[axis]
            if isinstance(size, int):
                self.below[out] = self.below[node.input[1]]
                self._limit(self.below[out], size, node,
                            f"reads positions 0 .. {self.below[out]}-1 of a table of {size} "
                            f"along axis {axis}")
        data, index = self._value(node, 0), self._value(node, 1)
        if data is None or index is None or not all(isinstance(i, int) for i in index.items):
            return
        self.values[out] = _Value([data.items[i] for i in index.items], index.scalar)

    def _same(self, node, out):
        x = self._value(node, 0)
        if x is not None:
            shape = self.dims(out)
            self.values[out] = _Value(x.items, shape is not None and len(shape) == 0)

    _Unsqueeze = _Squeeze = _Cast = _Identity = _same

    def _Reshape(self, node, out):
        x, shape = self._value(node, 0), self._value(node, 1)
        if x is not None:
            self._same(node, out)
        if shape is None:
            return
        src = self.dims(node.input[0])
        if src is None:
            return
        allowzero = self._attr(node, "allowzero", 0)
        dims = [src[d] if s == 0 and not allowzero and d < len(src) else s
                for d, s in enumerate(shape.items)]
        if -1 in dims:
            known = _product([d for d in dims if d != -1])
            dims[dims.index(-1)] = _div(_product(src), known)
        self._set_dims(out, dims, self.elem(node.input[0]))

    def _Concat(self, node, out):
        parts = [self._value(node, i) for i in range(len(node.input))]
        if all(p is not None for p in parts):
            self.values[out] = _Value([x for p in parts for x in p.items])

    def _Slice(self, node, out):
        starts, ends = self._value(node, 1), self._value(node, 2)
        axes = self._value(node, 3) if len(node.input) > 3 and node.input[3] else None
        steps = self._value(node, 4) if len(node.input) > 4 and node.input[4] else None
        if starts is None or ends is None:
            return
        count = len(starts.items)
        axes = axes.items if axes else list(range(count))
        steps = steps.items if steps else [1] * count
        x = self._value(node, 0)
        if x is not None and len(axes) == 1 and all(isinstance(v, int) for v in
                                                    (starts.items[0], ends.items[0], steps[0])):
            self.values[out] = _Value(x.items[slice(starts.items[0], ends.items[0], steps[0])])
        src = self.dims(node.input[0])
        if src is None:
            return
        dims = list(src)
        for start, end, axis, step in zip(starts.items, ends.items, axes, steps):
            axis = axis + len(src) if isinstance(axis, int) and axis < 0 else axis
            if not isinstance(axis, int) or step != 1 or start != 0:
                dims[axis] = None
            elif isinstance(end, int):
                dims[axis] = (min(end, src[axis]) if isinstance(src[axis], int) and end >= 0
                              else src[axis] if end >= 2**31 - 1 else None)
            else:
                # Slicing [0, n) with a symbolic n: the symbol; the exporters slice position
                # tables this way, and n must then fit the table.
                dims[axis] = end
                if isinstance(src[axis], int):
                    self._limit(end, src[axis], node,
                                f"takes the first {end} of {src[axis]} entries along axis {axis}")
        self._set_dims(out, dims, self.elem(node.input[0]))

    def _binary(fn):
        def handler(self, node, out):
            a, b = self._value(node, 0), self._value(node, 1)
            if a is None or b is None:
                return
            n = max(len(a.items), len(b.items))
            if len(a.items) not in (1, n) or len(b.items) not in (1, n):
                return
            items = [fn(a.items[i % len(a.items)], b.items[i % len(b.items)]) for i in range(n)]
            self.values[out] = _Value(items, a.scalar and b.scalar)
        return handler

    _Add, _Sub, _Mul, _Div = _binary(_add), _binary(_sub), _binary(_mul), _binary(_div)
    _Equal = _binary(_equal)

    def _Where(self, node, out):
        c, a, b = (self._value(node, i) for i in range(3))
        if c is None or a is None or b is None:
            return
        n = max(len(c.items), len(a.items), len(b.items))
        items = []
        for i in range(n):
            cond = c.items[i % len(c.items)]
            items.append(None if cond is None else
                         a.items[i % len(a.items)] if cond else b.items[i % len(b.items)])
        self.values[out] = _Value(items, c.scalar and a.scalar and b.scalar)

    # ops whose output shape is a shape value
    def _ConstantOfShape(self, node, out):
        shape = self._value(node, 0)
        if shape is None:
            return
        fill = self._attr(node, "value")
        self._set_dims(out, shape.items, _fill_type(fill))
        if fill is not None and len(shape.items) == 1 and isinstance(shape.items[0], int):
            array = numpy_helper.to_array(fill).reshape(-1)
            if array.dtype.kind in "iu" and shape.items[0] <= MAX_ELEMENTS:
                self.values[out] = _Value([int(array[0])] * shape.items[0])

    def _Expand(self, node, out):
        shape, src = self._value(node, 1), self.dims(node.input[0])
        if shape is None or src is None:
            return
        rank = max(len(src), len(shape.items))
        a = [1] * (rank - len(src)) + list(src)
        b = [1] * (rank - len(shape.items)) + list(shape.items)
        self._set_dims(out, [y if x == 1 else x if y == 1 else x if x == y else
                             x if x is not None and y is None else None for x, y in zip(a, b)],
                       self.elem(node.input[0]))

    def _Range(self, node, out):
        start, limit, delta = (self._value(node, i) for i in range(3))
        if start is None or limit is None or delta is None:
            return
        s, l, d = start.items[0], limit.items[0], delta.items[0]
        if isinstance(s, int) and s >= 0 and isinstance(d, int) and d > 0 and isinstance(l, str):
            self.below[out] = l
        if s == 0 and d == 1 and l is not None:
            self._set_dims(out, [l], self.elem(node.input[0]))
            if isinstance(l, int) and l <= MAX_ELEMENTS:
                self.values[out] = _Value(list(range(l)))

    def _Flatten(self, node, out):
        src = self.dims(node.input[0])
        if src is None:
            return
        axis = self._attr(node, "axis", 1)
        axis = axis + len(src) if axis < 0 else axis
        self._set_dims(out, [_product(src[:axis]), _product(src[axis:])], self.elem(node.input[0]))


def _fill_type(fill) -> int:
    return fill.data_type if fill is not None else onnx.TensorProto.FLOAT


def _product(dims):
    return math.prod(dims) if all(isinstance(d, int) for d in dims) else (
        None if any(d is None for d in dims) else _mul_all(dims))


def _mul_all(dims):
    result = 1
    for d in dims:
        result = _mul(result, d)
    return result


def _better(old, new) -> bool:
    """Whether `new` names a dim better than `old` does."""
    if new is None or new == old or isinstance(old, int):
        return False
    if isinstance(new, int):
        return new >= 0
    return old is None or ("unk__" in old and "unk__" not in new)
