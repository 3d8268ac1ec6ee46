"""Schedule configurations: every tile size of a kernel in one value, filled from the Target.

A tuner searches these; the schedules only read them. `MatmulConfig` describes the
register tile (`mr` x `nr` accumulators, k stepped by one; on B's column panels, `nr` may
span two panels) and the cache tiles around it (`mc`, `nc`, `kc`; 0 = that dimension is not
cache-tiled). Every size divides its dimension:
`split_matmul` cuts a matmul into pieces whose shapes the tiles divide, so vectorization
never sees a partial tile.
"""

from dataclasses import dataclass

from mlc.passes.schedule.parallel import (MIN_MATMUL_BYTES, MIN_MATMUL_FLOPS, best_split,
                                            split_with_rest)
from mlc.target import Target


MAX_MC = 128  # rows of A per L2 block: measured flat between 64 and 256
PAIR_ROWS = 6  # rows of a register tile two panels wide (`panel_matmul_config`)
PANEL_KC, PANEL_MC = 512, 64  # the blocks of a matmul on B's column panels
# A stride-1 conv's GEMM on whole padded rows computes KW-1 discarded columns per output row;
# up to this fraction of extra work it still beats copying the input KH*KW times (im2col):
# measured 12-15% faster than im2col for a 3x3 conv on 7x7 (2/7 extra).
MAX_WIDE_WASTE = 0.3


@dataclass(frozen=True)
class MatmulConfig:
    mr: int
    nr: int
    mc: int = 0
    nc: int = 0
    kc: int = 0
    n_outer: bool = True  # register-tile loops: n outside m (B panel reused) or m outside n
    # The outermost loop, in parallel: chunks of `parallel_chunk` along dim 0 (m) or 1 (n).
    parallel_dim: int = 0
    parallel_chunk: int = 0
    panels: bool = False  # B is read from column panels [N/nr, K, nr] (mlc-pack-matmul-weights)

    def describe(self) -> str:
        if self.panels:
            text = f"panel GEMM reg {self.mr}x{self.nr}, cache m{self.mc} k{self.kc}"
        else:
            order = "n,m" if self.n_outer else "m,n"
            text = f"reg {self.mr}x{self.nr} ({order}), cache m{self.mc} n{self.nc} k{self.kc}"
        if self.parallel_chunk:
            text += f", parallel {'mn'[self.parallel_dim]}{self.parallel_chunk}"
        return text


@dataclass(frozen=True)
class RegisterBudget:
    """The largest register tile the target holds: `rows` x `cols` f32 accumulators."""
    rows: int
    cols: int
    lanes: int
    accumulators: int  # vector registers that may hold accumulators


def register_budget(target: Target) -> RegisterBudget:
    lanes = target.f32_lanes
    # Keep a few registers for the B row vectors and the broadcast A element.
    accumulators = 16 if target.vector_registers >= 32 else 12
    rows = 8 if target.vector_registers >= 32 else 6
    return RegisterBudget(rows, 2 * lanes, lanes, accumulators)


def _largest_divisor(n: int, limit: int, multiple_of: int = 1) -> int:
    for d in range(min(n, limit), 0, -1):
        if n % d == 0 and d % multiple_of == 0:
            return d
    return 0


def _cuts(size: int, steps: list[int]) -> list[tuple[int, int]]:
    """[(offset, length)] covering `size`: as much as possible in multiples of steps[0],
    then of steps[1], ...; the last piece takes what is left."""
    pieces, start = [], 0
    for step in steps:
        length = (size - start) // step * step
        if length:
            pieces.append((start, length))
            start += length
    if start < size:
        pieces.append((start, size - start))
    return pieces


