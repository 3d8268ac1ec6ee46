"""Which nodes compile with dynamic (symbolic) dims, and the refusal for the others.

A graph input dim with no static size stays symbolic: `?` in the mlc types, its ONNX name
(`dim_param`) kept for the interface. ONNX shape inference carries the names to later values;
the lowerings read the sizes at run time (`tensor.dim`). A node that has a dynamic dim on an
input or output compiles only when its op is listed here and its dims pass the op's check:
broadcasting must be decidable at compile time (a dynamic dim meets the same symbol or a static
1) and contracted dims must be the same symbol or the same size, so the kernel never indexes
past a buffer. Anything else is refused here, naming the node, the op and the dim, before any
lowering could see a shape it does not handle. The ops in RUNTIME_SIZED compute their result
sizes from run-time values, so a result may be dynamic even when their inputs are static;
`symbolic_shapes` names such dims beforehand so these checks can relate them.
"""

from mlc.errors import UnsupportedError

from .node import NodeImport

_HINT = "pin the graph inputs' dims with --input-shape NAME=D0xD1x..."

# Output shape = input shape, elementwise.
UNARY = {"Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round",
         "Erf", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh",
         "Atanh", "Softplus", "Softsign", "Mish", "HardSwish", "Abs", "Neg", "Sign", "LeakyRelu",
         "ThresholdedRelu", "Elu", "Celu", "Selu", "HardSigmoid", "Gelu", "Cast", "CastLike",
         "Not", "BitwiseNot", "IsNaN", "IsInf", "Identity"}
# numpy broadcasting over all inputs.
BROADCAST = {"Add", "Sub", "Mul", "Div", "Pow", "Mod", "Max", "Min", "Sum", "Mean", "Clip",
             "Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "And", "Or", "Xor",
             "BitwiseAnd", "BitwiseOr", "BitwiseXor", "Where", "BitShift"}
REDUCE = {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSumSquare",
          "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ArgMax", "ArgMin"}


def _dynamic(dims) -> list[int]:
    return [d for d, size in enumerate(dims) if not isinstance(size, int)]


def _input_dims(n: NodeImport) -> list:
    """(name, dims) of each input the node has."""
    return [(n.node.input[i], n.in_dims(i)) for i in range(n.num_inputs) if n.has_input(i)]


def _show(size) -> str:
    return f"'{size}'" if size else "an unnamed dynamic size"


def check(n: NodeImport) -> None:
    """Raises UnsupportedError when node `n` has dynamic dims its lowering cannot handle."""
    inputs = _input_dims(n)
    if not any(_dynamic(dims) for _, dims in inputs):
        return  # static inputs: the handler may still size an output inference left open
    outputs = [(name, n.out_dims(i)) for i, name in enumerate(n.node.output) if name]
    first = next(((kind, name, d, dims[d])
                  for kind, group in (("input", inputs), ("output", outputs))
                  for name, dims in group for d in _dynamic(dims)), None)
    if first is None:
        return
    kind, name, d, size = first
    if kind == "output":
        raise _unsized_output(n, name, d, size)
    rule = RULES.get(n.op_type)
    if rule is None:
        raise UnsupportedError(n.error_text(f"{kind} '{name}' dim {d} is dynamic ({_show(size)}); "
                                            f"{n.op_type} does not compile with dynamic dims yet"),
                               hint=_HINT)
    why = rule(n, inputs, outputs)
    if why:
        raise UnsupportedError(n.error_text(f"{why} (dynamic dims)"), hint=_HINT)


def _unsized_output(n: NodeImport, name: str, d: int, size) -> UnsupportedError:
    return UnsupportedError(n.error_text(
        f"output '{name}' dim {d} ({_show(size)}) has a size that no input dim gives (it "
        "depends on the input values, or shape inference cannot derive it); mlc sizes "
        "buffers from the inputs' dims"))


def check_results(n: NodeImport, results: list) -> None:
    """After the handler of a node with static inputs: every result it built is static (the
    handler sized what inference left open), or the node is refused as `check` would."""
    from mlir import ir

    if any(_dynamic(dims) for _, dims in _input_dims(n)) or n.op_type in RUNTIME_SIZED:
        return  # `check` ruled on this node, or its lowering sizes the result from values
    for i, (name, result) in enumerate(zip(n.node.output, results)):
        if name and isinstance(result, ir.Value) and isinstance(result.type, ir.RankedTensorType):
            shape = ir.RankedTensorType(result.type).shape
            dynamic = [d for d, size in enumerate(shape) if size < 0]
            if dynamic:
                raise _unsized_output(n, name, dynamic[0], n.out_dims(i)[dynamic[0]]
                                      if len(n.out_dims(i)) == len(shape) else None)


