"""The GEMM kernel on B's column panels, built as loops by hand: C = start + A @ B, with B
stored Bp[J, K, nr] (Bp[j, k, r] = B[k, j*nr + r]) and C [M, J*nr].

    for each k block (kc):                      (a Python loop: a few blocks at most)
      for each m block (mc rows):
        for each panel j:
          for each tile of mr rows:
            acc[i][v] = start (first k block) or C            (mr x nr/lanes registers)
            for k in the block:
              b[v] = Bp[j, k, v*lanes : (v+1)*lanes]           (contiguous loads)
              acc[i][v] = fma(broadcast(A[row + i, k]), b[v], acc[i][v])
            C[row + i, j*nr + v*lanes ...] = epilogue(acc)     (last k block)

Rows the tile does not divide end in one smaller tile; a last panel reaching past C's columns
(B's zero padding) has its C reads and stores masked. The outermost m or panel loop runs in
parallel chunks when the config says so (`forall_blocks`). For a conv, A's rows are
gathered from the padded input in place (`ConvRows`) and k runs by kernel rows.

The accumulators start in registers from what C was initialized with (`Start`): zeros, a
splat, one bias value per row (a conv's bias in the NCHW GEMM), or C's values; so no [M, N]
init tensor is written and read back. Building the loops directly, rather than tiling a
linalg op with the Transform dialect, keeps compile time flat and leaves room for an
epilogue on the registers.
"""

import math as pymath
from dataclasses import dataclass

from mlir import ir
from mlir.dialects import arith, math, scf, tensor, vector

from mlc.passes import linalg_builders as lb
from mlc.passes.schedule.config import MatmulConfig
from mlc.passes.schedule.contraction import map_dims
from mlc.passes.schedule.depthwise_rows import body_on_vectors, is_vector_body
from mlc.passes.schedule.parallel import forall_blocks

RESHAPES = ("tensor.collapse_shape", "tensor.expand_shape")


@dataclass(frozen=True)
class Start:
    """What the accumulators start from: "splat" (a scalar `value`), "rows" (`value[row]`,
    `value` a 1-D tensor over C's rows), "cols" (`value[col]`, over C's columns) or "load"
    (C's own values)."""
    kind: str
    value: ir.Value | None = None


@dataclass(frozen=True)
class Epilogue:
    """An elementwise consumer of the GEMM applied to its accumulators before the store.
    `inputs`: per consumer input, how a tile reads it: ("gemm",) the accumulator; ("tile", t)
    t [M, N] at (row, col); ("row", t) t [M] at row, broadcast; ("col", t) t [N] at col."""
    consumer: object
    inputs: tuple
    dest: ir.Value  # [M, N]: the consumer's output tensor, viewed as C

    def apply(self, acc: ir.Value, row: ir.Value, col: ir.Value, in_bounds: list) -> ir.Value:
        vtype = ir.VectorType(acc.type)
        zero = lb.const(0, vtype.element_type)
        block = self.consumer.regions[0].blocks[0]
        mapping = {}
        for arg, (kind, *value) in zip(block.arguments, self.inputs):
            if kind == "gemm":
                mapping[arg] = acc
            elif kind == "tile":
                mapping[arg] = vector.transfer_read(vtype, value[0], [row, col],
                                                    ir.AffineMap.get_minor_identity(2, 1), zero, in_bounds)
            elif kind == "row":
                mapping[arg] = vector.broadcast(vtype, tensor.extract(value[0], [row]))
            else:
                mapping[arg] = vector.transfer_read(vtype, value[0], [col],
                                                    ir.AffineMap.get_minor_identity(1, 1), zero, in_bounds)
        return body_on_vectors(block, mapping, vtype.shape[0])


