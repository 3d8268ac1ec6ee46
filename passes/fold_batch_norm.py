"""mlc-fold-batch-norm: an inference BatchNorm after a conv becomes the conv's weights and bias.

Input: the mlc dialect. A `mlc.batch_norm` whose input is a `mlc.conv` used by it alone, whose
filter, bias (if any), scale, bias, mean and variance are all `mlc.constant`s, folds:
    s  = scale / sqrt(var + eps)
    W' = W * s[:, None, ...]             (output channel is the filter's first dim)
    b' = (b - mean) * s + bias           (b = 0 when the conv has none)
Output: one `mlc.conv` with new constants (made by the `WeightStore`, so large ones stay
binary resource blobs), the BatchNorm gone. A per-channel scale or shift after a conv (an
`mlc.mul` or `mlc.add` by a constant that varies along the channels only, as exporters
write a BatchNorm's affine part) folds the same way: W' = W * s[:, None, ...] and
b' = b * s; b' = b + t. Arithmetic is done in float64 and stored in the filter's dtype.
Splat constants (`dense<0.02>`) are read as splats.

Each folding, and each BatchNorm left alone with the reason, is returned as a record and kept
on the module as `mlc.graph` (op -> what happened); `mlc compile --report` prints them.
"""

import re

import numpy as np
from mlir import ir

from mlc.passes.linalg_builders import producer
from mlc.weights import WeightStore

RECORD_ATTR = "mlc.graph"


_FLOATS = {"f16": np.float16, "f32": np.float32, "f64": np.float64}


def float_constant(value: ir.Value, store: WeightStore) -> np.ndarray | None:
    """The array a float `mlc.constant` result holds, or None when `value` is not one."""
    owner = producer(value)
    if owner is None or owner.name != "mlc.constant":
        return None
    type_ = ir.RankedTensorType(value.type)
    np_dtype = _FLOATS.get(str(type_.element_type))
    if np_dtype is None:
        return None
    text = str(owner.attributes["value"])
    if text.startswith("dense_resource<"):
        data = store.blobs.get(re.match(r'dense_resource<"?([^">]+)"?>', text).group(1))
        if data is None:
            return None
        # Blobs read back from MLIR text are bytes.
        return np.ascontiguousarray(data).view(np_dtype).reshape(type_.shape)
    dense = ir.DenseElementsAttr(owner.attributes["value"])
    if dense.is_splat:
        return np.full(type_.shape, ir.FloatAttr(dense.get_splat_value()).value, np_dtype)
    return np.array(dense).astype(np_dtype).reshape(type_.shape)


def viewed_constant(value: ir.Value, store: WeightStore) -> np.ndarray | None:
    """`float_constant`, also through `mlc.reshape` and `mlc.transpose` of one: a weight the
    importer left as a view (it folds no copies of weights; a pass storing one anew, in
    panels or HWCF, folds the view into what it stores)."""
    op = producer(value)
    if op is None or op.name not in ("mlc.reshape", "mlc.transpose"):
        return float_constant(value, store)
    inner = viewed_constant(op.operands[0], store)
    if inner is None:
        return None
    if op.name == "mlc.transpose":
        return inner.transpose(list(ir.DenseI64ArrayAttr(op.attributes["perm"])))
    return inner.reshape(ir.RankedTensorType(value.type).shape)


def _floats(values: list[ir.Value], store: WeightStore) -> list[np.ndarray] | None:
    arrays = [float_constant(v, store) for v in values]
    return None if any(a is None for a in arrays) else arrays