def split_points(m: int, n: int, budget: RegisterBudget) -> tuple[list, list]:
    """Row and column ranges whose sizes the register tiles divide: full tiles, then whole
    vectors, then a last narrow piece (narrower than one vector)."""
    if m > budget.rows:
        return _cuts(m, [budget.rows]), _cuts(n, [budget.cols, budget.lanes])
    # Few rows: wider tiles keep enough independent accumulators to hide the FMA latency.
    wide = max(1, budget.accumulators // max(1, m)) * budget.lanes
    return [(0, m)], _cuts(n, [wide, budget.lanes])


def _block(size: int, limit: int, tile: int = 1) -> int:
    """A cache block of `size`: its largest divisor up to `limit` in whole tiles; 0 (not
    blocked) when that is all of it or too small (under 64 for k, 4 tiles for m)."""
    block = _largest_divisor(size, limit, tile)
    return 0 if block == size or block < (4 * tile if tile > 1 else 64) else block


def _parallel(m: int, n: int, k: int, m_unit: int, n_unit: int) -> tuple[int, int]:
    """(parallel_dim, parallel_chunk): chunks of whole m_unit rows or n_unit columns, for a
    matmul worth a fork; (0, 0) for none."""
    split = best_split([(0, m, m_unit), (1, n, n_unit)]) if worth_fork(m, n, k) else None
    return split or (0, 0)


def worth_fork(m: int, n: int, k: int) -> bool:
    """Whether an M x N x K matmul is large enough to run on several threads: by its
    arithmetic, or by the B it reads (a GEMV's cost)."""
    return 2 * m * n * k >= MIN_MATMUL_FLOPS or 4 * k * n >= MIN_MATMUL_BYTES


def matmul_config(m: int, n: int, k: int, target: Target) -> MatmulConfig:
    """The default schedule of an M x N x K f32 matmul (M, N small pieces included)."""
    b = register_budget(target)
    if m >= b.rows:
        mr = _largest_divisor(m, b.rows)
    else:
        mr = m
    vectors_per_row = max(1, b.accumulators // mr)
    nr_limit = vectors_per_row * b.lanes if m < b.rows else b.cols
    nr = _largest_divisor(n, nr_limit, b.lanes) or _largest_divisor(n, nr_limit)
    # Cache tiles: a kc x nr panel of B stays in L1 (with room for A and C), an mc x kc block
    # of A in L2. A dimension without a large enough divisor is not cache-tiled.
    kc = _block(k, max(1, target.l1_bytes * 3 // 4 // (4 * nr)))
    mc = _block(m, MAX_MC, mr)
    dim, chunk = _parallel(m, n, k, mc or mr, nr)
    return MatmulConfig(mr, nr, mc, 0, kc, parallel_dim=dim, parallel_chunk=chunk)


def panel_matmul_config(m: int, n: int, k: int, target: Target) -> MatmulConfig:
    """`matmul_config` for a B stored in column panels (B's tile is contiguous): the register
    tile is one panel wide, and k runs in long blocks, since each block reloads the C tile.
    On a 1024^3 matmul, kc 512 and mc 64 ran 1.45x as fast as the L1-sized kc 256 and mc 128
    (numpy 1.37x as fast as that; 1.08x as fast as this)."""
    budget = register_budget(target)
    # Two panels a tile when the registers hold six rows of them (AVX-512: 24 accumulators,
    # four B vectors and a broadcast): per k, ten loads feed 24 FMAs, where an 8-row tile of
    # one panel's ten feed 16. Measured 9-11% faster on 1x1 and 3x3 conv chains.
    pair = target.vector_registers >= 32 and n > budget.cols
    # Rows the tiles leave: a last tile moved back to overlap (panel_gemm), or a smaller one.
    mr = min(m, PAIR_ROWS if pair else budget.rows)
    nr = budget.cols * (2 if pair else 1)
    mc = _block(m - m % mr, PANEL_MC, mr)
    dim, chunk = _panel_split(m, n, k, mc or mr, mr, nr)
    if dim == 0 and mc and chunk % mc:
        mc = 0  # chunks of whole tiles, each one cache block
    return MatmulConfig(mr, nr, mc, 0, _block(k, PANEL_KC), parallel_dim=dim, parallel_chunk=chunk,
                        panels=True)


def _panel_split(m: int, n: int, k: int, mc: int, mr: int, nr: int) -> tuple[int, int]:
    """(parallel_dim, parallel_chunk) of a GEMM on panels, for one worth a fork: chunks of
    rows (blocks of mc, or tiles) or of columns (whole tiles of panels), the rows or panels
    they leave done after them (`split_with_rest`). Preferred: a rest within the kernel's
    last, partial tile (a longer one repeats the kernel's code); then rows when there are
    as many rows as columns, since each chunk of columns reads all of A again, else columns;
    then a rest of at most a sixteenth, and the most chunks."""
    if not worth_fork(m, n, k):
        return 0, 0
    tile = {0: mr, 1: nr}
    splits = [(size % chunk < tile[dim], dim == (0 if m >= n else 1), size % chunk <= size // 16,
               size // chunk, dim, chunk)
              for dim, size, unit in [(0, m, mc), (0, m, mr), (1, n, nr)]
              if (chunk := split_with_rest(size, unit, tile[dim]))]
    return max(splits)[-2:] if splits else (0, 0)


@dataclass(frozen=True)
class ConvConfig:
    """The schedule of a wide-rows NHWC conv (`runs_wide`: a stride-1 KxK conv whose filter
    has no column panels reads its input in place, one GEMM per filter tap over "wide" output
    rows, each as long as a padded input row, the last KW-1 columns computed and dropped)."""
    # Wide rows per block: all taps run on one block of output rows before the next, so the
    # block's accumulators stay in L2 across the taps; 0 = one block.
    block_rows: int = 0


def runs_wide(kernel: tuple[int, int], ow: int, strides, dilations) -> bool:
    """Whether a conv's GEMM can read wide rows in place (`ConvConfig`)."""
    kh, kw = kernel
    unit = list(strides) == [1, 1] and list(dilations) == [1, 1]
    return unit and kh * kw > 1 and (kw - 1) / ow <= MAX_WIDE_WASTE


def conv_config(kernel: tuple[int, int], out_shape: tuple[int, int, int],
                target: Target) -> ConvConfig:
    """The config of a conv that `runs_wide`; `out_shape`: (F, OH, OW) of the output."""
    (kh, kw), (f, oh, ow) = kernel, out_shape
    width = ow + kw - 1  # a padded input row
    # Blocks of whole output rows whose accumulators fill at most half of L2.
    fits = max(1, target.l2_bytes // 2 // (4 * f * width))
    rows = _largest_divisor(oh, fits)
    return ConvConfig(0 if rows == oh else rows * width)
