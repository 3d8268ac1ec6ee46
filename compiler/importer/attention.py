"""Import of ONNX Attention (opsets 23 to 25) as mlc ops: reshapes, matmuls, softmax, masks.

The op is decomposed the way its spec draws it: Q and K scaled by sqrt(scale), K transposed,
QK matmul, optional softcap, plus an additive bias, softmax, matmul with V. Every part of the
bias that is known at compile time (causal frontier, sliding window, nonpad_kv_seqlen padding,
a constant attn_mask) is folded into one numpy constant; a run-time attn_mask, and the
frontiers of a run-time nonpad_kv_seqlen, are added to it.
A query row whose bias is all -inf attends nothing and yields zeros, not NaN, as onnx's
reference does: such rows are selected away after the softmax.
"""

import numpy as np
from mlir import ir

from mlc import dtypes

from .node import NodeImport


class _Values:
    """Builds mlc ops whose result types follow from shapes computed here."""

    def __init__(self, n: NodeImport):
        self.n = n
        self.elem = n.in_type(0).element_type
        self.dtype = n.out_dtype(0).numpy

    def type(self, shape, elem=None):
        return ir.RankedTensorType.get(list(shape), elem or self.elem)

    def op(self, name, operands, shape, elem=None, **attrs):
        return self.n.op(name, operands, self.type(shape, elem), **attrs)

    def scalar(self, value):
        return self.n.constant(np.array(value, self.dtype))


def _shape(value: ir.Value) -> list[int]:
    return list(ir.RankedTensorType(value.type).shape)