def _why_not(bn, store: WeightStore) -> str | tuple:
    """The folded (filter, bias) arrays, or why this BatchNorm cannot fold."""
    conv = producer(bn.operands[0])
    if conv is None or conv.name != "mlc.conv":
        return f"input is {conv.name if conv else 'a graph input'}, not a conv"
    uses = list(bn.operands[0].uses)
    if len(uses) != 1:
        return "the conv's result has other users"
    stats = _floats(list(bn.operands[1:5]), store)
    if stats is None:
        return "scale, bias, mean or variance is not a float constant"
    conv_consts = _floats(list(conv.operands[1:]), store)
    if conv_consts is None:
        return "the conv's filter or bias is not a float constant"
    filt = conv_consts[0]
    scale, beta, mean, var = (a.astype(np.float64).reshape(-1) for a in stats)
    channels = filt.shape[0]
    if any(a.size != channels for a in (scale, beta, mean, var)):
        return "statistics do not match the conv's output channels"
    eps = ir.FloatAttr(bn.attributes["epsilon"]).value
    s = scale / np.sqrt(var + eps)
    bias = conv_consts[1].astype(np.float64).reshape(-1) if len(conv_consts) > 1 else 0.0
    new_filter = (filt.astype(np.float64) * s.reshape((-1,) + (1,) * (filt.ndim - 1)))
    new_bias = (bias - mean) * s + beta
    return new_filter.astype(filt.dtype), new_bias.astype(filt.dtype)


def _to_scale_shift(bn, store: WeightStore) -> bool:
    """A BatchNorm with constant statistics -> mlc.mul and mlc.add by per-channel constants
    (shaped [C, 1, ...] to broadcast), so no rsqrt is left per element; False when the
    statistics are not constants."""
    stats = _floats(list(bn.operands[1:5]), store)
    result_type = ir.RankedTensorType(bn.results[0].type)
    if stats is None or result_type.rank < 2:
        return False
    scale, beta, mean, var = (a.astype(np.float64).reshape(-1) for a in stats)
    eps = ir.FloatAttr(bn.attributes["epsilon"]).value
    s = scale / np.sqrt(var + eps)
    shape = (-1,) + (1,) * (result_type.rank - 2)
    dtype = stats[0].dtype
    name = location_name(bn.location)
    with ir.InsertionPoint(bn), bn.location:
        s_value = store.constant(s.astype(dtype).reshape(shape), f"{name}_scale", bn.location)
        t_value = store.constant((beta - mean * s).astype(dtype).reshape(shape), f"{name}_shift",
                                 bn.location)
        scaled = ir.Operation.create("mlc.mul", results=[result_type],
                                     operands=[bn.operands[0], s_value], loc=bn.location)
        shifted = ir.Operation.create("mlc.add", results=[result_type],
                                      operands=[scaled.result, t_value], loc=bn.location)
    bn.results[0].replace_all_uses_with(shifted.result)
    old = list(bn.operands[1:5])
    bn.erase()
    _erase_unused(old)
    return True


def _erase_unused(values: list[ir.Value]) -> None:
    """Erases the (constant) ops defining `values` that nothing uses any more, each once."""
    erased = []
    for value in values:
        op = producer(value)
        if op is not None and not any(op == e for e in erased) and not list(value.uses):
            erased.append(op)
    for op in erased:
        op.erase()


def fold_batch_norms(module_op, store: WeightStore) -> dict[str, str]:
    """Folds every foldable BatchNorm in place; returns {op location: what happened}."""
    bns = []
    module_op.walk(lambda op: (bns.append(op) if op.name == "mlc.batch_norm" else None,
                               ir.WalkResult.ADVANCE)[1])
    records = {}
    for bn in bns:
        key = f"mlc.batch_norm at {location_name(bn.location)}"
        folded = _why_not(bn, store)
        if isinstance(folded, str):
            records[key] = f"not folded: {folded}"
            if _to_scale_shift(bn, store):
                records[key] += "; became x * s + t (constant per-channel s, t)"
            continue
        name = _refold(producer(bn.operands[0]), bn, *folded, "_bn_filter", "_bn_bias", store)
        records[key] = f"folded into mlc.conv at {name}"
    return records


def _refold(conv, folded, new_filter: np.ndarray, new_bias: np.ndarray | None, filter_suffix: str,
            bias_suffix: str, store: WeightStore) -> str:
    """Replaces `conv` and `folded` (its only user, folded into it) by one conv with the new
    filter and bias (none: no bias) as constants; the constants only they used go. Returns
    the conv's name."""
    name = location_name(conv.location)
    with ir.InsertionPoint(conv), conv.location:
        w = store.constant(new_filter, name + filter_suffix, conv.location)
        operands = [conv.operands[0], w]
        if new_bias is not None:
            operands.append(store.constant(new_bias, name + bias_suffix, conv.location))
        new_conv = ir.Operation.create("mlc.conv", results=[folded.results[0].type],
                                       operands=operands,
                                       attributes={n: conv.attributes[n] for n in conv.attributes},
                                       loc=conv.location)
    folded.results[0].replace_all_uses_with(new_conv.result)
    old = list(conv.operands[1:]) + [v for v in folded.operands if v != conv.results[0]]
    folded.erase()
    conv.erase()
    _erase_unused(old)
    return name


