"""Values whose size depends on the input values: how they are carried to the graph's outputs.

NonZero, Compress, Unique and NonMaxSuppression (`selection_ops`) know an upper bound of their
result's size at compile time, never the size itself. Their mlc op writes a result of the bound
size plus `count`, a tensor<1xi64> holding how far one dim (the data-dependent dim) is filled;
the handler returns the result wrapped in a `DataDependent`.

Such a value may reach a graph output through readers that keep each element where it is, so
that the filled part stays the filled part (`carry`: Identity, elementwise ops, Transpose, and
broadcasting ops whose other operands have size 1 along the data-dependent dim); what lies past
the count is garbage that only such readers see. Any other reader is refused
(`refuse_readers`): its lowering would take the bound for the size. At the graph outputs, @main
returns one more result after them: a tensor<Kxi64> of the actual sizes of every data-dependent
output dim (outputs in graph order, one dim each), and the interface writes each such dim as
'<=bound' (`interface.bound_of`). The .so's shim moves each such output to the dense prefix of
its actual shape and reports the shapes (mlc_run_sized in mlc_runtime.h).
"""

from dataclasses import dataclass

import onnx
from mlir import ir

from mlc.errors import UnsupportedError

from .dynamic import BROADCAST, UNARY

# The @main result that carries the sizes; named for readers of the IR.
SIZES_NAME = "mlc.data_dependent_sizes"


@dataclass(frozen=True)
class DataDependent:
    """A handler's result of data-dependent size: `value` has the bound's size along `dim`,
    of which `count` (tensor<1xi64>) says how much is filled. `label` and `op_type` name the
    node that made it, for the refusal of its readers."""

    value: ir.Value
    dim: int
    count: ir.Value
    label: str
    op_type: str


def refuse_readers(source: str, node: onnx.NodeProto, label: str, opset: int,
                   known: dict[str, DataDependent]) -> list[str]:
    """The data-dependent values the node reads; raises UnsupportedError when it is not a
    reader that `carry` handles."""
    read = [name for name in node.input if name in known]
    if read and node.op_type not in _KEEPING:
        raise reader_error(source, f"node '{label}' ({node.op_type}, opset {opset})", read[0],
                           known[read[0]])
    return read


def reader_error(source: str, reader: str, name: str, made: DataDependent,
                 why: str = "") -> UnsupportedError:
    return UnsupportedError(
        f"{source}: {reader} reads '{name}', the result of node '{made.label}' "
        f"({made.op_type}), whose dim {made.dim} has a size that depends on the input values"
        f"{why}; mlc compiles such a value only as a graph output (written into a buffer of its "
        "upper bound, its actual size reported at run time), or as the input of elementwise "
        "ops and Transpose on the way to one",
        hint=f"make '{name}' a graph output and run the rest of the graph on its value "
             "separately")


# Readers that keep every element in place (up to a permutation of the dims).
_KEEPING = UNARY | BROADCAST | {"Identity", "Transpose"}


def carry(source: str, n, read: list[str], known: dict[str, DataDependent], results) -> list:
    """The reader's results with its output 0 marked data-dependent: the same count, along the
    dim the data-dependent input's dim becomes (see `_KEEPING`)."""
    results = list(results) if isinstance(results, (list, tuple)) else [results]
    made = known[read[0]]
    out_rank = len(ir.RankedTensorType(results[0].type).shape)
    reader = f"node '{n.label}' ({n.op_type}, opset {n.opset})"
    if n.op_type == "Transpose":
        rank = len(n.in_shape(0))
        perm = list(n.attr("perm", list(range(rank))[::-1]))
        dim = perm.index(made.dim)
    else:  # elementwise: dims aligned at the right
        dim = made.dim + out_rank - len(n.in_shape(list(n.node.input).index(read[0])))
        for i, name in enumerate(n.node.input):
            if not name:
                continue
            at = dim - (out_rank - len(n.in_shape(i)))
            if name in known:
                other = known[name]
                if other.count != made.count or other.dim != at:
                    raise reader_error(source, reader, name, other,
                                       f" (not the size of '{read[0]}' along the same dim)")
            elif at >= 0 and n.in_shape(i)[at] != 1:
                raise reader_error(source, reader, read[0], made,
                                   f" (broadcast against '{name}' dim {at} of size "
                                   f"{n.in_shape(i)[at]})")
    bound = n.in_shape(list(n.node.input).index(read[0]))[made.dim]
    if ir.RankedTensorType(results[0].type).shape[dim] != bound:
        raise reader_error(source, reader, read[0], made, " (broadcast along that dim)")
    results[0] = DataDependent(results[0], dim, made.count, n.label, n.op_type)
    return results


def output_dims(dims: list, made: DataDependent | None) -> list:
    """An output's interface dims: the data-dependent one written as '<=bound'."""
    if made is None:
        return dims
    dims = list(dims)
    dims[made.dim] = f"<={dims[made.dim]}"
    return dims


def sizes_result(made: list[DataDependent], concat) -> ir.Value | None:
    """The tensor<Kxi64> of the data-dependent outputs' counts (None when there are none);
    `concat(a, b, type)` joins two 1-D i64 tensors."""
    if not made:
        return None
    i64 = ir.IntegerType.get_signless(64)
    total = made[0].count
    for k, m in enumerate(made[1:], start=2):
        total = concat(total, m.count, ir.RankedTensorType.get([k], i64))
    return total

