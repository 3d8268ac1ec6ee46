"""Import of neural-network ONNX ops: convolution, pooling, normalization, Gemm, MatMul.

Here ONNX's variants become one form: auto_pad turns into explicit pads, missing attributes get
their ONNX defaults, Gemm becomes transpose/matmul/mul/add, opset-12 Softmax becomes a softmax
over one axis between reshapes.
"""

import math

import numpy as np
from mlir import ir

from .attention import attention
from .decompose import Decomposition
from .node import NodeImport

HANDLERS = {}


def spatial_attrs(n: NodeImport, kernel: list[int]) -> dict:
    """strides, dilations and explicit pads [begin..., end...] with auto_pad resolved."""
    rank = len(kernel)
    strides = list(n.attr("strides", [1] * rank))
    dilations = list(n.attr("dilations", [1] * rank))
    auto_pad = n.attr("auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        in_dims = n.in_shape(0)[2:]
        begin, end = [], []
        for size, k, s, d in zip(in_dims, kernel, strides, dilations):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            small, big = total // 2, total - total // 2
            begin.append(small if auto_pad == "SAME_UPPER" else big)
            end.append(big if auto_pad == "SAME_UPPER" else small)
        pads = begin + end
    elif auto_pad == "VALID":
        pads = [0] * (2 * rank)
    else:
        pads = list(n.attr("pads", [0] * (2 * rank)))
    return {"strides": strides, "pads": pads, "dilations": dilations}


def _conv(n: NodeImport):
    kernel = n.in_shape(1)[2:]
    operands = n.inputs()
    return n.op("conv", operands, group=n.attr("group", 1), **spatial_attrs(n, kernel))


def _conv_transpose(n: NodeImport):
    """Explicit pads, resolved from auto_pad or output_shape as the ONNX spec says (the
    larger half at the end for SAME_UPPER, at the start otherwise)."""
    kernel = n.in_shape(1)[2:]
    rank = len(kernel)
    strides = list(n.attr("strides", [1] * rank))
    dilations = list(n.attr("dilations", [1] * rank))
    extra = list(n.attr("output_padding", [0] * rank))
    auto_pad = n.attr("auto_pad", "NOTSET")
    if n.attr("output_shape") is not None or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        begin, end = [], []
        for i, (size, out) in enumerate(zip(n.in_shape(0)[2:], n.out_shape()[2:])):
            total = strides[i] * (size - 1) + extra[i] + (kernel[i] - 1) * dilations[i] + 1 - out
            small, big = total // 2, total - total // 2
            begin.append(small if auto_pad == "SAME_UPPER" else big)
            end.append(big if auto_pad == "SAME_UPPER" else small)
        pads = begin + end
    elif auto_pad == "VALID":
        pads = [0] * (2 * rank)
    else:
        pads = list(n.attr("pads", [0] * (2 * rank)))
    return n.op("conv_transpose", n.inputs(), strides=strides, pads=pads, dilations=dilations,
                output_padding=extra, group=n.attr("group", 1))


def _pool_attrs(n: NodeImport) -> dict:
    kernel = list(n.attr("kernel_shape"))
    return {"kernel": kernel, **spatial_attrs(n, kernel)}


def _max_pool(n: NodeImport):
    if len(n.node.output) > 1 and n.node.output[1]:
        if not n.out_dtype().is_float:
            raise n.unsupported(f"MaxPool's Indices output on {n.out_dtype().name} is not supported")
        return n.multi_op("max_pool_with_indices", [n.input(0)], [n.out_type(0), n.out_type(1)],
                          storage_order=n.attr("storage_order", 0), **_pool_attrs(n))
    return n.op("max_pool", [n.input(0)], **_pool_attrs(n))


def _avg_pool(n: NodeImport):
    return n.op("avg_pool", [n.input(0)], count_include_pad=n.attr("count_include_pad", 0),
                **_pool_attrs(n))


def _global_avg_pool(n: NodeImport):
    return n.op("global_avg_pool", [n.input(0)])


def _global_max_pool(n: NodeImport):
    return n.op("global_max_pool", [n.input(0)])


def _lp_pool(n: NodeImport):
    return n.op("lp_pool", [n.input(0)], p=float(n.attr("p", 2)), **_pool_attrs(n))


def _global_lp_pool(n: NodeImport):
    spatial = n.in_shape(0)[2:]
    rank = len(spatial)
    return n.op("lp_pool", [n.input(0)], p=float(n.attr("p", 2)), kernel=spatial,
                strides=[1] * rank, pads=[0] * (2 * rank), dilations=[1] * rank)


def _batch_norm(n: NodeImport):
    if n.attr("training_mode", 0):
        return _batch_norm_training(n)
    if any(n.node.output[1:]):
        raise n.unsupported("BatchNormalization's extra outputs exist only in training mode "
                            "(opset 14 on) or before opset 9; this node has them")
    return n.op("batch_norm", [n.input(i) for i in range(5)], epsilon=n.attr("epsilon", 1e-5))


def _batch_norm_training(n: NodeImport):
    """Normalizes with the batch's own statistics (mean and population variance over every axis
    but the channels), and updates the running ones: r = r * momentum + batch * (1 - momentum)."""
    rank = len(n.in_shape(0))
    if n.opset < 14 or len(n.node.output) != 3 or not all(n.node.output):
        raise n.unsupported("training-mode BatchNormalization is supported from opset 14, "
                            "with its three outputs")
    momentum, epsilon = n.attr("momentum", 0.9), n.attr("epsilon", 1e-5)
    dtype = n.in_dtype(0).numpy
    g = Decomposition(opset=18)
    x, scale, bias, mean, var = (g.input(n.bound(i)) for i in range(5))
    axes = g.const([0, *range(2, rank)], np.int64)
    per_channel = g.const([-1, *[1] * (rank - 2)], np.int64)
    batch_mean = g.op("ReduceMean", x, axes, keepdims=0)
    centered = g.op("Sub", x, g.op("Reshape", batch_mean, per_channel))
    batch_var = g.op("ReduceMean", g.op("Mul", centered, centered), axes, keepdims=0)
    inv_std = g.op("Reciprocal", g.op("Sqrt", g.op("Add", batch_var, g.const(epsilon, dtype))))
    y = g.op("Add", g.op("Mul", centered, g.op("Reshape", g.op("Mul", scale, inv_std), per_channel)),
             g.op("Reshape", bias, per_channel))

    def running(old, batch):
        return g.op("Add", g.op("Mul", old, g.const(momentum, dtype)),
                    g.op("Mul", batch, g.const(1 - momentum, dtype)))

    return g.import_into(n, [y, running(mean, batch_mean), running(var, batch_var)],
                         "batch_norm_training")


def _stashed(n: NodeImport, build):
    """Runs `build(operands, result type)` in f32 when the inputs are 16-bit floats and
    stash_type is 1; only the first result is cast back."""
    operands = n.inputs()
    dtype = n.out_dtype()
    if dtype.name not in ("float16", "bfloat16") or n.attr("stash_type", 1) != 1:
        return build(operands, n.out_type())
    f32 = ir.F32Type.get()
    wide = [n.op("cast", [v], ir.RankedTensorType.get(ir.RankedTensorType(v.type).shape, f32))
            for v in operands]
    out = n.out_type()
    results = build(wide, ir.RankedTensorType.get(out.shape, f32))
    if isinstance(results, list):
        return [n.op("cast", [results[0]], out), *results[1:]]
    return n.op("cast", [results], out)


def _layer_norm(n: NodeImport):
    """Three results: Y, and the Mean and InvStdDev of each row (reduced dims kept as 1),
    in the stash type (f32 unless stash_type says the input's own type)."""
    shape = n.in_shape(0)
    rank = len(shape)
    axis = n.attr("axis", -1)
    axis = axis + rank if axis < 0 else axis
    stats_shape = shape[:axis] + [1] * (rank - axis)

    def build(operands, y_type):
        elem = ir.RankedTensorType(operands[0].type).element_type
        stats = ir.RankedTensorType.get(stats_shape, elem)
        return n.multi_op("layer_norm", operands, [y_type, stats, stats], axis=axis,
                          epsilon=n.attr("epsilon", 1e-5))

    return _stashed(n, build)


def _rms_norm(n: NodeImport):
    rank = len(n.in_shape(0))
    axis = n.attr("axis", -1)
    axis = axis + rank if axis < 0 else axis
    return _stashed(n, lambda ops, t: n.op("rms_norm", ops, t, axis=axis,
                                            epsilon=n.attr("epsilon", 1e-5)))


def _instance_norm(n: NodeImport):
    return n.op("instance_norm", n.inputs(), epsilon=n.attr("epsilon", 1e-5))


def _group_norm(n: NodeImport):
    # Opset 18's per-group scale and bias never reach here: onnx's checker rejects that
    # deprecated version.
    groups = n.attr("num_groups")
    channels = n.in_shape(0)[1]
    if channels % groups:
        raise n.unsupported(f"{channels} channels do not split into {groups} groups")
    return _stashed(n, lambda ops, t: n.op("group_norm", ops, t, num_groups=groups,
                                            epsilon=n.attr("epsilon", 1e-5)))


def _lrn(n: NodeImport):
    return n.op("lrn", [n.input(0)], size=n.attr("size"), alpha=n.attr("alpha", 1e-4),
                beta=n.attr("beta", 0.75), bias=n.attr("bias", 1.0))


def _along_axis(mlc_name: str):
    """Softmax and Hardmax: one axis from opset 13 on; before it, all dims from `axis` on,
    flattened into one."""
    def handler(n: NodeImport):
        shape = n.in_shape(0)
        rank = len(shape)
        axis = n.attr("axis", -1 if n.opset >= 13 else 1)
        axis = axis + rank if axis < 0 else axis
        if n.opset >= 13 or axis == rank - 1:
            return n.op(mlc_name, [n.input(0)], axis=axis)
        outer, inner = math.prod(shape[:axis]), math.prod(shape[axis:])
        if min(shape[:axis], default=0) < 0:
            outer = min(shape[:axis])  # the one dynamic dim (the others are 1)
        elem = n.in_type(0).element_type
        flat = n.op("reshape", [n.input(0)], ir.RankedTensorType.get([outer, inner], elem))
        soft = n.op(mlc_name, [flat], flat.type, axis=1)
        return n.op("reshape", [soft])
    return handler


_softmax = _along_axis("softmax")


def _log_softmax(n: NodeImport):
    if not n.out_dtype().is_float:
        raise n.unsupported(f"LogSoftmax on {n.out_dtype().name} is not supported")
    return n.op("log", [_softmax(n)])


def _broadcast_batch(a: list[int], b: list[int]) -> list[int]:
    """numpy's broadcast of two batch shapes, where a dynamic size (negative) meets a size:
    a static size other than 1 wins (the dynamic one must equal it at run time)."""
    a, b = [1] * (len(b) - len(a)) + a, [1] * (len(a) - len(b)) + b
    dims = []
    for x, y in zip(a, b):
        if x == 1 or (x < 0 and y > 1):
            dims.append(y)
        else:
            dims.append(x)
    return dims


def matmul(n: NodeImport, lhs: ir.Value, rhs: ir.Value) -> ir.Value:
    """numpy's matmul of two values of one element type (batched, broadcast, vectors too)."""
    lhs_shape = list(ir.RankedTensorType(lhs.type).shape)
    rhs_shape = list(ir.RankedTensorType(rhs.type).shape)
    elem = ir.RankedTensorType(lhs.type).element_type
    batch = _broadcast_batch(lhs_shape[:-2], rhs_shape[:-2])
    rows, cols = lhs_shape[-2:-1], rhs_shape[-1:] if len(rhs_shape) >= 2 else []
    result = ir.RankedTensorType.get(batch + rows + cols, elem)
    if len(lhs_shape) >= 2 and len(rhs_shape) >= 2:
        return n.op("matmul", [lhs, rhs], result)
    # numpy semantics for vectors: promote to a matrix, multiply, drop the unit dim again.
    if len(lhs_shape) == 1:
        lhs = n.op("reshape", [lhs], ir.RankedTensorType.get([1, lhs_shape[0]], elem))
    if len(rhs_shape) == 1:
        rhs = n.op("reshape", [rhs], ir.RankedTensorType.get([rhs_shape[0], 1], elem))
    l_shape = list(ir.RankedTensorType(lhs.type).shape)
    r_shape = list(ir.RankedTensorType(rhs.type).shape)
    full = ir.RankedTensorType.get(batch + [l_shape[-2], r_shape[-1]], elem)
    return n.op("reshape", [n.op("matmul", [lhs, rhs], full)], result)


def _matmul(n: NodeImport):
    return matmul(n, n.input(0), n.input(1))


def _transposed(n: NodeImport, i: int) -> ir.Value:
    value = n.const(i)
    if value is not None:
        return n.constant(value.T)
    shape = n.in_shape(i)
    type_ = ir.RankedTensorType.get(shape[::-1], n.in_type(i).element_type)
    return n.op("transpose", [n.input(i)], type_, perm=[1, 0])


def _gemm(n: NodeImport):
    a = _transposed(n, 0) if n.attr("transA", 0) else n.input(0)
    b = _transposed(n, 1) if n.attr("transB", 0) else n.input(1)
    out = n.out_type()
    y = n.op("matmul", [a, b], out)
    alpha, beta = n.attr("alpha", 1.0), n.attr("beta", 1.0)
    dtype = n.out_dtype().numpy
    if alpha != 1.0:
        y = n.op("mul", [y, n.constant(np.array(alpha, dtype))], out)
    if n.has_input(2) and beta != 0.0:
        c = n.input(2)
        if beta != 1.0:
            c_const = n.const(2)
            c = (n.constant(c_const * dtype.type(beta)) if c_const is not None else
                 n.op("mul", [c, n.constant(np.array(beta, dtype))], c.type))
        y = n.op("add", [y, c], out)
    return y


def _dropout(n: NodeImport):
    training = n.const(2)
    if n.attr("is_test", 1) == 0 and n.opset < 7 or (training is not None and bool(training)):
        raise n.unsupported("training-mode Dropout is not supported (mlc compiles for inference)")
    outputs = [n.input(0)]
    # With dynamic dims the mask is left out: the importer admits that only when it is unused.
    if len(n.node.output) > 1 and n.node.output[1] and min(n.in_shape(0), default=0) >= 0:
        outputs.append(np.ones(n.in_shape(0), dtype=np.bool_))
    return outputs


HANDLERS.update({
    "Conv": _conv,
    "MaxPool": _max_pool,
    "AveragePool": _avg_pool,
    "GlobalAveragePool": _global_avg_pool,
    "GlobalMaxPool": _global_max_pool,
    "LpPool": _lp_pool,
    "GlobalLpPool": _global_lp_pool,
    "ConvTranspose": _conv_transpose,
    "Hardmax": _along_axis("hardmax"),
    "BatchNormalization": _batch_norm,
    "LRN": _lrn,
    "LayerNormalization": _layer_norm,
    "InstanceNormalization": _instance_norm,
    "RMSNormalization": _rms_norm,
    "GroupNormalization": _group_norm,
    "Softmax": _softmax,
    "LogSoftmax": _log_softmax,
    "MatMul": _matmul,
    "Gemm": _gemm,
    "Attention": attention,
    "Dropout": _dropout,
})
