"""Import of ONNX reductions: Reduce* (axes as attribute or input, keepdims,
noop_with_empty_axes) and ArgMax/ArgMin, normalized to sorted non-negative axes."""

from itertools import combinations

import numpy as np
from mlir import ir

from mlc import dtypes

from .decompose import Decomposition
from .math_ops import convert
from .node import NodeImport, element_type

HANDLERS = {}

# Kinds whose "no axes, noop" form is the input unchanged.
_PLAIN = {"reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod"}


def _reduce(mlc_name: str):
    def handler(n: NodeImport):
        dtype = n.out_dtype()
        if dtype.name == "bool" and mlc_name in ("reduce_max", "reduce_min"):
            return _bool_any_all(n, mlc_name)
        if not dtype.is_float and (dtype.is_unsigned or mlc_name in
                                   ("reduce_l2", "reduce_log_sum", "reduce_log_sum_exp")):
            raise n.unsupported(f"{n.op_type} on {dtype.name} is not supported")
        return _over_axes(n, mlc_name, lambda axes: n.op(mlc_name, [n.input(0)], axes=axes))
    return handler


def _over_axes(n: NodeImport, mlc_name: str, reduce):
    """`reduce(axes)` over the node's axes. Axes given at run time whose output shape fits
    several choices: each choice is reduced, and the axes pick one at run time."""
    choices = _axes(n, mlc_name)
    if choices is None:
        return n.input(0)
    result = reduce(choices[0])
    for axes in choices[1:]:
        result = n.op("where", [_axes_are(n, axes), reduce(axes), result])
    return result


def _axes_are(n: NodeImport, axes: list[int]) -> ir.Value:
    """Whether the run-time axes (input 1) name every non-unit dim of `axes`: a bool scalar."""
    rank, shape = len(n.in_shape(0)), n.in_shape(0)
    given = n.input(1)
    vector = ir.RankedTensorType(given.type)
    flags = ir.RankedTensorType.get(vector.shape, ir.IntegerType.get_signless(1))
    scalar_i32 = ir.RankedTensorType.get([], ir.IntegerType.get_signless(32))
    negative = n.op("compare", [given, n.constant(np.array(0, np.int64))], flags,
                    predicate="lt", unsigned=0)
    given = n.op("where", [negative, n.op("add", [given, n.constant(np.array(rank, np.int64))],
                                          vector), given], vector)
    i32, bool_ = dtypes.BY_NAME["int32"], dtypes.BY_NAME["bool"]
    every = None
    for d in (d for d in axes if shape[d] != 1):
        hits = n.op("compare", [given, n.constant(np.array(d, np.int64))], flags,
                    predicate="eq", unsigned=0)
        named = n.op("reduce_max", [convert(n, hits, bool_, i32)], scalar_i32, axes=[0])
        every = named if every is None else n.op("min", [every, named], scalar_i32)
    return n.op("compare", [every, n.constant(np.array(1, np.int32))],
                ir.RankedTensorType.get([], ir.IntegerType.get_signless(1)), predicate="ge",
                unsigned=0)


def _axes(n: NodeImport, mlc_name: str) -> list[list[int]] | None:
    """The choices of reduced axes (sorted, non-negative; one unless they come at run time);
    None when the node is a no-op."""
    rank = len(n.in_shape(0))
    if n.has_input(1) and n.const(1) is None:
        return _axes_from_shapes(n)
    if n.has_input(1):
        axes = [int(a) for a in n.const(1).reshape(-1)]
    else:
        axes = list(n.attr("axes", []))
    if not axes:
        if n.attr("noop_with_empty_axes", 0):
            if mlc_name not in _PLAIN:
                raise n.unsupported(f"{n.op_type} with noop_with_empty_axes is not supported")
            return None
        axes = list(range(rank))
    return [sorted({a + rank if a < 0 else a for a in axes})]


def _bool_any_all(n: NodeImport, mlc_name: str):
    """ReduceMax (any) and ReduceMin (all) of bools: the same reduction of 0/1 in int32, whose
    empty-set values (INT32_MIN, INT32_MAX) read as false and true, as numpy's do."""
    i32 = dtypes.BY_NAME["int32"]
    wide = convert(n, n.input(0), dtypes.BY_NAME["bool"], i32)
    reduced_type = ir.RankedTensorType.get(n.out_shape(), element_type(i32))
    reduced = _over_axes(n, mlc_name, lambda axes: n.op(mlc_name, [wide], reduced_type, axes=axes))
    if reduced is n.input(0):
        return reduced
    one = n.constant(np.array(1, np.int32))
    return n.op("compare", [reduced, one], n.out_type(), predicate="ge", unsigned=0)