def _split_heads(b: _Values, value, heads: int):
    """[B, S, H * D] -> [B, H, S, D]."""
    batch, seq, hidden = _shape(value)
    split = b.op("reshape", [value], [batch, seq, heads, hidden // heads])
    return b.op("transpose", [split], [batch, heads, seq, hidden // heads], perm=[0, 2, 1, 3])


def _allowed_bias(allowed: np.ndarray, dtype) -> np.ndarray:
    return np.where(allowed, dtype.type(0), dtype.type(-np.inf)).astype(dtype)


def _frontier_bias(n: NodeImport, dtype, q_len: int, kv_len: int, offset) -> np.ndarray:
    """The causal and sliding-window bias: query i (at absolute position i + offset, offset
    a scalar or one per batch) attends key j iff j <= i + offset and the window allows it."""
    i = np.arange(q_len).reshape(q_len, 1)
    j = np.arange(kv_len).reshape(1, kv_len)
    offset = np.asarray(offset)
    if offset.ndim:
        i = i + offset.reshape(-1, 1, 1, 1)  # [B, 1, q, 1]
    else:
        i = i + int(offset)
    allowed = np.ones(np.broadcast_shapes(i.shape, j.shape), bool)
    if n.attr("is_causal", 0):
        allowed &= j <= i
    left, right = n.attr("left_window_size", -1), n.attr("right_window_size", -1)
    if left >= 0:
        allowed &= i - j <= left
    if right >= 0:
        allowed &= j - i <= right
    return _allowed_bias(allowed, dtype)


def _run_time_frontier(b: _Values, n: NodeImport, batch: int, q_len: int, kv_len: int):
    """The bias of a run-time nonpad_kv_seqlen L[b] (an external cache): key j is padding
    when j >= L[b], and the causal and window frontiers sit at offset L[b] - q_len. Each rule
    is a constant of (i, j) compared with L[b]."""
    i64 = ir.IntegerType.get_signless(64)
    lens = n.op("reshape", [n.input(6)], ir.RankedTensorType.get([batch, 1, 1, 1], i64))
    i = np.arange(q_len).reshape(1, 1, q_len, 1)
    j = np.arange(kv_len).reshape(1, 1, 1, kv_len)
    rules = [("lt", j)]  # j < L
    if n.attr("is_causal", 0):
        rules.append(("le", j - i + q_len))  # j <= i + L - q_len
    left, right = n.attr("left_window_size", -1), n.attr("right_window_size", -1)
    if left >= 0:
        rules.append(("ge", left + q_len + j - i))  # i + L - q_len - j <= left
    if right >= 0:
        rules.append(("le", j - i + q_len - right))  # j - (i + L - q_len) <= right
    total = None
    for predicate, lhs in rules:
        shape = [batch, 1, lhs.shape[2], kv_len]
        allowed = b.op("compare", [n.constant(lhs.astype(np.int64)), lens], shape,
                       ir.IntegerType.get_signless(1), predicate=predicate, unsigned=0)
        bias = b.op("where", [allowed, b.scalar(0), b.scalar(-np.inf)], shape)
        if total is not None:
            shape = list(np.broadcast_shapes(tuple(_shape(total)), tuple(shape)))
            bias = b.op("add", [total, bias], shape)
        total = bias
    return total


def _mask_bias(b: _Values, n: NodeImport, kv_len: int):
    """attn_mask as an additive bias, its last dim padded to kv_len: a numpy array when the
    mask is a constant, else an MLIR value; None without a mask."""
    if not n.has_input(3):
        return None
    mask = n.const(3)
    is_bool = n.in_dtype(3).name == "bool"
    if mask is not None:
        short = kv_len - mask.shape[-1]
        if short > 0:
            fill = False if mask.dtype == np.bool_ else -np.inf
            mask = np.pad(mask, [(0, 0)] * (mask.ndim - 1) + [(0, short)], constant_values=fill)
        return _allowed_bias(mask, b.dtype) if mask.dtype == np.bool_ else mask.astype(b.dtype)
    value, shape = n.input(3), n.in_shape(3)
    short = kv_len - shape[-1]
    if short > 0:
        block = np.full(shape[:-1] + [short], False if is_bool else -np.inf,
                        np.bool_ if is_bool else b.dtype)
        shape = shape[:-1] + [kv_len]
        elem = ir.RankedTensorType(value.type).element_type
        value = b.op("concat", [value, n.constant(block)], shape, elem, axis=len(shape) - 1)
    if is_bool:
        value = b.op("where", [value, b.scalar(0), b.scalar(-np.inf)], shape)
    return value


def attention(n: NodeImport):
    if not n.out_dtype(0).is_float:
        raise n.unsupported(f"Attention on {n.out_dtype(0).name} is not supported")
    b = _Values(n)
    q, k, v = n.input(0), n.input(1), n.input(2)
    three_d = len(n.in_shape(0)) == 3
    if three_d:
        q = _split_heads(b, q, n.attr("q_num_heads"))
        k = _split_heads(b, k, n.attr("kv_num_heads"))
        v = _split_heads(b, v, n.attr("kv_num_heads"))
    past_len = 0
    if n.has_input(4) and n.has_input(5):
        past_len = n.in_shape(4)[2]
        k_shape, v_shape = _shape(k), _shape(v)
        k = b.op("concat", [n.input(4), k], k_shape[:2] + [past_len + k_shape[2], k_shape[3]], axis=2)
        v = b.op("concat", [n.input(5), v], v_shape[:2] + [past_len + v_shape[2], v_shape[3]], axis=2)
    present_k, present_v = k, v
    batch, q_heads, q_len, head = _shape(q)
    kv_heads, kv_len = _shape(k)[1], _shape(k)[2]

    scale = n.attr("scale")
    root = b.dtype.type(np.sqrt(1.0 / np.sqrt(head) if scale is None else scale))
    q = b.op("mul", [q, b.scalar(root)], _shape(q))
    k = b.op("mul", [k, b.scalar(root)], _shape(k))
    if q_heads != kv_heads:  # grouped-query attention: each KV head serves q_heads / kv_heads
        index = n.constant(np.repeat(np.arange(kv_heads, dtype=np.int64), q_heads // kv_heads))
        k = b.op("gather", [k, index], [batch, q_heads, kv_len, head], axis=1)
        v = b.op("gather", [v, index], [batch, q_heads, kv_len, _shape(v)[3]], axis=1)
    k_t = b.op("transpose", [k], [batch, q_heads, head, kv_len], perm=[0, 1, 3, 2])
    scores_shape = [batch, q_heads, q_len, kv_len]
    scores = b.op("matmul", [q, k_t], scores_shape)
    qk_outputs = [scores]
    softcap = n.attr("softcap", 0.0)
    if softcap > 0:
        capped = b.op("tanh", [b.op("div", [scores, b.scalar(softcap)], scores_shape)], scores_shape)
        scores = b.op("mul", [capped, b.scalar(softcap)], scores_shape)
    qk_outputs.append(scores)

    # The additive bias: compile-time parts folded into one array, a run-time mask added.
    nonpad = n.const(6) if n.has_input(6) else None
    run_time_lengths = n.has_input(6) and nonpad is None
    if run_time_lengths:
        bias = np.zeros((q_len, kv_len), b.dtype)
    else:
        offset = past_len if nonpad is None else nonpad.reshape(-1) - q_len
        bias = _frontier_bias(n, b.dtype, q_len, kv_len, offset)
    if nonpad is not None:
        padding = np.arange(kv_len)[None, :] < nonpad.reshape(-1, 1)
        bias = bias + _allowed_bias(padding, b.dtype).reshape(batch, 1, 1, kv_len)
    mask = _mask_bias(b, n, kv_len)
    if isinstance(mask, np.ndarray):
        bias, mask = bias + mask, None
    if run_time_lengths:
        frontier = _run_time_frontier(b, n, batch, q_len, kv_len)
        if mask is not None:
            shape = list(np.broadcast_shapes(tuple(_shape(mask)), tuple(_shape(frontier))))
            frontier = b.op("add", [mask, frontier], shape)
        mask = frontier
    if mask is None:
        bias_value = n.constant(bias) if (bias != 0).any() else None
        masked_rows = np.isneginf(bias.max(axis=-1, keepdims=True))
        guard = n.constant(masked_rows) if masked_rows.any() else None
    else:
        bias_shape = list(np.broadcast_shapes(tuple(_shape(mask)), bias.shape))
        bias_value = b.op("add", [mask, n.constant(bias)], bias_shape) if (bias != 0).any() else mask
        bias_shape = _shape(bias_value)
        row_max = b.op("reduce_max", [bias_value], bias_shape[:-1] + [1],
                       axes=[len(bias_shape) - 1])
        guard = b.op("compare", [row_max, b.scalar(-np.inf)], bias_shape[:-1] + [1],
                     ir.IntegerType.get_signless(1), predicate="eq", unsigned=0)
    if bias_value is not None:
        scores = b.op("add", [scores, bias_value], scores_shape)
    qk_outputs.append(scores)

    precision = dtypes.from_onnx(n.attr("softmax_precision", 0))
    if precision is not None and precision.numpy != b.dtype:
        wide = b.type(scores_shape, ir.Type.parse(precision.mlir))
        probs = n.op("softmax", [n.op("cast", [scores], wide)], wide, axis=3)
        probs = b.op("cast", [probs], scores_shape)
    else:
        probs = b.op("softmax", [scores], scores_shape, axis=3)
    if guard is not None:
        probs = b.op("where", [guard, b.scalar(0), probs], scores_shape)
    qk_outputs.append(probs)

    y = b.op("matmul", [probs, v], [batch, q_heads, q_len, _shape(v)[3]])
    if three_d:
        y = b.op("transpose", [y], [batch, q_len, q_heads, _shape(v)[3]], perm=[0, 2, 1, 3])
        y = b.op("reshape", [y], [batch, q_len, q_heads * _shape(v)[3]])
    return [y, present_k, present_v, qk_outputs[n.attr("qk_matmul_output_mode", 0)]]

