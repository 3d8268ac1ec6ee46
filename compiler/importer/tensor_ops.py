"""Import of tensor and shape ONNX ops: constants, reshapes, transposes, concatenation.

Shape arithmetic on static shapes is evaluated here with numpy, so a Reshape whose target shape
comes from Shape/Gather/Concat sees a constant. On dynamic dims it runs while the model runs:
Shape and Size read the dims (`mlc.shape_of`), the small i64 shape tensors go through ordinary
ops, and Reshape, Expand, ConstantOfShape, Range and Slice size their results from them
(`mlc.dynamic_reshape`, `mlc.dynamic_broadcast`, the optional limit and ends operands).
"""

import numpy as np
from mlir import ir
from onnx import numpy_helper

from . import checks, dynamic
from .node import NodeImport

HANDLERS = {}
_DYNAMIC = ir.ShapedType.get_dynamic_size()


def _constant(n: NodeImport):
    for key in ("value", "sparse_value"):
        if (value := n.attr(key)) is not None:
            if key == "sparse_value":
                raise n.unsupported("sparse Constant values are not supported")
            return numpy_helper.to_array(value)
    scalars = {"value_float": np.float32, "value_int": np.int64}
    lists = {"value_floats": np.float32, "value_ints": np.int64}
    for key, dtype in scalars.items():
        if (value := n.attr(key)) is not None:
            return np.array(value, dtype)
    for key, dtype in lists.items():
        if (value := n.attr(key)) is not None:
            return np.array(list(value), dtype)
    raise n.unsupported("Constant without a supported value attribute")


def _constant_of_shape(n: NodeImport):
    value = n.attr("value")
    scalar = numpy_helper.to_array(value).reshape(-1)[0] if value is not None else np.float32(0)
    shape = n.const(0)
    if shape is None:  # a run-time shape: the value broadcast to it
        return n.op("dynamic_broadcast", [n.constant(np.array(scalar)), n.input(0)])
    # A broadcast view: no memory per element, and the weight store sees a splat.
    return np.broadcast_to(np.array(scalar), tuple(int(d) for d in shape))


def _identity(n: NodeImport):
    if n.is_sequence(0):
        return n.sequence(0)
    value = n.const(0)
    return value if value is not None else n.input(0)


def _reshape_to_output(n: NodeImport):
    value = n.const(0)
    if value is not None and value.size <= 64:
        return value.reshape(n.out_shape())
    if n.in_shape(0) == n.out_shape() and _DYNAMIC not in n.out_shape():
        return n.input(0)
    if _DYNAMIC in n.out_shape() and (n.const(1) is None if n.op_type == "Reshape" else False):
        return n.op("dynamic_reshape", [n.input(0), n.input(1)], allowzero=n.attr("allowzero", 0))
    if (n.op_type in ("Reshape", "Flatten") and _DYNAMIC in n.in_shape(0) + n.out_shape()
            and not dynamic.keeps_dims(n.in_dims(0), n.out_dims())):
        # Dynamic dims merged or split: the sizes are computed at run time.
        shape = n.input(1) if n.op_type == "Reshape" else _flatten_shape(n)
        return n.op("dynamic_reshape", [n.input(0), shape], allowzero=n.attr("allowzero", 0))
    return n.op("reshape", [n.input(0)])


def _flatten_shape(n: NodeImport) -> ir.Value:
    """Flatten's [prod(dims before axis), prod(dims from axis)] as a run-time i64 tensor."""
    rank = len(n.in_shape(0))
    axis = n.attr("axis", 1)
    axis = axis + rank if axis < 0 else axis
    i64 = ir.IntegerType.get_signless(64)
    pieces = []
    for start, stop in ((0, axis), (axis, rank)):
        if start == stop:
            pieces.append(n.constant(np.array([1], np.int64)))
            continue
        dims = n.op("shape_of", [n.input(0)], ir.RankedTensorType.get([stop - start], i64),
                    start=start)
        pieces.append(n.op("reduce_prod", [dims], ir.RankedTensorType.get([1], i64), axes=[0]))
    return n.op("concat", pieces, ir.RankedTensorType.get([2], i64), axis=0)


def _transpose(n: NodeImport):
    rank = len(n.in_shape(0))
    perm = list(n.attr("perm", list(range(rank))[::-1]))
    if perm == list(range(rank)):
        return n.input(0)
    return n.op("transpose", [n.input(0)], perm=perm)


