"""Import of elementwise and math ONNX ops."""

import numpy as np
from mlir import ir

from mlc import dtypes

from . import narrow_types
from .node import NodeImport, element_type

HANDLERS = {}


def _binary(mlc_name: str, numpy_fn):
    def handler(n: NodeImport):
        if n.opset < 7 or n.attr("broadcast") is not None:
            raise n.unsupported("legacy broadcast attribute (opset < 7)")
        lhs, rhs = n.const(0), n.const(1)
        if lhs is not None and rhs is not None and lhs.size <= 64 and rhs.size <= 64:
            return numpy_fn(lhs, rhs).astype(lhs.dtype)  # shape arithmetic folds away
        return n.op(mlc_name, [n.input(0), n.input(1)])
    return handler


def _int_div(a, b):
    return np.trunc(a / b) if a.dtype.kind == "f" else np.trunc(a / b).astype(a.dtype)


HANDLERS["Add"] = _binary("add", np.add)
HANDLERS["Sub"] = _binary("sub", np.subtract)
HANDLERS["Mul"] = _binary("mul", np.multiply)
HANDLERS["Div"] = _binary("div", lambda a, b: a / b if a.dtype.kind == "f" else _int_div(a, b))


def _unary(mlc_name: str):
    def handler(n: NodeImport):
        return n.op(mlc_name, [n.input(0)])
    return handler