def _per_channel(value: ir.Value, out_type, store: WeightStore) -> np.ndarray | None:
    """A constant that, broadcast against an NCHW conv output of `out_type`, varies along
    the channels only: as a vector over the channels (float64); None otherwise."""
    array = viewed_constant(value, store)  # often an Unsqueeze the importer left as a reshape
    shape = list(out_type.shape)
    if array is None or array.ndim > len(shape):
        return None
    dims = [1] * (len(shape) - array.ndim) + list(array.shape)
    if any(d != 1 for i, d in enumerate(dims) if i != 1) or dims[1] not in (1, shape[1]):
        return None
    return np.broadcast_to(array.astype(np.float64).reshape(-1), (shape[1],))


def _fold_scale_shift(op, store: WeightStore) -> str | None:
    """Folds `op` (an mlc.mul or mlc.add of a conv used by it alone and a per-channel
    constant) into a new conv; returns the new conv's name, or None when it does not fold."""
    for index in (0, 1):
        conv = producer(op.operands[index])
        if conv is not None and conv.name == "mlc.conv":
            break
    else:
        return None
    out_type = ir.RankedTensorType(conv.results[0].type)
    if len(list(op.operands[index].uses)) != 1 or op.results[0].type != out_type:
        return None
    vector = _per_channel(op.operands[1 - index], out_type, store)
    consts = _floats(list(conv.operands[1:]), store)
    if vector is None or consts is None or consts[0].dtype != np.float32:
        return None
    filt, bias = consts[0], consts[1].astype(np.float64).reshape(-1) if len(consts) > 1 else None
    if op.name == "mlc.mul":
        filt = filt.astype(np.float64) * vector.reshape((-1,) + (1,) * (filt.ndim - 1))
        bias = None if bias is None else bias * vector
    else:
        bias = vector if bias is None else bias + vector
    return _refold(conv, op, filt.astype(np.float32),
                   None if bias is None else bias.astype(np.float32), "_w", "_b", store)


def fold_scale_shifts(module_op, store: WeightStore) -> dict[str, str]:
    """Folds every per-channel mul and add after a conv, in order (a mul, then the add after
    it); returns {op location: what happened} for those folded."""
    ops = []
    module_op.walk(lambda op: (ops.append(op) if op.name in ("mlc.mul", "mlc.add") else None,
                               ir.WalkResult.ADVANCE)[1])
    records = {}
    for op in ops:
        key = f"{op.name} at {location_name(op.location)}"
        folded = _fold_scale_shift(op, store)
        if folded:
            records[key] = f"folded into mlc.conv at {folded}"
    return records


def location_name(location: ir.Location) -> str:
    """A location's name (`loc("conv1")` -> conv1), or its text."""
    text = str(location)
    named = re.match(r'loc\("([^"]*)"[()]', text)
    if named:
        return named.group(1)
    return text[4:-1].replace('"', "") if text.startswith("loc(") else text


def record(module_op, records: dict[str, str]) -> None:
    """Adds `records` to the module's `mlc.graph` attribute."""
    merged = {}
    if RECORD_ATTR in module_op.attributes:
        old = ir.DictAttr(module_op.attributes[RECORD_ATTR])
        merged = {old[i].name: ir.StringAttr(old[i].attr).value for i in range(len(old))}
    merged.update(records)
    module_op.attributes[RECORD_ATTR] = ir.DictAttr.get(
        {k: ir.StringAttr.get(v) for k, v in merged.items()})


def run(module_op, pass_) -> None:
    # Outside the driver the weights are only in the module's resource section.
    store = WeightStore.from_mlir_text(module_text(module_op))
    records = fold_batch_norms(module_op, store)
    records.update(fold_scale_shifts(module_op, store))
    record(module_op, records)


def module_text(module_op) -> str:
    import io

    buffer = io.StringIO()
    module_op.print(file=buffer)
    return buffer.getvalue()
