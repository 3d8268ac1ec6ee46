"""Values whose size depends on the input values: how they are carried to the graph's outputs.

NonZero, Compress, Unique and NonMaxSuppression (`selection_ops`) know an upper bound of their
result's size at compile time, never the size itself. Their mlc op writes a result of the bound
size plus `count`, a tensor<1xi64> holding how far one dim (the data-dependent dim) is filled;
the handler returns the result wrapped in a `DataDependent`. Such a value may only be a graph
output: @main then returns, after the graph outputs, one more result, a tensor<Kxi64> of the
actual sizes of every data-dependent output dim (outputs in graph order, dims in order), and the
interface writes each such dim as '<=bound' (`interface.bound_of`). The .so's shim moves each
such output to the dense prefix of its actual shape and reports the shapes (mlc_run_sized in
mlc_runtime.h). A node that reads a data-dependent value is refused (`refuse_readers`): its
lowering would see the bound as the size.
"""

from dataclasses import dataclass

import onnx
from mlir import ir

from mlc.errors import UnsupportedError

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
                   known: dict[str, DataDependent]) -> None:
    """Raises UnsupportedError when the node reads a data-dependent value."""
    for name in node.input:
        if name in known:
            raise reader_error(source, f"node '{label}' ({node.op_type}, opset {opset})", name,
                               known[name])


def reader_error(source: str, reader: str, name: str, made: DataDependent) -> UnsupportedError:
    return UnsupportedError(
        f"{source}: {reader} reads '{name}', the result of node '{made.label}' "
        f"({made.op_type}), whose dim {made.dim} has a size that depends on the input values; "
        "mlc compiles such a value only as a graph output (written into a buffer of its upper "
        "bound, its actual size reported at run time), not as the input of further ops",
        hint=f"make '{name}' a graph output and run the rest of the graph on its value "
             "separately")


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