def _concat(n: NodeImport):
    consts = [n.const(i) for i in range(n.num_inputs)]
    rank = len(n.out_shape())
    axis = n.attr("axis")
    axis = axis + rank if axis < 0 else axis
    if all(c is not None and c.size <= 64 for c in consts):
        return np.concatenate(consts, axis=axis)
    pieces = [i for i in range(n.num_inputs) if n.in_shape(i)[axis] != 0]
    total, shape = n.input(pieces[0]), n.in_shape(pieces[0])
    for i in pieces[1:]:
        shape[axis] += n.in_shape(i)[axis]
        type_ = ir.RankedTensorType.get(shape, n.out_type().element_type)
        total = n.op("concat", [total, n.input(i)], type_, axis=axis)
    return total


def _shape(n: NodeImport):
    shape = n.in_shape(0)
    picked = range(len(shape))[slice(n.attr("start", 0), n.attr("end", None))]
    dims = [shape[d] for d in picked]
    if _DYNAMIC not in dims:
        return np.array(dims, dtype=np.int64)
    i64 = ir.IntegerType.get_signless(64)
    return n.op("shape_of", [n.input(0)], ir.RankedTensorType.get([len(dims)], i64),
                start=picked.start)


def _size(n: NodeImport):
    shape = n.in_shape(0)
    if _DYNAMIC not in shape:
        return np.array(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)
    i64 = ir.IntegerType.get_signless(64)
    dims = n.op("shape_of", [n.input(0)], ir.RankedTensorType.get([len(shape)], i64), start=0)
    return n.op("reduce_prod", [dims], ir.RankedTensorType.get([], i64), axes=[0])


def _gather(n: NodeImport):
    data, indices = n.const(0), n.const(1)
    axis = n.attr("axis", 0)
    if data is not None and indices is not None and data.size <= 64:
        return np.take(data, indices, axis=axis)  # shape arithmetic folds away
    rank = len(n.in_shape(0))
    axis = axis + rank if axis < 0 else axis
    checks.require_indices_in_range(n, 0, 1, axis)
    return n.op("gather", [n.input(0), n.input(1)], axis=axis)


HANDLERS.update({
    "Constant": _constant,
    "ConstantOfShape": _constant_of_shape,
    "Identity": _identity,
    "Reshape": _reshape_to_output,
    "Flatten": _reshape_to_output,
    "Squeeze": _reshape_to_output,
    "Unsqueeze": _reshape_to_output,
    "Transpose": _transpose,
    "Concat": _concat,
    "Shape": _shape,
    "Size": _size,
    "Gather": _gather,
})


# -- data movement: broadcast, slices, padding, tiling, block rearrangement ------------------
def _typed(n: NodeImport, shape) -> ir.RankedTensorType:
    """A tensor type of `shape` with the element type of output 0."""
    return ir.RankedTensorType.get([int(d) for d in shape], n.out_type().element_type)


