"""mlc-plan-memory: places @main's intermediate buffers in one arena, by liveness.

Input: bufferized IR where @main allocates its intermediates with `memref.alloc` and frees them
with `memref.dealloc` (the output of buffer-deallocation-pipeline and
convert-bufferization-to-memref, which puts every dealloc at the end of the block).
Output: @main takes one more argument, `memref<Nxi8> {mlc.name = "arena"}`, last; every planned
buffer is a `memref.view` into it at a 64-byte-aligned offset and has no dealloc. The module gets
`mlc.arena_bytes` (N) and `mlc.buffer_bytes` (the sum of the planned buffers' sizes, what the
intermediates took before planning). The C shim passes a per-thread arena that is allocated
once, so a call neither mallocs nor page-faults.

A buffer is planned when its alloc sits in @main's body block, has a static shape, the identity
layout and a plain int/float element type, and its one dealloc is in the same block; others are
left alone: a buffer whose size depends on a symbolic dim stays a heap alloc freed by its
dealloc. Its live interval runs over the body's top-level ops, from the first to the last
that uses it or any memref derived from it (views, loop results), uses inside nested regions
counted at their top-level op. Buffers with overlapping intervals get disjoint bytes; offsets are
chosen greedily, largest buffer first, in the smallest gap that fits (best fit).
"""

from dataclasses import dataclass

from mlir import ir
from mlir.dialects import arith, memref

ALIGN = 64
ARENA_ATTR = "mlc.arena_bytes"
BUFFERS_ATTR = "mlc.buffer_bytes"


@dataclass
class Buffer:
    alloc: ir.Operation
    dealloc: ir.Operation
    size: int   # bytes, rounded up to ALIGN
    start: int  # first and last top-level op index that touches it
    end: int
    offset: int = -1


def _round(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _byte_size(t: ir.MemRefType) -> int | None:
    """Bytes of a static, identity-layout memref of int/float elements; None otherwise."""
    elem = t.element_type
    if not t.has_static_shape or t != ir.MemRefType.get(list(t.shape), elem):
        return None  # a layout or a memory space
    if isinstance(elem, ir.IntegerType):
        bits = ir.IntegerType(elem).width
    elif isinstance(elem, ir.FloatType):
        bits = ir.FloatType(elem).width
    else:
        return None
    if bits % 8:
        return None
    count = 1
    for d in t.shape:
        count *= d
    return count * bits // 8


def _top_level(op: ir.Operation, func_op: ir.Operation) -> ir.Operation:
    while True:
        parent = op.parent
        if parent is None:
            return op
        if parent == func_op:
            return op
        op = parent


def _interval(value: ir.Value, dealloc: ir.Operation, func_op: ir.Operation,
              index: dict) -> tuple[int, int] | None:
    """Top-level op indices of the first and last use of `value` and of memrefs derived from it."""
    lo, hi = None, None
    work, seen = [value], set()
    while work:
        v = work.pop()
        for use in v.uses:
            user = use.owner
            user = user.operation if hasattr(user, "operation") else user
            if user == dealloc:
                continue
            top = _top_level(user, func_op)
            i = index[top]
            lo = i if lo is None else min(lo, i)
            hi = i if hi is None else max(hi, i)
            # A memref an op returns may alias its operand (views, loop-carried buffers); so
            # may a memref a region yields out of the top-level op that contains the use.
            for derived in {user, top}:
                for r in derived.results:
                    if isinstance(r.type, ir.MemRefType) and r not in seen:
                        seen.add(r)
                        work.append(r)
    return None if lo is None else (lo, hi)


def _collect(func_op: ir.Operation) -> list[Buffer]:
    block = func_op.regions[0].blocks[0]
    ops = [op.operation for op in block.operations]
    index = {op: i for i, op in enumerate(ops)}
    deallocs: dict = {}
    for op in ops:
        if op.name == "memref.dealloc":
            deallocs.setdefault(op.operands[0], []).append(op)
    buffers = []
    for op in ops:
        if op.name != "memref.alloc" or len(op.operands):
            continue
        result = op.results[0]
        size = _byte_size(ir.MemRefType(result.type))
        frees = deallocs.get(result, [])
        if size is None or len(frees) != 1:
            continue
        span = _interval(result, frees[0], func_op, index)
        if span is None:  # never used: the plan drops it like canonicalize would
            span = (index[op], index[op])
        buffers.append(Buffer(op, frees[0], _round(max(size, 1)), *span))
    return buffers


def assign_offsets(buffers: list[Buffer]) -> int:
    """Sets each buffer's offset; returns the arena size. Greedy by size, best-fit gaps."""
    placed: list[Buffer] = []
    for b in sorted(buffers, key=lambda b: (-b.size, b.start)):
        live = sorted((p for p in placed if p.start <= b.end and b.start <= p.end),
                      key=lambda p: p.offset)
        best, best_gap, cursor = None, None, 0
        for p in live:
            gap = p.offset - cursor
            if gap >= b.size and (best_gap is None or gap < best_gap):
                best, best_gap = cursor, gap
            cursor = max(cursor, p.offset + p.size)
        b.offset = cursor if best is None else best
        placed.append(b)
    return max((b.offset + b.size for b in buffers), default=0)


def plan(func_op: ir.Operation) -> tuple[int, int]:
    """Rewrites @main onto an arena argument; returns (arena bytes, sum of buffer bytes)."""
    buffers = _collect(func_op)
    arena_bytes = assign_offsets(buffers)
    block = func_op.regions[0].blocks[0]
    i8 = ir.IntegerType.get_signless(8)
    arena = block.add_argument(ir.MemRefType.get([arena_bytes], i8), func_op.location)
    fn = func_op.opview
    arg_types = [a.type for a in block.arguments]
    fn.attributes["function_type"] = ir.TypeAttr.get(ir.FunctionType.get(arg_types, []))
    if "arg_attrs" in fn.attributes:
        name = ir.DictAttr.get({"mlc.name": ir.StringAttr.get("arena")})
        fn.attributes["arg_attrs"] = ir.ArrayAttr.get(list(fn.arg_attrs) + [name])
    for b in buffers:
        with ir.InsertionPoint(b.alloc), b.alloc.location:
            shift = arith.ConstantOp(ir.IndexType.get(), b.offset)
            view = memref.ViewOp(b.alloc.results[0].type, arena, shift, [])
        b.alloc.results[0].replace_all_uses_with(view.result)
        b.dealloc.erase()
        b.alloc.erase()
    return arena_bytes, sum(b.size for b in buffers)


def run(module_op, pass_) -> None:
    for op in module_op.regions[0].blocks[0].operations:
        if op.operation.name == "func.func" and op.sym_name.value == "main":
            arena_bytes, buffer_bytes = plan(op.operation)
            i64 = ir.IntegerType.get_signless(64)
            attrs = module_op.attributes
            attrs[ARENA_ATTR] = ir.IntegerAttr.get(i64, arena_bytes)
            attrs[BUFFERS_ATTR] = ir.IntegerAttr.get(i64, buffer_bytes)