def find_epilogue(result: ir.Value, m: int, n: int) -> tuple | None:
    """(consumer, [(kind, tensor)...]) when the only user of the GEMM's `result` (seen
    through reshapes) is an all-parallel linalg.generic that reads it with the identity map
    and writes the same shape, whose body is elementwise arith/math, and whose other inputs
    are tiles of the same shape, per-row ([.., M, ..] read along the dims that form M) or
    per-column vectors; None otherwise. The shape must collapse to [M, N] as its leading
    dims forming M and trailing dims forming N."""
    value, uses = result, list(result.uses)
    while len(uses) == 1 and owner_of(uses[0]).name in RESHAPES:
        value = owner_of(uses[0]).results[0]
        uses = list(value.uses)
    if len(uses) != 1:
        return None
    user = owner_of(uses[0])
    if user.name != "linalg.generic" or len(user.results) != 1 or not is_vector_body(user.regions[0].blocks[0]):
        return None
    if any("parallel" not in str(it) for it in ir.ArrayAttr(user.attributes["iterator_types"])):
        return None
    shape = lb.shape_of(value)
    split = _split(shape, m, n)
    maps = [ir.AffineMapAttr(a).value for a in ir.ArrayAttr(user.attributes["indexing_maps"])]
    rank, n_inputs, index = len(shape), len(user.operands) - 1, uses[0].operand_number
    if split is None or index >= n_inputs or maps[index] != lb.identity_map(rank) \
            or maps[-1] != lb.identity_map(rank) or lb.shape_of(user.results[0]) != shape:
        return None
    inputs = []
    for i in range(n_inputs):
        operand, dims = user.operands[i], map_dims(maps[i])
        if i == index:
            inputs.append(("gemm", None))
        elif dims is None:
            return None
        elif maps[i] == lb.identity_map(rank) and lb.shape_of(operand) == shape:
            inputs.append(("tile", operand))
        elif _covers(dims, lb.shape_of(operand), shape, range(split)):
            inputs.append(("row", operand))
        elif _covers(dims, lb.shape_of(operand), shape, range(split, rank)):
            inputs.append(("col", operand))
        else:
            return None
    return user, inputs


def owner_of(use):
    """The op (an ir.Operation) holding a use."""
    owner = use.owner
    return owner.operation if hasattr(owner, "operation") else owner


def _split(shape: list[int], m: int, n: int) -> int | None:
    """The number of leading dims of `shape` whose product is m (the rest's being n)."""
    size = 1
    for d, s in enumerate(shape):
        if size == m and pymath.prod(shape[d:]) == n:
            return d
        size *= s
    return len(shape) if size == m and n == 1 else None


def _covers(dims: list[int], operand_shape, shape, group) -> bool:
    """Whether an operand read at `dims` varies only along the dims in `group` (the others it
    reads have size 1), in order, so that it is a vector over that group's flattened index."""
    group = list(group)
    kept = [d for d, size in zip(dims, operand_shape) if size != 1]
    return all(d in group for d in kept) and kept == [d for d in group if shape[d] != 1] \
        and all(operand_shape[dims.index(d)] == shape[d] for d in kept)


def make_epilogue(consumer, inputs: list, m: int, n: int) -> Epilogue:
    """The Epilogue of `find_epilogue`'s consumer: its inputs and output viewed as [M, N],
    [M] or [N] (build at the consumer, where all its inputs are defined)."""
    flat = []
    for kind, value in inputs:
        size = {"tile": [m, n], "row": [m], "col": [n]}.get(kind)
        flat.append((kind, None if size is None else lb.collapse_to(value, size)))
    dest = consumer.operands[len(consumer.operands) - 1]
    if (op := lb.producer(dest)) is not None and op.name == "tensor.empty":
        # An [M, N] output of its own: eliminate-empty-tensors may then make it a slice of
        # where the result goes (a concat's), which it cannot do through a reshape or for an
        # empty shared with others.
        return Epilogue(consumer, tuple(flat), lb.empty([m, n], lb.elem_of(dest)))
    return Epilogue(consumer, tuple(flat), lb.collapse_to(dest, [m, n]))


def behind_reshapes(value: ir.Value):
    """The op producing `value` once reshapes are looked through (None: a block argument)."""
    while (op := lb.producer(value)) is not None and op.name in RESHAPES:
        value = op.operands[0]
    return op


