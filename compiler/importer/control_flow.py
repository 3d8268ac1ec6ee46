"""Import of ONNX control flow (If, Loop, Scan): subgraphs inlined and unrolled at import time.

mlc compiles static shapes, so control flow becomes straight-line code:
- If with a compile-time condition imports the taken branch only; with a run-time condition
  both branches are imported and each output is chosen by `mlc.where` (the branches must
  agree on shapes and element types).
- Scan imports its body once per step, the step's slices of the scan inputs bound.
- Loop imports its body once per iteration, with the iteration number a constant, so shape
  arithmetic on it folds. A loop with scan outputs runs as many iterations as their static
  length says (the only count for which the model's declared shapes hold, whatever the
  run-time trip count and condition are). Otherwise the trip count must be known; the loop
  stops where the condition folds to false, and a condition known only at run time freezes
  the loop-carried values, through `mlc.where`, from the iteration where it turns false.
Past MAX_ITERATIONS iterations, or MAX_UNROLLED_NODES body nodes in all, import stops with an
UnsupportedError.
"""

import numpy as np
from mlir import ir

from mlc import dtypes

from .node import Bound, NodeImport

MAX_ITERATIONS = 1024
MAX_UNROLLED_NODES = 100_000

HANDLERS = {}

_BOOL = dtypes.BY_NAME["bool"]
_INT64 = dtypes.BY_NAME["int64"]


def _check_budget(n: NodeImport, iterations: int, graph_attr: str) -> None:
    nodes = iterations * len(n.attr(graph_attr).node)
    if iterations > MAX_ITERATIONS or nodes > MAX_UNROLLED_NODES:
        raise n.unsupported(f"unrolling {iterations} iterations ({nodes} body nodes) is past "
                            f"mlc's limit of {MAX_ITERATIONS} iterations or "
                            f"{MAX_UNROLLED_NODES} unrolled nodes")


def _typed(value: ir.Value, shape) -> ir.RankedTensorType:
    return ir.RankedTensorType.get(list(shape), ir.RankedTensorType(value.type).element_type)


def _take(n: NodeImport, x: Bound, axis: int, index: int) -> Bound:
    """x[..., index, ...] along `axis`, that dim removed."""
    if isinstance(x.value, np.ndarray):
        return Bound(np.take(x.value, index, axis=axis), x.dtype)
    shape = x.shape
    offsets = [0] * len(shape)
    offsets[axis] = index
    sizes = shape[:axis] + [1] + shape[axis + 1:]
    piece = n.op("slice", [x.value], _typed(x.value, sizes), offsets=offsets,
                 strides=[1] * len(shape))
    return Bound(n.op("reshape", [piece], _typed(x.value, shape[:axis] + shape[axis + 1:])), x.dtype)


def _stack(n: NodeImport, items: list[Bound], axis: int) -> Bound:
    """The items stacked along a new dim `axis`."""
    dtype = items[0].dtype
    if all(isinstance(b.value, np.ndarray) for b in items):
        return Bound(np.stack([b.value for b in items], axis=axis), dtype)
    shape = items[0].shape
    if any(b.shape != shape for b in items):
        raise n.unsupported("the subgraph's scan output changes shape between iterations")
    one = shape[:axis] + [1] + shape[axis:]
    total = None
    for i, b in enumerate(items):
        value = n.materialize(b)
        piece = n.op("reshape", [value], _typed(value, one))
        if total is None:
            total = piece
        else:
            grown = shape[:axis] + [i + 1] + shape[axis:]
            total = n.op("concat", [total, piece], _typed(value, grown), axis=axis)
    return Bound(total, dtype)