def _axes_from_shapes(n: NodeImport) -> list[list[int]]:
    """Axes given at run time: with static shapes the output shape says which dims are
    reduced, up to the choice among unit dims (which reduce to the same values) and, without
    keepdims, among dims of equal sizes (each such choice is kept)."""
    in_shape, out_shape = n.in_shape(0), n.out_shape()
    rank = len(in_shape)
    if n.attr("keepdims", 1):
        if len(out_shape) != rank:
            raise n.unsupported("axes given at run time with an output rank that does not match")
        axes = [d for d in range(rank) if out_shape[d] != in_shape[d]]
        if any(out_shape[d] != 1 for d in axes):
            raise n.unsupported("axes given at run time do not match the output shape")
        if not axes and not n.attr("noop_with_empty_axes", 0):
            axes = [d for d in range(rank) if in_shape[d] == 1] or list(range(rank))
        return [axes]
    dropped = rank - len(out_shape)
    choices = {}  # the non-unit dims reduced -> one full choice of axes
    for c in combinations(range(rank), dropped):
        if [in_shape[d] for d in range(rank) if d not in c] == out_shape:
            choices.setdefault(frozenset(d for d in c if in_shape[d] != 1), list(c))
    if not choices:
        raise n.unsupported("axes given at run time do not match the output shape")
    # The choice of unit dims alone (if any) goes first: it is the default, never tested.
    return [choices[k] for k in sorted(choices, key=len)]


def _arg(mlc_name: str):
    def handler(n: NodeImport):
        if n.in_type(0) and not n.out_dtype().numpy == np.int64:
            raise n.unsupported("the index output must be int64")
        rank = len(n.in_shape(0))
        axis = n.attr("axis", 0)
        axis = axis + rank if axis < 0 else axis
        return n.op(mlc_name, [n.input(0)], axis=axis,
                    select_last_index=n.attr("select_last_index", 0))
    return handler


for _onnx, _mlc in {"ReduceSum": "reduce_sum", "ReduceMean": "reduce_mean",
                    "ReduceMax": "reduce_max", "ReduceMin": "reduce_min",
                    "ReduceProd": "reduce_prod", "ReduceSumSquare": "reduce_sum_square",
                    "ReduceL1": "reduce_l1", "ReduceL2": "reduce_l2",
                    "ReduceLogSum": "reduce_log_sum",
                    "ReduceLogSumExp": "reduce_log_sum_exp"}.items():
    HANDLERS[_onnx] = _reduce(_mlc)
HANDLERS["ArgMax"] = _arg("arg_max")
HANDLERS["ArgMin"] = _arg("arg_min")


# -- scans, selection and contractions ---------------------------------------------------------
def _scan(mlc_name: str):
    """CumSum or CumProd: the axis is an input, constant or chosen at run time."""
    def handler(n: NodeImport):
        rank = len(n.in_shape(0))
        flags = {"exclusive": n.attr("exclusive", 0), "reverse": n.attr("reverse", 0)}
        axis = n.const(1)
        if axis is None:  # chosen at run time among the rank possible axes
            return n.op(mlc_name, [n.input(0), n.input(1)], axis=0, **flags)
        axis = int(np.asarray(axis).reshape(-1)[0])
        if not -rank <= axis < rank:
            raise n.unsupported(f"axis {axis} is out of range for rank {rank}")
        return n.op(mlc_name, [n.input(0)], axis=axis + rank if axis < 0 else axis, **flags)
    return handler