def accumulator_start(c: ir.Value) -> Start:
    """How C [M, N] was initialized: a linalg.fill, a broadcast of a vector along the rows
    (a conv's bias: out[0, f, y, x] = bias[f], viewed as [F, OH*OW]) or along the columns
    (an NHWC conv's: out[0, y, x, f] = bias[f], viewed as [OH*OW, F]), or anything else."""
    op = behind_reshapes(c)
    if op is None:
        return Start("load")
    if op.name == "linalg.fill":
        return Start("splat", op.operands[0])
    if op.name == "linalg.generic" and len(op.operands) == 2:
        source, out = op.operands
        maps = ir.ArrayAttr(op.attributes["indexing_maps"])
        out_shape = lb.shape_of(out)
        block = op.regions[0].blocks[0]
        yields_input = list(block.operations)[-1].operands[0] == block.arguments[0]
        rows = lb.shape_of(c)[0]
        # out [1, F, ...] reading source [F] at d1, and C's rows are F.
        if yields_input and lb.shape_of(source) == [rows] and len(out_shape) >= 2 \
                and out_shape[0] == 1 and out_shape[1] == rows \
                and str(ir.AffineMapAttr(maps[0]).value).endswith("-> (d1)"):
            return Start("rows", source)
        cols = lb.shape_of(c)[1]
        if yields_input and lb.shape_of(source) == [cols] and out_shape[-1] == cols \
                and str(ir.AffineMapAttr(maps[0]).value).endswith(f"-> (d{len(out_shape) - 1})"):
            return Start("cols", source)
    return Start("load")


def _index(i: int) -> ir.Value:
    return arith.constant(ir.IndexType.get(), i)


def _add(a: ir.Value, b: int | ir.Value) -> ir.Value:
    if isinstance(b, int):
        return a if b == 0 else arith.addi(a, _index(b))
    return arith.addi(a, b)


@dataclass(frozen=True)
class ConvRows:
    """A is an NHWC conv's padded input [Hp*Wp*C], flat, read in place (no im2col): GEMM row p
    is output pixel (y, x) = divmod(p, OW), and its k-th element, k = (i*KW + j)*C + c (the
    HWCF filter's row), is input[((y*sh + i*dh)*Wp + x*sw + j*dw)*C + c]. A kernel row's taps
    are one run of KW*C contiguous elements when dw is 1."""
    out_width: int
    in_width: int
    channels: int
    kernel: tuple[int, int]
    strides: tuple[int, int]
    dilations: tuple[int, int]

    def row_start(self, p: ir.Value) -> ir.Value:
        """Where output pixel p's first tap starts in the flat input."""
        (sh, sw), c = self.strides, self.channels
        y, x = arith.divui(p, _index(self.out_width)), arith.remui(p, _index(self.out_width))
        pixel = arith.addi(arith.muli(y, _index(sh * self.in_width)), arith.muli(x, _index(sw)))
        return arith.muli(pixel, _index(c))

    def runs(self) -> list[tuple[int, int, int]]:
        """(offset in the flat input, first B row, length) of each contiguous run of k, for
        kernel row 0 (row i is i*dh*Wp*C further on, its B rows i*KW*C further down)."""
        kw, c, dw = self.kernel[1], self.channels, self.dilations[1]
        if dw == 1:
            return [(0, 0, kw * c)]
        return [(j * dw * c, j * c, c) for j in range(kw)]


