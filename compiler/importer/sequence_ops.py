"""Import of ONNX sequence ops, resolved at compile time.

mlc has no run-time sequence type. A sequence the graph builds (SequenceEmpty,
SequenceConstruct, SplitToSequence) becomes a `TensorSequence`: a tuple of its element tensors,
each an MLIR value or, when known at compile time, a numpy array. Positions must be constants,
so SequenceInsert, SequenceErase, SequenceAt, SequenceLength and ConcatFromSequence are resolved
here and leave only tensor ops (slices, reshapes, concats) in the mlc dialect. Sequences as graph
inputs or outputs are refused at the graph's boundary.
"""

from dataclasses import dataclass

import numpy as np
from mlir import ir

from mlc import dtypes
from mlc.errors import InputError

from .node import NodeImport, element_type

HANDLERS = {}


@dataclass(frozen=True)
class TensorSequence:
    """A sequence value of the graph: its elements in order (ir.Value or np.ndarray each)."""

    elements: tuple


def _element(n: NodeImport, i: int):
    value = n.const(i)
    return value if value is not None else n.input(i)


def _materialize(n: NodeImport, element) -> ir.Value:
    return element if isinstance(element, ir.Value) else n.constant(element)


def _element_type(element) -> ir.RankedTensorType:
    if isinstance(element, ir.Value):
        return ir.RankedTensorType(element.type)
    return ir.RankedTensorType.get(element.shape, element_type(dtypes.from_numpy(element.dtype)))


def _position(n: NodeImport, i: int, length: int, default: int, *, insert: bool = False) -> int:
    """Input i as a position in a sequence of `length` (negative counts from the back)."""
    if not n.has_input(i):
        return default
    value = n.require_const(i, "the position")
    if value.size != 1:
        raise InputError(n.error_text(f"the position must be a scalar, "
                                      f"not shape {list(value.shape)}"))
    position = int(value.reshape(-1)[0])
    last = length if insert else length - 1
    if not -length <= position <= last:
        raise InputError(n.error_text(f"position {position} is out of range for a sequence "
                                      f"of length {length}"))
    return position + length if position < 0 else position


# -- building sequences -----------------------------------------------------------------------
def _sequence_empty(n: NodeImport):
    return TensorSequence(())


def _sequence_construct(n: NodeImport):
    return TensorSequence(tuple(_element(n, i) for i in range(n.num_inputs)))


def _split_to_sequence(n: NodeImport):
    data = _element(n, 0)
    shape = list(_element_type(data).shape)
    axis = n.attr("axis", 0)
    if not -len(shape) <= axis < len(shape):
        raise InputError(n.error_text(f"axis {axis} is out of range for rank {len(shape)}"))
    axis, dim = axis % len(shape), shape[axis]
    split = n.require_const(1, "split") if n.has_input(1) else None
    if split is None:
        sizes = [1] * dim
    elif split.ndim == 0:
        chunk = int(split)
        if chunk <= 0:
            raise InputError(n.error_text(f"split {chunk} must be positive"))
        sizes = [chunk] * (dim // chunk) + ([dim % chunk] if dim % chunk else [])
    else:
        sizes = [int(s) for s in split]
        if sum(sizes) != dim or min(sizes, default=0) < 0:
            raise InputError(n.error_text(f"split sizes {sizes} do not cover dim {dim}"))
    # keepdims only applies when split is absent (ONNX's rule): each part is then squeezed.
    squeeze = split is None and not n.attr("keepdims", 1)
    parts, offset = [], 0
    for size in sizes:
        parts.append(_slice(n, data, axis, offset, size, squeeze))
        offset += size
    return TensorSequence(tuple(parts))


def _slice(n: NodeImport, data, axis: int, offset: int, size: int, squeeze: bool):
    if isinstance(data, np.ndarray):
        part = np.take(data, range(offset, offset + size), axis=axis)
        return part.squeeze(axis) if squeeze else part
    type_ = _element_type(data)
    shape = list(type_.shape)
    sizes = [size if d == axis else s for d, s in enumerate(shape)]
    part = data
    if sizes != shape:
        part = n.op("slice", [data], ir.RankedTensorType.get(sizes, type_.element_type),
                    offsets=[offset if d == axis else 0 for d in range(len(shape))],
                    strides=[1] * len(shape))
    if squeeze:
        del sizes[axis]
        part = n.op("reshape", [part], ir.RankedTensorType.get(sizes, type_.element_type))
    return part


# -- editing and reading sequences -------------------------------------------------------------
def _sequence_insert(n: NodeImport):
    elements = list(n.sequence(0).elements)
    position = _position(n, 2, len(elements), len(elements), insert=True)
    elements.insert(position, _element(n, 1))
    return TensorSequence(tuple(elements))


def _sequence_erase(n: NodeImport):
    elements = list(n.sequence(0).elements)
    if not elements:
        raise InputError(n.error_text("cannot erase from an empty sequence"))
    del elements[_position(n, 1, len(elements), len(elements) - 1)]
    return TensorSequence(tuple(elements))


def _sequence_at(n: NodeImport):
    elements = n.sequence(0).elements
    return elements[_position(n, 1, len(elements), 0)]


def _sequence_length(n: NodeImport):
    return np.array(len(n.sequence(0).elements), np.int64)


def _concat_from_sequence(n: NodeImport):
    elements = n.sequence(0).elements
    if not elements:
        raise InputError(n.error_text("ConcatFromSequence of an empty sequence"))
    rank = len(_element_type(elements[0]).shape)
    new_axis = bool(n.attr("new_axis", 0))
    axis = n.attr("axis")
    out_rank = rank + new_axis
    if not -out_rank <= axis < out_rank:
        raise InputError(n.error_text(f"axis {axis} is out of range for rank {out_rank}"))
    axis %= out_rank
    if all(isinstance(e, np.ndarray) for e in elements):
        return np.stack(elements, axis) if new_axis else np.concatenate(elements, axis)
    pieces = [_materialize(n, e) for e in elements]
    if new_axis:
        pieces = [_unsqueeze(n, p, axis) for p in pieces]
    pieces = [p for p in pieces if ir.RankedTensorType(p.type).shape[axis] != 0] or pieces[:1]
    total = pieces[0]
    for piece in pieces[1:]:
        total_type, piece_type = ir.RankedTensorType(total.type), ir.RankedTensorType(piece.type)
        shape = list(total_type.shape)
        shape[axis] += piece_type.shape[axis]
        result_type = ir.RankedTensorType.get(shape, total_type.element_type)
        total = n.op("concat", [total, piece], result_type, axis=axis)
    return total


def _unsqueeze(n: NodeImport, value: ir.Value, axis: int) -> ir.Value:
    type_ = ir.RankedTensorType(value.type)
    shape = list(type_.shape)
    shape.insert(axis, 1)
    return n.op("reshape", [value], ir.RankedTensorType.get(shape, type_.element_type))


HANDLERS.update({
    "SequenceEmpty": _sequence_empty,
    "SequenceConstruct": _sequence_construct,
    "SplitToSequence": _split_to_sequence,
    "SequenceInsert": _sequence_insert,
    "SequenceErase": _sequence_erase,
    "SequenceAt": _sequence_at,
    "SequenceLength": _sequence_length,
    "ConcatFromSequence": _concat_from_sequence,
})