def _top_k(n: NodeImport):
    from mlir import ir

    rank = len(n.in_shape(0))
    axis = n.attr("axis", -1)
    if not -rank <= axis < rank:
        raise n.unsupported(f"axis {axis} is out of range for rank {rank}")
    axis = axis + rank if axis < 0 else axis
    if n.opset < 10:
        k = n.attr("k")
    else:
        k = n.const(1)  # a run-time k: the static output shape says it
        k = n.out_shape(0)[axis] if k is None else int(np.asarray(k).reshape(-1)[0])
    if k != n.out_shape(0)[axis]:
        raise n.unsupported(f"k = {k} does not match the output shape {n.out_shape(0)}")
    op = ir.Operation.create(
        "mlc.top_k", results=[n.out_type(0), n.out_type(1)], operands=[n.input(0)],
        attributes={"axis": ir.IntegerAttr.get(ir.IntegerType.get_signless(64), axis),
                    "largest": ir.IntegerAttr.get(ir.IntegerType.get_signless(64),
                                                  n.attr("largest", 1)),
                    "unsigned": ir.IntegerAttr.get(ir.IntegerType.get_signless(64),
                                                   int(n.in_dtype(0).is_unsigned))},
        loc=n.loc)
    return list(op.results)


def _einsum_terms(n: NodeImport, equation: str, ranks: list[int]) -> tuple[list[str], str]:
    """Explicit letter terms: '...' spelled out with spare letters, the implicit output made
    explicit (letters used once, in alphabetical order, after the broadcast dims)."""
    equation = equation.replace(" ", "")
    inputs, arrow, output = equation.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(ranks):
        raise n.unsupported(f"equation '{equation}' names {len(terms)} operands, not {len(ranks)}")
    spare = [c for c in "ZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in equation]
    widest = max([r - len(t.replace("...", "")) for t, r in zip(terms, ranks) if "..." in t],
                 default=0)
    dots = "".join(spare[:widest][::-1])
    terms = [t.replace("...", dots[len(dots) - (r - len(t.replace("...", ""))):])
             for t, r in zip(terms, ranks)]
    if arrow:
        output = output.replace("...", dots)
    else:
        letters = "".join(terms)
        output = dots + "".join(sorted(c for c in set(letters)
                                       if letters.count(c) == 1 and c not in dots))
    for t, r in zip(terms, ranks):
        if len(t) != r or (t and not t.isalpha()):
            raise n.unsupported(f"equation term '{t}' does not fit an operand of rank {r}")
    return terms, output


def _einsum(n: NodeImport):
    from mlir import ir

    operands = n.inputs()
    ranks = [len(n.in_shape(i)) for i in range(len(operands))]
    terms, output = _einsum_terms(n, n.attr("equation"), ranks)
    elem = n.out_type().element_type
    sizes = {}
    for i, term in enumerate(terms):
        for c, d in zip(term, n.in_shape(i)):
            sizes[c] = max(sizes.get(c, 1), d)
    # More than two operands: contract pairwise, keeping the letters still needed later.
    value, term = operands[0], terms[0]
    if len(operands) == 1:
        return n.op("einsum", [value], equation=f"{term}->{output}")
    for i in range(1, len(operands)):
        later = "".join(terms[i + 1:]) + output
        if i == len(operands) - 1:
            kept = output
        else:
            seen = term + terms[i]
            kept = "".join(dict.fromkeys(c for c in seen if c in later))
        type_ = ir.RankedTensorType.get([sizes[c] for c in kept], elem)
        value = n.op("einsum", [value, operands[i]], type_, equation=f"{term},{terms[i]}->{kept}")
        term = kept
    return value


HANDLERS.update({"CumSum": _scan("cumsum"), "CumProd": _scan("cumprod"), "TopK": _top_k,
                 "Einsum": _einsum})


def _lp_normalization(n: NodeImport):
    """x / ||x||_p along `axis` (0 where the norm is 0, as onnx's reference has it), imported
    as the ONNX nodes it is: ReduceL1/L2, Div, and a Where for the zero norms."""
    p, axis = n.attr("p", 2), n.attr("axis", -1)
    if p not in (1, 2):
        raise n.unsupported(f"p = {p} (ONNX defines p = 1 and p = 2)")
    g = Decomposition()
    x = g.input(n.bound(0))
    reduce = "ReduceL2" if p == 2 else "ReduceL1"
    if n.opset >= 18:  # axes became an input
        norm = g.op(reduce, x, g.const([axis], np.int64), keepdims=1)
    else:
        norm = g.op(reduce, x, axes=[axis], keepdims=1)
    zero = g.const(0, n.bound(0).dtype.numpy)
    return g.import_into(n, g.op("Where", g.op("Equal", norm, zero), zero, g.op("Div", x, norm)),
                         "lp")


HANDLERS["LpNormalization"] = _lp_normalization