def _select(n: NodeImport, cond: ir.Value, then: Bound, other: Bound) -> Bound:
    """then where cond else other; `cond` is a one-element bool tensor."""
    if then.shape != other.shape or then.dtype != other.dtype:
        raise n.unsupported(f"the branches' outputs differ ({then.dtype.name}{then.shape} and "
                            f"{other.dtype.name}{other.shape}), which a run-time condition "
                            "cannot choose between in a static-shape program")
    if (isinstance(then.value, np.ndarray) and isinstance(other.value, np.ndarray)
            and np.array_equal(then.value, other.value)):
        return then
    a, b = n.materialize(then), n.materialize(other)
    return Bound(n.op("where", [cond, a, b], a.type), then.dtype)


def _scalar_cond(n: NodeImport, value: ir.Value) -> ir.Value:
    """A one-element bool tensor as a rank-0 one, which broadcasts against any shape."""
    if ir.RankedTensorType(value.type).shape == []:
        return value
    return n.op("reshape", [value], _typed(value, []))


def _if(n: NodeImport):
    cond = n.const(0)
    if cond is not None:
        taken = "then_branch" if bool(np.asarray(cond).reshape(-1)[0]) else "else_branch"
        return n.import_subgraph(taken, [], taken.split("_")[0])
    then = n.import_subgraph("then_branch", [], "then")
    other = n.import_subgraph("else_branch", [], "else")
    flag = _scalar_cond(n, n.input(0))
    return [_select(n, flag, a, b) for a, b in zip(then, other)]


def _static_scan_length(n: NodeImport, first: int) -> int | None:
    """The number of iterations the Loop's scan outputs (outputs from `first` on) declare."""
    lengths = set()
    for i in range(first, len(n.node.output)):
        try:
            size = n.out_shape(i)[0]
        except Exception:  # noqa: BLE001 - no shape at all: the count stays unknown
            return None
        if size < 0:  # a symbolic length
            return None
        lengths.add(size)
    if len(lengths) > 1:
        raise n.unsupported(f"the scan outputs declare different lengths {sorted(lengths)}")
    return lengths.pop() if lengths else None


def _known(bound: Bound) -> bool:
    return isinstance(bound.value, np.ndarray)


def _loop(n: NodeImport):
    carried = [n.bound(i) for i in range(2, n.num_inputs)]
    num_scan = len(n.attr("body").output) - 1 - len(carried)
    trip = n.const(0) if n.has_input(0) else None
    limit = int(trip.reshape(-1)[0]) if trip is not None else None
    cond = n.bound(1) if n.has_input(1) else Bound(np.array(True), _BOOL)
    # With scan outputs every iteration must run (their length is the count): a declared
    # length overrides any run-time trip count and condition; no iteration is masked.
    length = _static_scan_length(n, len(carried)) if num_scan else None
    if length is not None:
        if limit is not None and limit < length:
            raise n.unsupported(f"the trip count {limit} is below the scan outputs' "
                                f"declared length {length}")
        limit = length
    elif n.has_input(0) and trip is None:
        raise n.unsupported("a trip count known only at run time (mlc unrolls loops; a loop "
                            "whose scan outputs have a static length is the exception)")
    if limit is not None:
        _check_budget(n, limit, "body")

    active = None  # once the condition is known only at run time: whether the loop still runs
    pieces: list[list[Bound]] = []
    i = 0
    while limit is None or i < limit:
        if _known(cond) and not cond.value.reshape(-1)[0]:
            if length is not None:
                raise n.unsupported(f"the condition ends the loop after {i} iterations, "
                                    f"the scan outputs declare {length}")
            break
        if not _known(cond) and length is None:
            if limit is None or num_scan:
                raise n.unsupported("a condition known only at run time, with no trip count or "
                                    "with scan outputs of no static length")
            flag = _scalar_cond(n, cond.value)
            active = flag if active is None else n.op("and", [active, flag], flag.type)
        if limit is None:
            _check_budget(n, i + 1, "body")
        outs = n.import_subgraph("body", [Bound(np.array(i, np.int64), _INT64), cond, *carried],
                                 f"iter{i}")
        cond, new = outs[0], outs[1:1 + len(carried)]
        pieces.append(outs[1 + len(carried):])
        carried = new if active is None else [_select(n, active, a, b) for a, b in zip(new, carried)]
        i += 1
    if num_scan and not pieces:
        raise n.unsupported("a Loop with scan outputs that runs no iteration")
    scans = [_stack(n, [p[k] for p in pieces], 0) for k in range(num_scan)]
    return [*carried, *scans]