def _axis(n: NodeImport, axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise n.unsupported(f"axis {axis} is out of range for rank {rank}")
    return axis + rank if axis < 0 else axis


def _reshape(n: NodeImport, value: ir.Value, shape) -> ir.Value:
    if list(ir.RankedTensorType(value.type).shape) == list(shape):
        return value
    return n.op("reshape", [value], _typed(n, shape))


def _expand(n: NodeImport):
    target = n.const(1)
    shape = n.in_shape(0)
    if _DYNAMIC in shape + n.out_shape():  # sizes from the run-time shape
        return n.op("dynamic_broadcast", [n.input(0), n.input(1)])
    # A run-time target shape is fine when shape inference made the result static.
    target = n.out_shape() if target is None else [int(d) for d in target]
    try:
        out = list(np.broadcast_shapes(tuple(shape), tuple(target)))
    except ValueError:
        raise n.unsupported(f"shape {shape} does not broadcast to {list(target)}") from None
    if out == shape:
        return n.input(0)
    return n.op("broadcast", [n.input(0)], _typed(n, out))


def _slice_op(n: NodeImport, value: ir.Value, offsets, sizes, strides) -> ir.Value:
    shape = list(ir.RankedTensorType(value.type).shape)
    if list(sizes) == shape and all(s == 1 for s in strides):
        return value
    return n.op("slice", [value], _typed(n, sizes), offsets=list(offsets), strides=list(strides))


def _slice(n: NodeImport):
    shape = n.in_shape(0)
    rank = len(shape)
    if n.opset < 10:
        starts, ends = n.attr("starts"), n.attr("ends")
        axes, steps = n.attr("axes"), None
    else:
        starts, ends = n.const(1), n.const(2)
        axes = n.const(3) if n.has_input(3) else None
        steps = n.const(4) if n.has_input(4) else None
        if (any(n.has_input(i) and n.const(i) is None for i in (1, 3, 4))
                or _DYNAMIC in shape + n.out_shape()):
            return _runtime_slice(n)
    axes = list(range(len(starts))) if axes is None else [int(a) for a in axes]
    steps = [1] * len(starts) if steps is None else [int(s) for s in steps]
    offsets, sizes, strides = [0] * rank, list(shape), [1] * rank
    for start, end, axis, step in zip(starts, ends, axes, steps):
        if step == 0:
            raise n.unsupported("a slice step of 0")
        axis = _axis(n, axis, rank)
        # ONNX clamps starts and ends as Python's slice.indices does.
        picked = range(shape[axis])[slice(int(start), int(end), step)]
        offsets[axis] = picked.start if len(picked) else 0
        sizes[axis], strides[axis] = len(picked), step
    return _slice_op(n, n.input(0), offsets, sizes, strides)


def _index_vector(n: NodeImport, i: int, default) -> ir.Value:
    """Input i as a value, or `default` (a list of ints) as an i64 constant when it is absent."""
    return n.input(i) if n.has_input(i) else n.constant(np.array(default, np.int64))


def _runtime_slice(n: NodeImport):
    """Slice with run-time starts, axes or steps, or dynamic dims: static sizes come from the
    output type, dynamic ones from the ends at run time."""
    count = n.in_shape(1)[0]
    return n.op("dynamic_slice", [n.input(0), n.input(1), _index_vector(n, 3, list(range(count))),
                                  _index_vector(n, 4, [1] * count), n.input(2)])


def _runtime_pad(n: NodeImport, mode: str):
    """Pad with run-time pads or axes: the padded sizes come from the static output type."""
    rank = len(n.in_shape(0))
    value = (n.input(2) if mode == "constant" and n.has_input(2)
             else n.constant(np.zeros((), n.out_dtype().numpy)))
    return n.op("dynamic_pad", [n.input(0), n.input(1), value,
                                _index_vector(n, 3, list(range(rank)))], mode=mode)


def _split(n: NodeImport):
    shape = n.in_shape(0)
    axis = _axis(n, n.attr("axis", 0), len(shape))
    count = len(n.node.output)
    if n.opset >= 13 and n.has_input(1):
        split = n.const(1)  # run-time sizes: the static output shapes say them
        sizes = ([n.out_shape(i)[axis] for i in range(count)] if split is None
                 else [int(s) for s in split])
    elif n.opset < 13 and n.attr("split") is not None:
        sizes = [int(s) for s in n.attr("split")]
    else:
        parts = n.attr("num_outputs", count)
        chunk = -(-shape[axis] // parts)  # ceil: the last part takes what is left
        sizes = [min(chunk, max(shape[axis] - i * chunk, 0)) for i in range(parts)]
    if sum(sizes) != shape[axis] or len(sizes) != count:
        raise n.unsupported(f"split sizes {sizes} do not cover dim {shape[axis]} in {count} outputs")
    results, offset = [], 0
    for size in sizes:
        offsets = [offset if d == axis else 0 for d in range(len(shape))]
        out = [size if d == axis else s for d, s in enumerate(shape)]
        results.append(_slice_op(n, n.input(0), offsets, out, [1] * len(shape)))
        offset += size
    return results


def _tile(n: NodeImport):
    shape = n.in_shape(0)
    repeats = n.const(1)
    if repeats is None:  # run-time repeats: the static output shape says them
        repeats = [o // d if d else 1 for o, d in zip(n.out_shape(), shape)]
    repeats = [int(r) for r in repeats]
    if all(r == 1 for r in repeats):
        return n.input(0)
    # [d0, d1] -> [1, d0, 1, d1] -> broadcast [r0, d0, r1, d1] -> [r0 * d0, r1 * d1]
    interleaved = [x for d in shape for x in (1, d)]
    expanded = [x for r, d in zip(repeats, shape) for x in (r, d)]
    x = _reshape(n, n.input(0), interleaved)
    x = n.op("broadcast", [x], _typed(n, expanded))
    return _reshape(n, x, [r * d for r, d in zip(repeats, shape)])


def _pad(n: NodeImport):
    shape = n.in_shape(0)
    rank = len(shape)
    mode = n.attr("mode", "constant")
    if mode not in ("constant", "reflect", "edge", "wrap"):
        raise n.unsupported(f"pad mode '{mode}' is not supported")
    operands = [n.input(0)]
    if n.opset < 11:
        pads = [int(p) for p in n.attr("pads")]
        value = n.attr("value", 0.0)
        if mode == "constant" and value != 0:
            operands.append(n.constant(np.array(value, n.out_dtype().numpy)))
    else:
        if n.const(1) is None or (n.has_input(3) and n.const(3) is None):
            return _runtime_pad(n, mode)
        raw = [int(p) for p in n.const(1)]
        axes = list(range(rank))
        if n.has_input(3):
            axes = [_axis(n, int(a), rank) for a in n.const(3)]
        pads = [0] * (2 * rank)
        for i, axis in enumerate(axes):
            pads[axis], pads[rank + axis] = raw[i], raw[len(axes) + i]
        if mode == "constant" and n.has_input(2):
            operands.append(n.input(2))
    if mode in ("reflect", "edge", "wrap") and any(
            pads[d] > 0 or pads[rank + d] > 0 for d in range(rank) if shape[d] == 0):
        raise n.unsupported(f"{mode} padding of an empty dim")
    if mode == "reflect" and any(max(pads[d], pads[rank + d]) >= shape[d] for d in range(rank)
                                 if pads[d] > 0 or pads[rank + d] > 0):
        raise n.unsupported("reflect padding at least as wide as the dim")
    if not any(pads):
        return n.input(0)
    out = [s + lo + hi for s, lo, hi in zip(shape, pads[:rank], pads[rank:])]
    return n.op("pad", operands, _typed(n, out), pads=pads, mode=mode)


def _trilu(n: NodeImport):
    upper = n.attr("upper", 1)
    if n.has_input(1) and n.const(1) is None:  # a run-time k is read inside the loop
        return n.op("trilu", [n.input(0), n.input(1)], upper=upper, k=0)
    k = int(n.const(1).reshape(-1)[0]) if n.has_input(1) else 0
    return n.op("trilu", [n.input(0)], upper=upper, k=k)


def _range(n: NodeImport):
    # Constant operands fold before this handler runs; here the bounds are run-time values
    # and the element count must have come out static from shape inference.
    if len(n.out_shape()) != 1:
        raise n.unsupported("the number of elements depends on run-time values")
    if _DYNAMIC in n.out_shape():  # the length too is computed at run time
        return n.op("range", [n.input(0), n.input(2), n.input(1)])
    return n.op("range", [n.input(0), n.input(2)])


def _eye_like(n: NodeImport):
    rows, cols = n.in_shape(0)
    return np.eye(rows, cols, k=n.attr("k", 0), dtype=n.out_dtype().numpy)


def _block_rearrange(to_depth: bool):
    """DepthToSpace / SpaceToDepth as reshape, transpose, reshape."""
    def handler(n: NodeImport):
        b = n.attr("blocksize")
        mode = n.attr("mode", "DCR")
        batch, c, h, w = n.in_shape(0)
        if to_depth:
            split = [batch, c, h // b, b, w // b, b]
            perm = [0, 3, 5, 1, 2, 4] if mode == "DCR" else [0, 1, 3, 5, 2, 4]
        elif mode == "DCR":
            split, perm = [batch, b, b, c // (b * b), h, w], [0, 3, 4, 1, 5, 2]
        else:
            split, perm = [batch, c // (b * b), b, b, h, w], [0, 1, 4, 2, 5, 3]
        x = _reshape(n, n.input(0), split)
        x = n.op("transpose", [x], _typed(n, [split[p] for p in perm]), perm=perm)
        return _reshape(n, x, n.out_shape())
    return handler


HANDLERS.update({
    "Expand": _expand,
    "Slice": _slice,
    "Split": _split,
    "Tile": _tile,
    "Pad": _pad,
    "Trilu": _trilu,
    "Range": _range,
    "EyeLike": _eye_like,
    "DepthToSpace": _block_rearrange(False),
    "SpaceToDepth": _block_rearrange(True),
})
