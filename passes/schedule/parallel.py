"""Which kernels run their outermost tile loop in parallel, and in how many chunks.

A kernel large enough to be worth a fork (`MIN_MATMUL_FLOPS` or `MIN_MATMUL_BYTES`,
`MIN_ELEMENTS`) gets an
`scf.forall` around its schedule over one dimension, cut into chunks its inner tiles divide
(vectorization never sees a partial tile). The thread count is a runtime option, so the chunk
count does not depend on it: `MAX_CHUNKS` at most, an even count when there is one, so that 2
and 4 threads get equal shares. The llvm stage lowers the forall to OpenMP; the .so's own
runtime (mlc.runtime's threads.c) spreads the chunks over the team. Kernels built by hand
rather than tiled by the Transform dialect get their loop from `forall_blocks`.
"""

from mlir import ir
from mlir.dialects import arith, scf, tensor

from mlc.passes import linalg_builders as lb

# About 5 us of work on one core. Between the regions of a run the pool's workers spin, so a
# fork and join costs about a microsecond, and a worker that comes late takes fewer slots.
MIN_MATMUL_FLOPS = 1_000_000
# A matmul of few rows (a GEMV) is bound by reading B: worth a fork once B is this large,
# each thread streaming its share of the panels (from its own core's L2 when it fits there).
MIN_MATMUL_BYTES = 262_144
MIN_ELEMENTS = 32_768
MAX_CHUNKS = 16


def chunk_count(units: int) -> int:
    """How many chunks to cut `units` indivisible pieces into; 0 when fewer than 2."""
    divisors = [c for c in range(2, min(units, MAX_CHUNKS) + 1) if units % c == 0]
    if not divisors:
        return 0
    even = [c for c in divisors if c % 2 == 0]
    return max(even or divisors)


def best_split(candidates: list[tuple[int, int, int]]) -> tuple[int, int] | None:
    """(dim, chunk size) among candidates (dim, size, unit) cutting `size` in whole `unit`s:
    the one with an even chunk count, then the most chunks, then the first; None if none."""
    best, key = None, None
    for dim, size, unit in candidates:
        if unit <= 0 or size % unit:
            continue
        count = chunk_count(size // unit)
        if not count:
            continue
        this = (count % 2 == 0, count)
        if key is None or this > key:
            best, key = (dim, size // count), this
    return best


def split_with_rest(size: int, unit: int, tile: int = 1) -> int | None:
    """A chunk (whole units) for cutting `size` into an even number of equal chunks, what is
    left (shorter than a chunk) done after them, alone. Preferred: a rest shorter than `tile`
    (a kernel's last, partial tile, whose code it has anyway; a longer rest repeats the
    chunk's code), then the most chunks that leave at most a sixteenth, else the least rest;
    None when under two units. (169 rows in tiles of 8: ten chunks of 16 and 9 rows after,
    where exact chunks would be seven of 24, 4:3 on two threads.)"""
    units, options = size // unit, []
    for count in range(2, min(MAX_CHUNKS, units) + 1, 2):
        chunk = units // count * unit
        rest = size - count * chunk
        if rest < chunk:
            small = rest <= size // 16
            options.append((rest < tile, small, count if small else -rest, chunk))
    return max(options)[-1] if options else None


def forall_blocks(out: ir.Value, dim: int, parts: int, body) -> ir.Value:
    """`out` rewritten in `parts` equal blocks along `dim` by an scf.forall: `body(first,
    block)` gets the block's first index along `dim` (an index value) and the block of `out`,
    and returns the block's new value."""
    shape = lb.shape_of(out)
    size = shape[dim] // parts
    sizes = [size if d == dim else n for d, n in enumerate(shape)]
    offsets = [ir.ShapedType.get_dynamic_size() if d == dim else 0 for d in range(len(shape))]
    ones = [1] * len(shape)
    block_type = lb.tensor_of(sizes, lb.elem_of(out))
    forall = scf.ForallOp([0], [parts], [1], [out])
    with ir.InsertionPoint(forall.body):
        first = arith.muli(forall.induction_variables[0],
                           arith.constant(ir.IndexType.get(), size))
        shared = forall.inner_iter_args[0]
        block = tensor.extract_slice(block_type, shared, [first], [], [], offsets, sizes, ones)
        done = body(first, block)
        with ir.InsertionPoint(forall.terminator().block):
            tensor.parallel_insert_slice(done, shared, [first], [], [], offsets, sizes, ones)
    return forall.results[0]
