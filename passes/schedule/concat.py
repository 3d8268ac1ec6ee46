"""Concats of GEMM results written in place (the last step of mlc-schedule).

Input: the scheduled function, where a concat along the last dim (NHWC channels: SqueezeNet's
fire modules, Inception, DenseNet) is a chain of `tensor.insert_slice`s into a `tensor.empty`,
each inserting a GEMM kernel's [rows, c] result reshaped to the concat's rank.
Output: the same concat as inserts into a [rows, C] tensor made at the top of the function,
reshaped once after. eliminate-empty-tensors needs the destination to dominate the slices'
producers and no reshape between; given that, it has each GEMM write its slice in place (rows
strided by C) rather than into a tensor of its own that is then copied.
"""

from mlir import ir
from mlir.dialects import tensor

from mlc.passes import linalg_builders as lb
from mlc.passes.schedule.panel_gemm import owner_of


def _piece(op) -> bool:
    """Whether insert_slice `op` puts a reshaped [rows, c] tensor (expand_shape of its
    leading dims) at an offset of the last dim, covering every other dim."""
    source = lb.producer(op.operands[0])
    offsets = list(ir.DenseI64ArrayAttr(op.attributes["static_offsets"]))
    sizes = list(ir.DenseI64ArrayAttr(op.attributes["static_sizes"]))
    shape = lb.shape_of(op.results[0])
    return len(op.operands) == 2 and source is not None and source.name == "tensor.expand_shape" \
        and not any(offsets[:-1]) and sizes[:-1] == shape[:-1] \
        and len(lb.shape_of(source.operands[0])) == 2 \
        and lb.shape_of(source.operands[0])[1] == sizes[-1]


def _chain(insert) -> list | None:
    """The insert_slices of a concat along the last dim that starts with `insert`, each a
    `_piece`; None when one is not."""
    chain, op = [], insert
    while True:
        if not _piece(op):
            return None
        chain.append(op)
        users = [owner_of(u) for u in op.results[0].uses]
        if len(users) != 1 or users[0].name != "tensor.insert_slice" \
                or users[0].operands[1] != op.results[0]:
            return chain
        op = users[0]


def write_in_place(module_op) -> None:
    """Rebuilds every such concat in `module_op`. (The [rows, C] tensor made at the top does
    not grow the arena: liveness runs from a buffer's first use, not from its allocation.)"""
    inserts = []
    module_op.walk(lambda op: (inserts.append(op) if op.name == "tensor.insert_slice" else None,
                               ir.WalkResult.ADVANCE)[1])
    chains = []
    for insert in inserts:
        empty = lb.producer(insert.operands[1])
        if empty is not None and empty.name == "tensor.empty" and not len(empty.operands) \
                and empty.parent.name == "func.func" and (chain := _chain(insert)):
            chains.append((empty, chain))
    for empty, chain in chains:  # (disjoint: each starts at its own insert into an empty)
        shape, elem = lb.shape_of(empty.results[0]), lb.elem_of(empty.results[0])
        rows = lb.shape_of(lb.producer(chain[0].operands[0]).operands[0])[0]
        with ir.InsertionPoint.at_block_begin(empty.parent.regions[0].blocks[0]), empty.location:
            flat = lb.empty([rows, shape[-1]], elem)
        last = chain[-1]
        with ir.InsertionPoint(last), last.location:
            for op in chain:
                source = lb.producer(op.operands[0]).operands[0]
                offset = list(ir.DenseI64ArrayAttr(op.attributes["static_offsets"]))[-1]
                size = lb.shape_of(source)[1]
                flat = tensor.insert_slice(source, flat, [], [], [], [0, offset], [rows, size],
                                           [1, 1])
            result = lb.collapse_to(flat, shape)
        last.results[0].replace_all_uses_with(result)
        for op in reversed(chain):
            op.erase()