def _size(size) -> str:
    return str(size) if isinstance(size, int) else _show(size)


def _broadcast(n: NodeImport, inputs, outputs) -> str | None:
    """Each output dim must come from inputs whose dims are the same symbol or a static 1."""
    rank = max((len(dims) for _, dims in inputs), default=0)
    for pos in range(1, rank + 1):
        seen = [(name, len(dims) - pos, dims[-pos]) for name, dims in inputs if len(dims) >= pos]
        dynamic = [size for _, _, size in seen if not isinstance(size, int)]
        symbols = set(dynamic)
        if not symbols:
            continue
        if len(symbols) > 1 or (None in symbols and len(dynamic) > 1):
            names = ", ".join(f"'{name}' dim {d} ({_size(s)})" for name, d, s in seen)
            return f"cannot decide at compile time how {names} broadcast"
        wide = [(name, d, s) for name, d, s in seen if isinstance(s, int) and s != 1]
        if wide:
            name, d, s = wide[0]
            return (f"input '{name}' dim {d} is {s} where another input's is "
                    f"{_show(symbols.pop())}: broadcasting is decided only at run time")
    return None


def _no_check(n, inputs, outputs) -> str | None:
    """Ops whose lowering sizes each result dim from the same or a permuted input dim."""
    return None


def _matmul(n, inputs, outputs) -> str | None:
    (_, a), (_, b) = inputs[:2]
    if len(a) < 2 or len(b) < 2:
        return "MatMul with a 1-D operand"
    if a[-1] != b[-2] or a[-1] is None:  # a None (unnamed) dim equals no other
        return (f"the contracted dims ({_size(a[-1])} and {_size(b[-2])}) are not known to "
                "be equal")
    return _broadcast(n, [(inputs[0][0], a[:-2]), (inputs[1][0], b[:-2])], outputs)


def _gemm(n, inputs, outputs) -> str | None:
    a, b = inputs[0][1], inputs[1][1]
    k_a = a[0] if n.attr("transA", 0) else a[1]
    k_b = b[1] if n.attr("transB", 0) else b[0]
    if k_a != k_b or k_a is None:
        return "the contracted dims are not known to be equal"
    if len(inputs) > 2:
        return _broadcast(n, [outputs[0], inputs[2]], outputs)
    return None


def _softmax(n, inputs, outputs) -> str | None:
    rank = len(inputs[0][1])
    axis = n.attr("axis", -1 if n.opset >= 13 else 1)
    axis = axis + rank if axis < 0 else axis
    if n.opset < 13 and axis != rank - 1:
        # Flattened to [outer, inner]: only one dynamic dim, outside the softmax, with unit dims.
        dims = inputs[0][1]
        if _dynamic(dims[axis:]) or sum(d != 1 for d in dims[:axis]) > 1:
            return f"{n.op_type} before opset 13 over dims {axis}.. flattened"
    return None


def _reduce(n, inputs, outputs) -> str | None:
    if n.has_input(1) and n.const(1) is None:
        return "axes given at run time"
    return None


def _core(dims) -> list:
    """Dynamic dims in order, and the product of each run of static dims between them (runs
    whose product is 1 left out): a reshape may regroup only the static runs."""
    core, run = [], 1
    for size in dims:
        if isinstance(size, int):
            run *= size
            continue
        if run != 1:
            core.append(run)
        core.append(("dim", size))
        run = 1
    if run != 1:
        core.append(run)
    return core


def _reshape(n, inputs, outputs) -> str | None:
    """Reshape/Flatten/Squeeze/Unsqueeze: each dynamic dim stays, in order, as itself; or the
    sizes come from a run-time shape (Reshape); or one dynamic result dim takes what is left."""
    runtime = n.num_inputs > 1 and n.has_input(1) and n.const(1) is None
    if runtime and n.op_type != "Reshape":
        return f"{n.op_type} with its axes given at run time"
    (name, src), (out_name, dst) = inputs[0], outputs[0]
    if runtime or (n.op_type in ("Reshape", "Flatten") and not keeps_dims(src, dst)):
        return None  # sizes computed at run time
    if not keeps_dims(src, dst):
        return (f"{n.op_type} from {_dims_text(src)} to {_dims_text(dst)} moves or merges a "
                "dynamic dim")
    # A dynamic dim passes through as itself: it keeps the input's symbol.
    dims = iter([size for size in src if not isinstance(size, int)])
    for d in n.out_type_proto(0).tensor_type.shape.dim:
        if not d.HasField("dim_value"):
            symbol = next(dims)
            if symbol:
                d.dim_param = symbol
            else:
                d.ClearField("dim_param")
    return None


