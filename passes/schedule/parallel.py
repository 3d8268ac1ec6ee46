"""Which kernels run their outermost tile loop in parallel, and in how many chunks.

A kernel large enough to be worth a fork (`MIN_MATMUL_FLOPS`, `MIN_ELEMENTS`) gets an
`scf.forall` around its schedule over one dimension, cut into chunks its inner tiles divide
(vectorization never sees a partial tile). The thread count is a runtime option, so the chunk
count does not depend on it: `MAX_CHUNKS` at most, an even count when there is one, so that 2
and 4 threads get equal shares. The llvm stage lowers the forall to OpenMP; the .so's own
runtime (mlc.runtime's threads.c) spreads the chunks over the team.
"""

MIN_MATMUL_FLOPS = 2_000_000  # about 10 us on one core: a fork and join costs a few us
MIN_ELEMENTS = 100_000
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
