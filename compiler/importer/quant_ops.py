"""Import of the quantization ops, as mlc arithmetic computed the way onnx's reference does:

    QuantizeLinear          y = saturate(round(x / scale) + zero_point)
    DequantizeLinear        y = (x - zero_point) * scale
    DynamicQuantizeLinear   QuantizeLinear to uint8, scale and zero point from x's range
    MatMulInteger           (A - a_zero_point) @ (B - b_zero_point), in int32
    ConvInteger             conv(X - x_zero_point, W - w_zero_point), in int32
    QLinearMatMul           saturate(round((A - a_zp) @ (B - b_zp) * (a_scale * b_scale / y_scale))
                                     + y_zero_point)
    QLinearConv             the same around conv(X - x_zp, W - w_zp) + B

`round` is round-half-to-even; `saturate` clamps to the integer type's range. Integers become
floats of a type that holds all their values exactly (f32 up to 16 bits, f64 for 32 bits), so
adding the zero point and clamping are exact. A scale or zero point is a scalar, one value per
index of `axis` (reshaped to broadcast along it), or with `block_size` one value per block of
indices along `axis` (repeated block_size times). mlc's integers are signless, so the ONNX
dtypes travel beside the values and `math_ops.convert` picks the unsigned casts.
"""

import numpy as np
from mlir import ir

from mlc import dtypes
from mlc.dtypes import DType
from mlc.errors import InputError

from . import narrow_types
from .math_ops import convert
from .nn_ops import matmul, spatial_attrs
from .node import NodeImport, element_type

HANDLERS = {}

F32, F64, I32 = dtypes.BY_NAME["float32"], dtypes.BY_NAME["float64"], dtypes.BY_NAME["int32"]


def _shape(value: ir.Value) -> list[int]:
    return list(ir.RankedTensorType(value.type).shape)


def _tensor(shape, dtype: DType) -> ir.RankedTensorType:
    return ir.RankedTensorType.get(list(shape), element_type(dtype))


def _exact_float(dtype: DType) -> DType:
    """A float type that holds every value of the integer type `dtype` exactly."""
    return F64 if dtype.numpy.itemsize > 2 else F32


def _promoted(*types: DType) -> DType:
    """The type numpy computes in for these operand types (the reference's arithmetic)."""
    try:
        return dtypes.from_numpy(np.result_type(*(t.numpy for t in types))) or F32
    except TypeError:  # bfloat16 with float16: numpy has no rule
        return F32


def _binary(n: NodeImport, name: str, lhs: ir.Value, rhs: ir.Value, dtype: DType) -> ir.Value:
    shape = np.broadcast_shapes(tuple(_shape(lhs)), tuple(_shape(rhs)))
    return n.op(name, [lhs, rhs], _tensor(shape, dtype))


def _scalar(n: NodeImport, value, dtype: DType) -> ir.Value:
    return n.constant(np.array(value, dtype.numpy))


# -- scales and zero points ------------------------------------------------------------------
def _axis(n: NodeImport, rank: int) -> int:
    axis = n.attr("axis", 1)
    return axis + rank if axis < 0 else axis