def panel_gemm(a: ir.Value, panels: ir.Value, c: ir.Value, config: MatmulConfig, lanes: int,
               start: Start, epilogue: Epilogue | None = None,
               conv: ConvRows | None = None) -> ir.Value:
    """C [M, J*nr] computed as above; returns the new C. With an `epilogue`, its consumer's
    body is applied to each accumulator before the store, and `c` is its output. With `conv`,
    A is a conv's flat padded input, its rows gathered in place (`ConvRows`): a kernel row's
    taps at a time, all of them accumulated in registers."""
    m, k = lb.shape_of(c)[0], lb.shape_of(panels)[1]
    j_count, _, nr = lb.shape_of(panels)
    width = config.nr // nr  # panels a register tile spans (one, or two side by side)
    # The last panel reaches past C's columns: its reads and stores are masked.
    whole = [j_count * nr == lb.shape_of(c)[1]]
    elem = lb.elem_of(c)
    vtype = ir.VectorType.get([lanes], elem)
    minor = ir.AffineMap.get_minor_identity(2, 1)
    minor3 = ir.AffineMap.get_minor_identity(3, 1)
    zero = lb.const(0, elem)

    def initial(row, first_block: bool, rows: int, panel, col, cblock, local_row, vecs: int):
        """The accumulators of a tile of `rows` x `vecs` vectors."""
        accs = []
        if first_block and start.kind == "cols":
            first_col = arith.muli(panel, _index(nr))
            bias = [vector.transfer_read(vtype, start.value, [_add(first_col, v * lanes)],
                                         ir.AffineMap.get_minor_identity(1, 1), zero, whole)
                    for v in range(vecs)]
            return bias * rows
        for i in range(rows):
            if first_block and start.kind == "splat":
                accs += [vector.broadcast(vtype, start.value)] * vecs
            elif first_block and start.kind == "rows":
                bias = vector.broadcast(vtype, tensor.extract(start.value, [_add(row, i)]))
                accs += [bias] * vecs
            else:
                accs += [vector.transfer_read(vtype, cblock, [_add(local_row, i), _add(col, v * lanes)],
                                              minor, zero, whole) for v in range(vecs)]
        return accs

    def k_run(accs, a_at, rows: int, panel, b_row, length: int):
        """acc[i] += A(i, kk) * Bp[panel.., b_row + kk] for kk < length (the panels the tile
        spans, side by side); a_at(i, kk) reads A."""
        vecs = len(accs) // rows
        loop = scf.ForOp(_index(0), _index(length), _index(1), accs)
        with ir.InsertionPoint(loop.body):
            kk = loop.induction_variable
            acc = list(loop.inner_iter_args)
            b = [vector.transfer_read(vtype, panels, [_add(panel, v * lanes // nr), _add(kk, b_row),
                                                      _index(v * lanes % nr)],
                                      minor3, zero, [True]) for v in range(vecs)]
            for i in range(rows):
                x = vector.broadcast(vtype, a_at(i, kk))
                for v in range(vecs):
                    acc[i * vecs + v] = math.fma(x, b[v], acc[i * vecs + v])
            scf.YieldOp(acc)
        return list(loop.results)

    def kernel_rows(accs, row, rows: int, panel):
        """A conv's taps, a loop over kernel rows carrying the accumulators: kernel row i
        reads the input i*dh*Wp*C further on, and B's rows from i*KW*C."""
        starts = [conv.row_start(_add(row, i)) for i in range(rows)]
        kh, kw = conv.kernel
        step = conv.dilations[0] * conv.in_width * conv.channels
        loop = scf.ForOp(_index(0), _index(kh), _index(1), accs)
        with ir.InsertionPoint(loop.body):
            i_row = loop.induction_variable
            at = [arith.addi(s, arith.muli(i_row, _index(step))) for s in starts]
            b_first = arith.muli(i_row, _index(kw * conv.channels))
            acc = list(loop.inner_iter_args)
            for offset, b_row, length in conv.runs():
                def a_at(i, kk, offset=offset):
                    return tensor.extract(a, [_add(_add(at[i], offset), kk)])
                acc = k_run(acc, a_at, rows, panel, _add(b_first, b_row), length)
            scf.YieldOp(acc)
        return list(loop.results)

    # The passes over k, each `run(accs, row, rows, panel) -> accs` between a load (or the
    # start) and a store of the C tile: the kernel rows, or blocks of kc.
    if conv:
        passes = [kernel_rows]
    else:
        kc = config.kc or k
        passes = [lambda accs, row, rows, panel, k0=k0: k_run(
            accs, lambda i, kk, row=row, k0=k0: tensor.extract(a, [_add(row, i), _add(kk, k0)]),
            rows, panel, _index(k0), min(kc, k - k0)) for k0 in range(0, k, kc)]

    def tile(row, local_row, rows: int, panel, tile_panels: int, col, cblock, run, first: bool,
             last: bool):
        """Rows row .. row+rows of C (global), local_row .. of cblock, panels `panel` ..
        (global) written from column `col` of cblock; `run`: the pass over k."""
        vecs = tile_panels * nr // lanes
        out = run(initial(row, first, rows, panel, col, cblock, local_row, vecs), row, rows, panel)
        # One store of the whole tile (rows x vecs*lanes; lowered to a store per vector): one
        # tensor op for bufferization to analyze, not one per accumulator.
        tile_type = ir.VectorType.get([rows, vecs, lanes], elem)
        value = arith.constant(tile_type, ir.DenseElementsAttr.get_splat(
            tile_type, ir.FloatAttr.get(elem, 0.0)))
        for i in range(rows):
            for v in range(vecs):
                acc = out[i * vecs + v]
                if last and epilogue is not None:
                    acc = epilogue.apply(acc, _add(row, i),
                                         _add(arith.muli(panel, _index(nr)), v * lanes), whole)
                value = vector.insert(acc, value, [], [i, v])
        flat = vector.shape_cast(ir.VectorType.get([rows, vecs * lanes], elem), value)
        return vector.transfer_write(cblock.type, flat, cblock, [local_row, col],
                                     ir.AffineMap.get_minor_identity(2, 2), [True, whole[0]])

    def for_range(lo: int | ir.Value, hi: int | ir.Value, step: int, init, body):
        lo = _index(lo) if isinstance(lo, int) else lo
        hi = _index(hi) if isinstance(hi, int) else hi
        loop = scf.ForOp(lo, hi, _index(step), [init])
        with ir.InsertionPoint(loop.body):
            scf.YieldOp([body(loop.induction_variable, loop.inner_iter_args[0])])
        return loop.results[0]

    def compute(row0, rows: int, panel0, panels_here: int, cblock):
        """Rows row0 .. row0+rows (global) and panels panel0 .. (global) into cblock (local
        coordinates); row0/panel0 are index values."""
        mr = config.mr
        full = rows - rows % mr
        mc = config.mc if config.mc and full % config.mc == 0 else full
        # Rows the tiles leave: a last whole tile ending at the last row, recomputing rows
        # already done (the same values: one pass from a fresh start), in the loop's one
        # body; else a smaller tile of its own, which is as much code again.
        overlap = full < rows and full and start.kind != "load" and len(passes) == 1
        for b, run in enumerate(passes):
            first, last = b == 0, b == len(passes) - 1

            def panel_body(jj, cb, m_lo, m_hi, tile_rows, tile_panels):
                """Tiles of rows m_lo .. m_hi (index values) of panels jj .. jj+tile_panels."""
                panel = arith.addi(panel0, jj)
                col = arith.muli(jj, _index(nr))

                def tile_body(t, cb2):
                    if overlap:
                        t = arith.minui(t, _index(rows - mr))
                    return tile(arith.addi(row0, t), t, tile_rows, panel, tile_panels, col, cb2,
                                run, first, last)
                return for_range(m_lo, m_hi, tile_rows, cb, tile_body)

            def panels_of(cb, m_lo, m_hi, tile_rows):
                """The tiles of rows m_lo .. m_hi, `width` panels at a time, then the odd
                panel left."""
                paired = panels_here - panels_here % width
                if paired:
                    cb = for_range(0, paired, width, cb, lambda jj, cb2: panel_body(
                        jj, cb2, m_lo, m_hi, tile_rows, width))
                if paired < panels_here:
                    cb = panel_body(_index(paired), cb, m_lo, m_hi, tile_rows, 1)
                return cb

            def m_block(mb, cb):
                end = _add(mb, mc)
                if overlap:  # the last block takes the overlapping tile too
                    at_end = arith.cmpi(arith.CmpIPredicate.eq, end, _index(full))
                    end = arith.select(at_end, _index(full + mr), end)
                return panels_of(cb, mb, end, mr)

            if full:
                cblock = for_range(0, full, mc, cblock, m_block)
            if rows > full and not overlap:
                cblock = panels_of(cblock, _index(full), _index(rows), rows - full)
        return cblock

    if not config.parallel_chunk:
        return compute(_index(0), m, _index(0), j_count, c)
    # Equal chunks in parallel, then what they leave (fewer rows or panels than a chunk).
    dim, chunk = config.parallel_dim, config.parallel_chunk
    size = lb.shape_of(c)[dim]
    parts = size // chunk
    split = parts * chunk

    def part(first, count: int, block):
        """Rows (dim 0) or columns (dim 1) first .. first+count of C into `block`."""
        if dim == 0:
            return compute(first, count, _index(0), j_count, block)
        return compute(_index(0), m, arith.divui(first, _index(nr)), -(-count // nr), block)

    def block_of(first, block):
        return part(first, chunk, block)

    if split == size:
        return forall_blocks(c, dim, parts, block_of)
    c = lb.update_slice(c, dim, 0, split, lambda head: forall_blocks(head, dim, parts, block_of))
    return lb.update_slice(c, dim, split, size - split,
                           lambda block: part(_index(split), size - split, block))