for _onnx, _mlc in {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh"}.items():
    HANDLERS[_onnx] = _unary(_mlc)


def broadcast_shape(shapes) -> list[int]:
    """numpy's broadcast of MLIR shapes, where a dynamic dim (negative) meets only its own
    symbol or a static 1 (the importer refuses other dynamic broadcasts)."""
    rank = max((len(s) for s in shapes), default=0)
    out = []
    for pos in range(rank, 0, -1):
        sizes = [s[-pos] for s in shapes if len(s) >= pos]
        wide = [d for d in sizes if d != 1 and d >= 0]
        out.append(wide[0] if wide else next((d for d in sizes if d < 0), 1))
    return out


def _sum(n: NodeImport):
    inputs = n.inputs()
    total = inputs[0]
    for i, value in enumerate(inputs[1:], start=1):
        partial = broadcast_shape([n.in_shape(j) for j in range(i + 1)])
        type_ = ir.RankedTensorType.get(list(partial), n.out_type().element_type)
        total = n.op("add", [total, value], type_)
    return total


def convert(n: NodeImport, value: ir.Value, src: dtypes.DType, dst: dtypes.DType,
            saturate: bool = True) -> ir.Value:
    """`value`, of ONNX type `src`, as `dst`: an unsigned integer side takes `cast_unsigned`;
    float8/float4/int4/int2 sides go through `narrow_types` (`saturate` as Cast's)."""
    if src == dst:
        return value
    if narrow_types.is_narrow(src):
        value, src = narrow_types.decode(n, value, src)
        return convert(n, value, src, dst, saturate)
    if narrow_types.is_narrow(dst):
        return narrow_types.encode(n, value, src, dst, saturate, convert)
    unsigned = dst.is_unsigned if src.is_float else src.is_unsigned
    result = ir.RankedTensorType.get(ir.RankedTensorType(value.type).shape, element_type(dst))
    return n.op("cast_unsigned" if unsigned else "cast", [value], result)


def _cast(n: NodeImport):
    src, dst = n.in_dtype(0), n.out_dtype()
    narrow = narrow_types.is_narrow(src) or narrow_types.is_narrow(dst)
    if src == dst or (n.in_type(0) == n.out_type(0) and not narrow):
        return n.input(0)
    value = n.const(0)
    if value is not None and value.size <= 64 and not narrow:
        return value.astype(dst.numpy)
    return convert(n, n.input(0), src, dst, bool(n.attr("saturate", 1)))


def _bitcast(n: NodeImport):
    """Shape inference has checked that the widths agree."""
    n.out_type()  # refuses the element types mlc has no table entry for
    src, dst = n.in_dtype(0), n.out_dtype()
    value = n.const(0)
    if value is not None and value.size <= 64:
        return value.view(dst.numpy)
    if "bool" in (src.name, dst.name):
        return convert(n, n.input(0), src, dst)  # a bool's byte is 0 or 1: a value cast
    if n.in_type(0) == n.out_type():
        return n.input(0)  # signless: int8 and uint8 are one MLIR type
    return n.op("bitcast", [n.input(0)])


HANDLERS["Sum"] = _sum
HANDLERS["Cast"] = _cast
HANDLERS["BitCast"] = _bitcast
HANDLERS["CastLike"] = _cast  # the target type is output 0's


# -- unary math and activations -----------------------------------------------------------
def _float_unary(mlc_name: str, **defaults):
    """A unary op on floats whose float attributes default as ONNX says."""
    def handler(n: NodeImport):
        if not n.out_dtype().is_float:
            raise n.unsupported(f"{n.op_type} on {n.out_dtype().name} is not supported")
        return n.op(mlc_name, [n.input(0)], **{k: float(n.attr(k, v)) for k, v in defaults.items()})
    return handler


def _signed_unary(mlc_name: str):
    def handler(n: NodeImport):
        if n.out_dtype().is_unsigned and mlc_name != "abs":
            raise n.unsupported(f"{n.op_type} on {n.out_dtype().name} is not supported")
        if n.out_dtype().is_unsigned:
            return n.input(0)  # |x| of an unsigned value is x
        return n.op(mlc_name, [n.input(0)])
    return handler


for _onnx, _mlc in {"Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Reciprocal": "reciprocal",
                    "Floor": "floor", "Ceil": "ceil", "Round": "round", "Erf": "erf",
                    "Sin": "sin", "Cos": "cos", "Tan": "tan", "Asin": "asin", "Acos": "acos",
                    "Atan": "atan", "Sinh": "sinh", "Cosh": "cosh", "Asinh": "asinh",
                    "Acosh": "acosh", "Atanh": "atanh", "Softplus": "softplus",
                    "Softsign": "softsign", "Mish": "mish", "HardSwish": "hard_swish"}.items():
    HANDLERS[_onnx] = _float_unary(_mlc)
HANDLERS.update({
    "Abs": _signed_unary("abs"),
    "Neg": _signed_unary("neg"),
    "Sign": _signed_unary("sign"),
    "LeakyRelu": _float_unary("leaky_relu", alpha=0.01),
    "ThresholdedRelu": _float_unary("thresholded_relu", alpha=1.0),
    "Elu": _float_unary("elu", alpha=1.0),
    "Celu": _float_unary("celu", alpha=1.0),
    "Selu": _float_unary("selu", alpha=1.67326319217681884765625, gamma=1.05070102214813232421875),
    "HardSigmoid": _float_unary("hard_sigmoid", alpha=0.2, beta=0.5),
})


def _gelu(n: NodeImport):
    if not n.out_dtype().is_float:
        raise n.unsupported(f"Gelu on {n.out_dtype().name} is not supported")
    return n.op("gelu", [n.input(0)], approximate=int(n.attr("approximate", "none") == "tanh"))


def _prelu(n: NodeImport):
    """x < 0 ? slope * x : x, the slope broadcast one way to x's shape."""
    x, x_shape = n.input(0), n.in_shape(0)
    if n.out_dtype().is_unsigned:
        return x
    slope = _prelu_slope(n, x_shape)
    scaled = n.op("mul", [x, slope])
    zero = n.constant(np.zeros((), n.out_dtype().numpy))
    mask_type = ir.RankedTensorType.get(x_shape, ir.IntegerType.get_signless(1))
    negative = n.op("compare", [x, zero], mask_type, predicate="lt", unsigned=0)
    return n.op("where", [negative, scaled, x])


def _prelu_slope(n: NodeImport, x_shape: list[int]) -> ir.Value:
    shape = n.in_shape(1)
    if len(shape) <= len(x_shape) and all(s in (1, d) for s, d in zip(shape[::-1], x_shape[::-1])):
        return n.input(1)
    # Opset-6 exporters (pytorch's) wrote a per-channel slope as shape [C]; onnx's version
    # converter keeps it as is, so it would broadcast against the last dim instead of dim 1.
    if len(shape) == 1 and len(x_shape) >= 2 and shape[0] == x_shape[1]:
        channel = [shape[0]] + [1] * (len(x_shape) - 2)
        value = n.const(1)
        if value is not None:
            return n.constant(value.reshape(channel))
        channel_type = ir.RankedTensorType.get(channel, n.out_type().element_type)
        return n.op("reshape", [n.input(1)], channel_type)
    raise n.unsupported(f"slope shape {shape} does not broadcast to the input's shape {x_shape}")


# -- binary and variadic ---------------------------------------------------------------------
def _pow(n: NodeImport):
    """An integer base: computed in f64 (exact while the result fits in 53 bits), the result
    truncated to the base's type, as numpy's power and astype give it."""
    base = n.out_dtype()
    if base.is_float:
        return n.op("pow", [n.input(0), n.input(1)])
    if base.is_unsigned or base.name == "bool":
        raise n.unsupported(f"Pow with a {base.name} base is not supported")
    f64 = dtypes.BY_NAME["float64"]
    x = convert(n, n.input(0), base, f64)
    y = convert(n, n.input(1), n.in_dtype(1), f64)
    wide = ir.RankedTensorType.get(n.out_shape(), element_type(f64))
    return convert(n, n.op("pow", [x, y], wide), f64, base)


def _mod(n: NodeImport):
    return n.op("mod", [n.input(0), n.input(1)], fmod=n.attr("fmod", 0))


def _variadic(mlc_name: str):
    """Max/Min/Mean over any number of inputs: a left-nested chain of binary ops."""
    def handler(n: NodeImport):
        # mlc's max/min order signless integers as signed: unsigned ones pick by a compare.
        unsigned = n.out_dtype().is_unsigned and mlc_name != "add"
        inputs = n.inputs()
        total = inputs[0]
        for i, value in enumerate(inputs[1:], start=1):
            partial = list(broadcast_shape([n.in_shape(j) for j in range(i + 1)]))
            type_ = ir.RankedTensorType.get(partial, n.out_type().element_type)
            if unsigned:
                bool_type = ir.RankedTensorType.get(partial, ir.IntegerType.get_signless(1))
                first = n.op("compare", [total, value], bool_type, unsigned=1,
                             predicate="ge" if mlc_name == "max" else "le")
                total = n.op("where", [first, total, value], type_)
            else:
                total = n.op(mlc_name, [total, value], type_)
        return total
    return handler


def _mean(n: NodeImport):
    if not n.out_dtype().is_float:
        raise n.unsupported(f"Mean on {n.out_dtype().name} is not supported")
    total = _variadic("add")(n)
    scale = n.constant(np.array(1.0 / n.num_inputs, n.out_dtype().numpy))
    return n.op("mul", [total, scale])


def _clip(n: NodeImport):
    """max(min_value, min(max_value, x)); the bounds are attributes before opset 11."""
    x, dtype = n.input(0), n.out_dtype().numpy
    if n.out_dtype().is_unsigned:
        raise n.unsupported(f"Clip on {n.out_dtype().name} is not supported")
    if n.opset < 11:
        low = n.attr("min")
        high = n.attr("max")
        low = None if low is None else n.constant(np.array(low, dtype))
        high = None if high is None else n.constant(np.array(high, dtype))
    else:
        low = n.input(1) if n.has_input(1) else None
        high = n.input(2) if n.has_input(2) else None
    if low is not None:
        x = n.op("max", [x, low])
    if high is not None:
        x = n.op("min", [x, high])
    return x


HANDLERS.update({
    "Gelu": _gelu,
    "PRelu": _prelu,
    "Pow": _pow,
    "Mod": _mod,
    "Max": _variadic("max"),
    "Min": _variadic("min"),
    "Mean": _mean,
    "Clip": _clip,
})


# -- comparisons, logic, selection ------------------------------------------------------------
def _compare(predicate: str):
    def handler(n: NodeImport):
        if n.opset < 7 or n.attr("broadcast") is not None:
            raise n.unsupported("legacy broadcast attribute (opset < 7)")
        if n.in_dtype(0).name == "string":
            raise n.unsupported("string tensors are not supported")
        return n.op("compare", [n.input(0), n.input(1)], predicate=predicate,
                    unsigned=int(n.in_dtype(0).is_unsigned))
    return handler


def _bitwise(mlc_name: str):
    def handler(n: NodeImport):
        if n.opset < 7 or n.attr("broadcast") is not None:
            raise n.unsupported("legacy broadcast attribute (opset < 7)")
        return n.op(mlc_name, [n.input(i) for i in range(n.num_inputs)])
    return handler


def _is_inf(n: NodeImport):
    return n.op("is_inf", [n.input(0)], detect_negative=n.attr("detect_negative", 1),
                detect_positive=n.attr("detect_positive", 1))


def _bit_shift(n: NodeImport):
    direction = n.attr("direction")
    if direction not in ("LEFT", "RIGHT"):
        raise n.unsupported(f"direction must be LEFT or RIGHT, not {direction!r}")
    return n.op("bit_shift", [n.input(0), n.input(1)], left=int(direction == "LEFT"),
                unsigned=int(n.in_dtype(0).is_unsigned))


HANDLERS.update({
    "Equal": _compare("eq"),
    "Less": _compare("lt"),
    "LessOrEqual": _compare("le"),
    "Greater": _compare("gt"),
    "GreaterOrEqual": _compare("ge"),
    "And": _bitwise("and"),
    "Or": _bitwise("or"),
    "Xor": _bitwise("xor"),
    "Not": _bitwise("not"),
    "BitwiseAnd": _bitwise("and"),
    "BitwiseOr": _bitwise("or"),
    "BitwiseXor": _bitwise("xor"),
    "BitwiseNot": _bitwise("not"),
    "Where": _bitwise("where"),
    "IsNaN": _unary("is_nan"),
    "IsInf": _is_inf,
    "BitShift": _bit_shift,
})