def keeps_dims(src, dst) -> bool:
    """Whether each dynamic dim of `src` stays, in order, in `dst` (static runs regrouped)."""
    src_core, dst_core = _core(src), _core(dst)
    known = {size for size in src if not isinstance(size, int)}
    # A dim inference could not relate to the input has no name or a fresh one ('unk__0').
    return len(src_core) == len(dst_core) and all(
        a == b or (isinstance(a, tuple) and isinstance(b, tuple) and b[1] not in known)
        for a, b in zip(src_core, dst_core))


def _expand(n, inputs, outputs) -> str | None:
    """A dynamic input dim must be its result dim (the shape says 1 or the same symbol)."""
    (name, src), (_, dst) = inputs[0], outputs[0]
    offset = len(dst) - len(src)
    for d in _dynamic(src):
        if dst[offset + d] != src[d] or src[d] is None:
            return (f"input '{name}' dim {d} ({_show(src[d])}) expands to "
                    f"{_size(dst[offset + d])}, which is not known to be the same size")
    return None


def _split(n, inputs, outputs) -> str | None:
    """Split along a static axis; the dynamic dims pass through every piece."""
    name, dims = inputs[0]
    axis = n.attr("axis", 0)
    axis = axis + len(dims) if axis < 0 else axis
    if not isinstance(dims[axis], int):
        return f"splitting input '{name}' along dim {axis}, which is dynamic ({_show(dims[axis])})"
    return None


def _dims_text(dims) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) else (d or "?") for d in dims) + "]"


def _normalization(n, inputs, outputs) -> str | None:
    """LayerNormalization/RMSNormalization: scale and bias broadcast onto the input."""
    return _broadcast(n, inputs, outputs)


def _batch_only(n, inputs, outputs) -> str | None:
    """Convolutions, pools and BatchNormalization: only the batch dim (N) of X may be dynamic;
    weights, channels and spatial dims stay static."""
    for name, dims in inputs[:1] + outputs[:1]:
        rest = [d for d in _dynamic(dims) if d != 0]
        if rest:
            return (f"'{name}' dim {rest[0]} is dynamic ({_show(dims[rest[0]])}): {n.op_type} "
                    "takes a dynamic batch dim (0) only")
    for name, dims in inputs[1:]:
        if _dynamic(dims):
            return f"input '{name}' has dynamic dims: {n.op_type} takes static weights"
    return None


def _concat(n, inputs, outputs) -> str | None:
    """Along a static axis, the pieces' other dims the same symbols or sizes."""
    rank = len(outputs[0][1])
    axis = n.attr("axis")
    axis = axis + rank if axis < 0 else axis
    for name, dims in inputs:
        if not isinstance(dims[axis], int):
            return f"concatenation along input '{name}' dim {axis}, which is dynamic"
    first_name, first = inputs[0]
    for name, dims in inputs[1:]:
        for d in _dynamic(first) + _dynamic(dims):
            if d != axis and (dims[d] != first[d] or dims[d] is None):
                return (f"input '{name}' dim {d} ({_size(dims[d])}) is not known to equal "
                        f"input '{first_name}' dim {d} ({_size(first[d])})")
    return None


def _dropout(n, inputs, outputs) -> str | None:
    if len(n.node.output) > 1 and n.is_used(n.node.output[1]):
        return "Dropout's mask output"
    return None


# Ops whose lowering sizes dynamic result dims from run-time values (shapes, ends, limits).
RUNTIME_SIZED = {"Reshape", "Expand", "ConstantOfShape", "Range", "Slice"}

# op type -> check(node, inputs, outputs) -> why it cannot compile, or None
RULES = {**{op: _no_check for op in UNARY}, **{op: _broadcast for op in BROADCAST},
         **{op: _reduce for op in REDUCE},
         **{op: _reshape for op in ("Reshape", "Flatten", "Squeeze", "Unsqueeze")},
         "MatMul": _matmul, "Gemm": _gemm, "Softmax": _softmax, "LogSoftmax": _softmax,
         "Dropout": _dropout, "Transpose": _no_check, "BitCast": _no_check,
         "LayerNormalization": _normalization, "RMSNormalization": _normalization,
         "Concat": _concat, "Expand": _expand, "Split": _split,
         **{op: _no_check for op in ("Shape", "Size", "Gather", "GatherElements", "Slice")},
         **{op: _batch_only for op in ("Conv", "MaxPool", "AveragePool", "GlobalAveragePool",
                                       "GlobalMaxPool", "BatchNormalization")}}