def _along_axis(n: NodeImport, value: ir.Value, dtype: DType, x_shape: list[int], axis: int,
                block_size: int = 0) -> ir.Value:
    """A scale or zero point shaped to broadcast against x (see the module docstring)."""
    shape = _shape(value)
    if int(np.prod(shape)) == 1:
        return n.op("reshape", [value], _tensor([], dtype)) if shape else value
    if not block_size:
        if len(shape) != 1:
            return value  # already shaped like x, as MatMulInteger's N-d zero points are
        if not 0 <= axis < len(x_shape) or x_shape[axis] != shape[0]:
            raise InputError(n.error_text(f"{shape[0]} scales or zero points do not match "
                                          f"axis {axis} of an input of shape {x_shape}"))
        dims = [1] * len(x_shape)
        dims[axis] = shape[0]
        return n.op("reshape", [value], _tensor(dims, dtype))
    blocks = -(-x_shape[axis] // block_size)
    if shape != x_shape[:axis] + [blocks] + x_shape[axis + 1:]:
        raise InputError(n.error_text(f"blocked scales or zero points of shape {shape} do not "
                                      f"fit blocks of {block_size} along axis {axis} of an "
                                      f"input of shape {x_shape}"))
    # [.., blocks, ..] -> [.., blocks, 1, ..] -> [.., blocks, block_size, ..] -> [.., D, ..]
    split = shape[:axis + 1] + [1] + shape[axis + 1:]
    spread = shape[:axis + 1] + [block_size] + shape[axis + 1:]
    value = n.op("reshape", [value], _tensor(split, dtype))
    value = n.op("broadcast", [value], _tensor(spread, dtype))
    repeated = shape[:axis] + [blocks * block_size] + shape[axis + 1:]
    value = n.op("reshape", [value], _tensor(repeated, dtype))
    if blocks * block_size != x_shape[axis]:  # the last block is partial
        value = n.op("slice", [value], _tensor(x_shape, dtype), offsets=[0] * len(x_shape),
                     strides=[1] * len(x_shape))
    return value


def _input_along_axis(n: NodeImport, i: int, x_shape: list[int], axis: int,
                      block_size: int = 0) -> ir.Value:
    return _along_axis(n, n.input(i), n.in_dtype(i), x_shape, axis, block_size)


# -- the two directions --------------------------------------------------------------------
def _saturate(n: NodeImport, value: ir.Value, dtype: DType, zero_point: ir.Value | None,
              out: DType) -> ir.Value:
    """round(value) + zero_point, clamped to `out`'s range, as `out`. `value` is a float of
    `dtype`; `zero_point`, when given, is already a float of `_exact_float(out)`."""
    exact = _exact_float(out)
    y = convert(n, n.op("round", [value], value.type), dtype, exact)
    if zero_point is not None:
        y = _binary(n, "add", y, zero_point, exact)
    low, high = narrow_types.int_range(out)
    y = n.op("max", [y, _scalar(n, low, exact)], y.type)
    y = n.op("min", [y, _scalar(n, high, exact)], y.type)
    return convert(n, y, exact, out)


def _zero_point(n: NodeImport, i: int, x_shape: list[int], axis: int, block_size: int = 0):
    """Input i, a zero point, as a float that holds it exactly; None when not given."""
    if not n.has_input(i):
        return None
    dtype = n.in_dtype(i)
    return convert(n, _input_along_axis(n, i, x_shape, axis, block_size), dtype,
                   _exact_float(dtype))


def _quantize_linear(n: NodeImport):
    n.out_type()  # refuses the element types mlc has no table entry for
    x_shape = n.in_shape(0)
    axis, block_size = _axis(n, len(x_shape)), n.attr("block_size", 0)
    x_dtype, scale_dtype = n.in_dtype(0), n.in_dtype(1)
    precision = n.attr("precision", 0)  # opset 23: the type x / scale is computed in
    working = dtypes.from_onnx(precision) if precision else _promoted(x_dtype, scale_dtype)
    if working is None or not working.is_float:
        raise n.unsupported(f"precision {precision} is not a supported float type")
    x = convert(n, n.input(0), x_dtype, working)
    scale = convert(n, _input_along_axis(n, 1, x_shape, axis, block_size), scale_dtype, working)
    y = _binary(n, "div", x, scale, working)
    zero_point = _zero_point(n, 2, x_shape, axis, block_size)
    out = n.out_dtype()
    if out.name in narrow_types.FLOATS:  # float8 ignores its zero point (zero by the spec)
        if zero_point is not None and out.name == "float4e2m1":
            y = _binary(n, "add", convert(n, y, working, F32), zero_point, F32)
            working = F32
        return convert(n, y, working, out, bool(n.attr("saturate", 1)))
    return _saturate(n, y, working, zero_point, out)


def _dequantize_linear(n: NodeImport):
    n.out_type()  # refuses the element types mlc has no table entry for
    x_shape = n.in_shape(0)
    axis, block_size = _axis(n, len(x_shape)), n.attr("block_size", 0)
    x_dtype = n.in_dtype(0)
    exact = _exact_float(x_dtype)
    y = convert(n, n.input(0), x_dtype, exact)
    zero_point = _zero_point(n, 2, x_shape, axis, block_size)
    if zero_point is not None:
        y = _binary(n, "sub", y, zero_point, exact)
    scale = convert(n, _input_along_axis(n, 1, x_shape, axis, block_size), n.in_dtype(1), exact)
    return convert(n, _binary(n, "mul", y, scale, exact), exact, n.out_dtype())


def _dynamic_quantize_linear(n: NodeImport):
    """The scale is x's range (0 included) over 255, and 1 when the range is 0 as in
    onnxruntime (onnx's reference gives 1 / 255 there, against its own comment); the zero
    point is round(-min / scale), clamped to [0, 255]."""
    x, shape = n.input(0), n.in_shape(0)
    scalar = _tensor([], F32)
    everything = list(range(len(shape)))
    high = n.op("max", [n.op("reduce_max", [x], scalar, axes=everything), _scalar(n, 0, F32)],
                scalar)
    low = n.op("min", [n.op("reduce_min", [x], scalar, axes=everything), _scalar(n, 0, F32)],
               scalar)
    span = n.op("sub", [high, low], scalar)
    empty = n.op("compare", [span, _scalar(n, 0, F32)], _tensor([], dtypes.BY_NAME["bool"]),
                 predicate="eq", unsigned=0)
    scale = n.op("where", [empty, _scalar(n, 1, F32),
                           n.op("div", [span, _scalar(n, 255, F32)], scalar)], scalar)
    zero_point = n.op("neg", [n.op("div", [low, scale], scalar)], scalar)
    zero_point = n.op("round", [n.op("min", [zero_point, _scalar(n, 255, F32)], scalar)], scalar)
    uint8 = dtypes.BY_NAME["uint8"]
    y = _saturate(n, n.op("div", [x, scale], _tensor(shape, F32)), F32, zero_point, uint8)
    return [y, scale, convert(n, zero_point, F32, uint8)]


# -- integer arithmetic ------------------------------------------------------------------------
def _minus_zero_point(n: NodeImport, i: int, zp: int, axis: int) -> ir.Value:
    """Input i as int32, less its zero point (input zp, one value per index of `axis` or one
    for all) when given."""
    dtype, shape = n.in_dtype(i), n.in_shape(i)
    value = convert(n, n.input(i), dtype, I32)
    if not n.has_input(zp):
        return value
    zero_point = convert(n, _input_along_axis(n, zp, shape, axis), n.in_dtype(zp), I32)
    return _binary(n, "sub", value, zero_point, I32)


def _requantize(n: NodeImport, acc: ir.Value, scales: dict[int, int], y_zero_point: int):
    """saturate(round(acc * (x_scale * w_scale / y_scale)) + y_zero_point) as output 0's type.
    `scales` maps the three scale inputs to the axis of acc each has one value per index of;
    they multiply in their own type, as in the reference, the rest in f64."""
    shape = _shape(acc)
    kind = _promoted(*(n.in_dtype(i) for i in scales))
    x_scale, w_scale, y_scale = (convert(n, _input_along_axis(n, i, shape, axis), n.in_dtype(i),
                                         kind) for i, axis in scales.items())
    multiplier = _binary(n, "div", _binary(n, "mul", x_scale, w_scale, kind), y_scale, kind)
    value = _binary(n, "mul", convert(n, acc, I32, F64), convert(n, multiplier, kind, F64), F64)
    zero_point = _zero_point(n, y_zero_point, shape, len(shape) - 1)
    return _saturate(n, value, F64, zero_point, n.out_dtype())


def _matmul_integer(n: NodeImport):
    rows = max(len(n.in_shape(0)) - 2, 0)  # a_zero_point has one value per row of A
    a = _minus_zero_point(n, 0, 2, rows)
    b = _minus_zero_point(n, 1, 3, len(n.in_shape(1)) - 1)
    return matmul(n, a, b)


def _qlinear_matmul(n: NodeImport):
    """Inputs a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point."""
    rows = max(len(n.in_shape(0)) - 2, 0)
    acc = matmul(n, _minus_zero_point(n, 0, 2, rows),
                 _minus_zero_point(n, 3, 5, len(n.in_shape(3)) - 1))
    rank = len(_shape(acc))
    return _requantize(n, acc, {1: max(rank - 2, 0), 4: rank - 1, 6: rank - 1}, 7)


def _integer_conv(n: NodeImport, x: ir.Value, w: int, bias: list[ir.Value]) -> ir.Value:
    """The int32 convolution of x by input w (already less their zero points) plus bias."""
    kernel = n.in_shape(w)[2:]
    return n.op("conv", [x, _minus_zero_point(n, w, w + 2, 0), *bias], _tensor(n.out_shape(), I32),
                group=n.attr("group", 1), **spatial_attrs(n, kernel))


def _conv_integer(n: NodeImport):
    """Inputs x, w, x_zero_point, w_zero_point (one per output channel or one for all)."""
    return _integer_conv(n, _minus_zero_point(n, 0, 2, 1), 1, [])


def _qlinear_conv(n: NodeImport):
    """Inputs x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B."""
    bias = [n.input(8)] if n.has_input(8) else []
    acc = _integer_conv(n, _minus_zero_point(n, 0, 2, 1), 3, bias)
    return _requantize(n, acc, {1: 1, 4: 1, 6: 1}, 7)


HANDLERS.update({
    "QuantizeLinear": _quantize_linear,
    "DequantizeLinear": _dequantize_linear,
    "DynamicQuantizeLinear": _dynamic_quantize_linear,
    "MatMulInteger": _matmul_integer,
    "ConvInteger": _conv_integer,
    "QLinearMatMul": _qlinear_matmul,
    "QLinearConv": _qlinear_conv,
})