def _axes(values, count: int, ranks: list[int]) -> list[int]:
    values = list(values) if values is not None else [0] * count
    return [a + r if a < 0 else a for a, r in zip(values, ranks)]


def _scan_steps(n: NodeImport, states: list[Bound], xs: list[Bound], in_axes, in_dirs,
                tag: str):
    """Runs the body over the scan inputs: the final states, and each step's scan outputs."""
    lengths = {x.shape[a] for x, a in zip(xs, in_axes)}
    if len(lengths) != 1:
        raise n.unsupported(f"the scan inputs have different lengths {sorted(lengths)}")
    steps = lengths.pop()
    _check_budget(n, steps, "body")
    pieces = []
    for t in range(steps):
        slices = [_take(n, x, a, steps - 1 - t if d else t) for x, a, d in zip(xs, in_axes, in_dirs)]
        outs = n.import_subgraph("body", [*states, *slices], f"{tag}step{t}")
        states = outs[:len(states)]
        pieces.append(outs[len(states):])
    return states, pieces


def _scan(n: NodeImport):
    num_scan = n.attr("num_scan_inputs")
    if n.opset < 9:
        return _scan8(n, num_scan)
    first = n.num_inputs - num_scan
    states = [n.bound(i) for i in range(first)]
    xs = [n.bound(i) for i in range(first, n.num_inputs)]
    in_axes = _axes(n.attr("scan_input_axes"), num_scan, [len(x.shape) for x in xs])
    in_dirs = list(n.attr("scan_input_directions") or [0] * num_scan)
    states, pieces = _scan_steps(n, states, xs, in_axes, in_dirs, "")
    num_out = len(n.node.output) - len(states)
    out_ranks = [len(pieces[0][k].shape) + 1 for k in range(num_out)] if pieces else [1] * num_out
    out_axes = _axes(n.attr("scan_output_axes"), num_out, out_ranks)
    out_dirs = list(n.attr("scan_output_directions") or [0] * num_out)
    if not pieces:
        raise n.unsupported("a Scan over zero steps")
    scans = []
    for k in range(num_out):
        items = [p[k] for p in pieces]
        scans.append(_stack(n, items[::-1] if out_dirs[k] else items, out_axes[k]))
    return [*states, *scans]


def _scan8(n: NodeImport, num_scan: int):
    """Opset 8's Scan: a batch dim leads every input and output; the body sees one batch
    entry at a time, scanned along dim 1."""
    first = n.num_inputs - num_scan
    states = [n.bound(i) for i in range(1, first)]
    xs = [n.bound(i) for i in range(first, n.num_inputs)]
    steps = xs[0].shape[1]
    lens = n.const(0)
    if n.has_input(0) and (lens is None or np.any(lens != steps)):
        raise n.unsupported("sequence_lens shorter than the scan inputs (opset 8 Scan)")
    dirs = list(n.attr("directions") or [0] * num_scan)
    batch = xs[0].shape[0]
    finals, outputs = [], []
    for b in range(batch):
        state_b = [_take(n, s, 0, b) for s in states]
        xs_b = [_take(n, x, 0, b) for x in xs]
        state_b, pieces = _scan_steps(n, state_b, xs_b, [0] * num_scan, dirs, f"batch{b}/")
        finals.append(state_b)
        outputs.append([_stack(n, [p[k] for p in pieces], 0) for k in range(len(pieces[0]))])
    return ([_stack(n, [f[k] for f in finals], 0) for k in range(len(states))]
            + [_stack(n, [o[k] for o in outputs], 0) for k in range(len(outputs[0]))])


HANDLERS.update({
    "If": _if,
    "Loop": _loop,
    "Scan": _scan,
})
