"""mlc-nhwc-layout: convs run on NHWC images, and the layout spreads so transposes sit at its edges.

Input: the mlc dialect (ONNX's NCHW). The schedule computes a conv as a GEMM whose rows are
pixels and whose columns are filters: Y[pixels, F] = X[pixels, C] @ W[C, F] (per tap). On
NCHW tensors every such conv pays two transposes (its input to rows of channels, its output
back); on NHWC ones it reads its input as it lies and writes its output as the next op wants.

Output: each chosen 2-D `mlc.conv` (one image, group 1, static f32, at least MIN_CHANNELS
input channels) becomes
    transpose(conv_nhwc(transpose(x, TO_NHWC), W_hwcf, bias), TO_NCHW)
with W_hwcf a new HWCF constant (column panels of the target's register tile width, as
`mlc-pack-matmul-weights` stores a matmul's B, the last one padded with zero filters when
that wastes little; see `weight_panels.worth_padding`). Then the transposes to
NCHW sink through what does not care about layout: elementwise ops (their other operands
transposed too, or per-channel constants re-laid), binary concats (along the permuted axis),
2-D max and average pools (which become `mlc.max_pool_nhwc`, `mlc.avg_pool_nhwc`) and
transposes (composed; a pair that cancels goes). A chain conv -> ReLU -> conv -> add ->
pool -> ... keeps one transpose at each end.

Which convs: every KxK or strided conv (it pays the transposes either way), and the 1x1
stride-1 convs and RGB stems that share a region of elementwise ops, concats and pools with
one; a 1x1 conv among NCHW-only ops (a depthwise conv's neighbours) stays a plain NCHW GEMM,
and a stem there stays `small_conv`'s.
"""

import numpy as np
from mlir import ir

from mlc.dialects.math_ops import OPS as MATH_OPS
from mlc.passes.fold_batch_norm import float_constant, location_name, module_text
from mlc.passes.linalg_builders import producer as _producer
from mlc.passes.schedule import small_conv
from mlc.passes.schedule.config import register_budget
from mlc.passes.schedule.panel_gemm import owner_of
from mlc.passes.weight_panels import panel_view, worth_padding
from mlc.target import Target, of_module
from mlc.weights import WeightStore

TO_NHWC = [0, 2, 3, 1]
TO_NCHW = [0, 3, 1, 2]
FCHW_TO_HWCF = [2, 3, 1, 0]
MIN_CHANNELS = 16  # fewer (an RGB stem): NHWC only for a KxK conv small_conv does not take
ELEMENTWISE = {f"mlc.{op.name}" for op in MATH_OPS}
POOLS = {"mlc.max_pool": "mlc.max_pool_nhwc", "mlc.avg_pool": "mlc.avg_pool_nhwc"}  # 2-D ones


def _ints(op, name: str) -> list[int]:
    return list(ir.DenseI64ArrayAttr(op.attributes[name]))


def _shape(value: ir.Value) -> list[int]:
    return list(ir.RankedTensorType(value.type).shape)


def _users(value: ir.Value) -> list:
    """The ops using `value`, each once."""
    return list(dict.fromkeys(owner_of(u) for u in value.uses))


def _is_transpose(value: ir.Value, perm: list[int]) -> bool:
    op = _producer(value)
    return op is not None and op.name == "mlc.transpose" and _ints(op, "perm") == perm


def conv_kind(conv) -> str | None:
    """"kxk" (a kernel over 1x1 or a stride), "1x1", "stem" (a strided conv over few
    channels, which `small_conv` computes directly on NCHW), or None when the conv stays
    NCHW. A 1x1 conv or a stem goes NHWC only within a region that a KxK conv takes there:
    a stem on its own is faster NCHW, and MobileNetV2's would pull its 1x1 convs NHWC, with
    transposes around each depthwise conv (1.8x slower); SqueezeNet's, before 3x3 convs,
    runs 12% faster as an NHWC GEMM (64 filters: 3 blocks of the row kernel's 24)."""
    if conv.name != "mlc.conv" or ir.IntegerAttr(conv.attributes["group"]).value != 1:
        return None
    x_type = ir.RankedTensorType(conv.operands[0].type)
    w_shape = _shape(conv.operands[1])
    if x_type.rank != 4 or not x_type.has_static_shape or x_type.shape[0] != 1 \
            or str(x_type.element_type) != "f32":
        return None
    channels, strides = x_type.shape[1], _ints(conv, "strides")
    if channels < MIN_CHANNELS and w_shape[2:] == [1, 1]:
        return None
    if channels < MIN_CHANNELS and strides[1] > 1 \
            and channels * w_shape[2] * w_shape[3] <= small_conv.MAX_TAPS:
        return "stem"
    if w_shape[2:] == [1, 1] and _ints(conv, "strides") == [1, 1] and not any(_ints(conv, "pads")):
        return "1x1"
    return "kxk"


def _regions(ops: list) -> dict:
    """Union-find over convs, elementwise ops and concats joined by a value one feeds the
    other: op -> the representative of its region."""
    parent = {}

    def find(op):
        while parent[op] != op:
            parent[op] = parent[parent[op]]
            op = parent[op]
        return op

    for op in ops:
        parent[op] = op
    for op in ops:
        for operand in op.operands:
            producer = _producer(operand)
            if producer is not None and producer in parent:
                parent[find(producer)] = find(op)
    return {op: find(op) for op in ops}


def _transpose(value: ir.Value, perm: list[int], loc) -> ir.Value:
    """transpose(value, perm), reusing one that exists."""
    for user in _users(value):
        if user.name == "mlc.transpose" and _ints(user, "perm") == perm:
            return user.results[0]
    shape = _shape(value)
    elem = ir.RankedTensorType(value.type).element_type
    return ir.Operation.create(
        "mlc.transpose", results=[ir.RankedTensorType.get([shape[p] for p in perm], elem)],
        operands=[value], attributes={"perm": ir.DenseI64ArrayAttr.get(perm)}, loc=loc).result


def _hwcf_filter(conv, store: WeightStore, nr: int) -> ir.Value:
    """The conv's filter as HWCF: a new constant (column panels when F allows), or a transpose."""
    filt = float_constant(conv.operands[1], store)
    if filt is None:
        return _transpose(conv.operands[1], FCHW_TO_HWCF, conv.location)
    hwcf = np.ascontiguousarray(filt.transpose(FCHW_TO_HWCF))
    name = f"{location_name(conv.location)}_hwcf"
    if worth_padding(hwcf.shape[3], nr) and hwcf.dtype == np.float32:
        return panel_view(hwcf.reshape(-1, hwcf.shape[3]), nr, list(hwcf.shape), store, name,
                          conv.location)
    return store.constant(hwcf, name, conv.location)


def _to_nhwc(conv, store: WeightStore, nr: int) -> None:
    n, f, oh, ow = _shape(conv.results[0])
    with ir.InsertionPoint(conv), conv.location:
        x = _transpose(conv.operands[0], TO_NHWC, conv.location)
        operands = [x, _hwcf_filter(conv, store, nr), *list(conv.operands)[2:]]
        out_type = ir.RankedTensorType.get([n, oh, ow, f], ir.F32Type.get())
        new = ir.Operation.create(
            "mlc.conv_nhwc", results=[out_type], operands=operands,
            attributes={k: conv.attributes[k] for k in ("strides", "pads", "dilations")},
            loc=conv.location)
        back = _transpose(new.result, TO_NCHW, conv.location)
    old_filter = conv.operands[1]
    conv.results[0].replace_all_uses_with(back)
    conv.erase()
    _erase_if_dead(old_filter)


def _erase_if_dead(value: ir.Value) -> None:
    op = _producer(value)
    while op is not None and not list(value.uses) and op.name in ("mlc.constant", "mlc.transpose",
                                                                  "mlc.reshape"):
        inputs = list(op.operands)
        op.erase()
        if not inputs:
            return
        value = inputs[0]
        op = _producer(value)


# -- sinking transposes to NCHW -------------------------------------------------------------
def _relaid_operand(value: ir.Value, perm: list[int], store: WeightStore, loc) -> ir.Value:
    """`value`, an operand beside a transpose(perm) of an elementwise op or concat, as the
    operand of the same op on untransposed tensors: the transpose's input, a broadcast
    scalar as it is, a small constant re-laid, or else (a tensor of the op's rank) its
    inverse transpose."""
    inverse = [int(i) for i in np.argsort(perm)]
    if _is_transpose(value, perm):
        return _producer(value).operands[0]
    shape = _shape(value)
    if int(np.prod(shape)) == 1 and len(shape) <= 4:
        return value
    array = _constant(value, store) if _small(value) else None
    if array is None:
        return _transpose(value, inverse, loc)
    full = array.reshape([1] * (4 - array.ndim) + list(array.shape))
    return store.constant(np.ascontiguousarray(full.transpose(inverse)),
                          f"{location_name(loc)}_nhwc", loc)


def _constant(value: ir.Value, store: WeightStore) -> np.ndarray | None:
    """The float constant `value` holds, seen through mlc.reshape (how ONNX graphs often give
    a per-channel vector its [C, 1, 1] shape); None if it is not one."""
    op = _producer(value)
    if op is not None and op.name == "mlc.reshape":
        inner = _constant(op.operands[0], store)
        return None if inner is None else inner.reshape(_shape(value))
    return float_constant(value, store)


def _small(value: ir.Value) -> bool:
    """A per-channel vector (or less): at most one dim over 1, rank at most 4."""
    shape = _shape(value)
    return len(shape) <= 4 and sum(1 for s in shape if s != 1) <= 1


def _absorbable(user, perm: list[int], store) -> bool:
    """Whether `user` of a transpose(perm) can act on the untransposed tensor instead: a
    transpose, or a rank-4 elementwise op or concat whose other operands are transposed
    too, scalars or per-channel constants, or rank-4 tensors (transposed back for it: as
    many transposes as it takes away, and the layout goes on spreading past it)."""
    if user.name == "mlc.transpose":
        return True
    if user.name in POOLS:
        return len(_shape(user.results[0])) == 4 and _is_transpose(user.operands[0], perm)
    if user.name not in ELEMENTWISE | {"mlc.concat"} or len(_shape(user.results[0])) != 4:
        return False
    for value in user.operands:
        if _is_transpose(value, perm) or int(np.prod(_shape(value))) == 1:
            continue
        if _small(value):
            if _constant(value, store) is None:
                return False
        elif len(_shape(value)) != 4:
            return False
    return True


def _sink_into(user, perm: list[int], store) -> None:
    """Rewrites `user` (absorbable) to act on untransposed tensors, transposing its result."""
    loc = user.location
    with ir.InsertionPoint(user), loc:
        if user.name == "mlc.transpose":
            inner = _producer(user.operands[0]).operands[0]
            combined = [perm[q] for q in _ints(user, "perm")]
            result = inner if combined == list(range(len(combined))) else _transpose(inner, combined, loc)
        else:
            operands = [_relaid_operand(v, perm, store, loc) for v in user.operands]
            shape = _shape(user.results[0])
            inverse = list(np.argsort(perm))
            elem = ir.RankedTensorType(user.results[0].type).element_type
            attributes = {name: user.attributes[name] for name in user.attributes}
            name = POOLS.get(user.name, user.name)
            if user.name == "mlc.concat":
                axis = ir.IntegerAttr(user.attributes["axis"]).value
                attributes["axis"] = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), perm[axis])
            new = ir.Operation.create(
                name, results=[ir.RankedTensorType.get([shape[i] for i in inverse], elem)],
                operands=operands, attributes=attributes, loc=loc)
            result = _transpose(new.result, perm, loc)
    old = list(user.operands)
    user.results[0].replace_all_uses_with(result)
    user.erase()
    for value in old:
        _erase_if_dead(value)


def _transposes(module_op, perms) -> list:
    found = []
    module_op.walk(lambda op: (found.append(op) if op.name == "mlc.transpose"
                               and _ints(op, "perm") in perms else None, ir.WalkResult.ADVANCE)[1])
    return found


def _sink_one(module_op, store) -> bool:
    """Sinks the first transpose to NCHW all of whose users can absorb it; False if none can.
    (One at a time: a rewrite erases ops that a list made before it would still hold.)"""
    for t in _transposes(module_op, [TO_NCHW]):
        users = _users(t.results[0])
        if users and all(_absorbable(u, TO_NCHW, store) for u in users):
            for user in users:
                _sink_into(user, TO_NCHW, store)
            return True
    return False


def to_nhwc(module_op, store: WeightStore, target: Target) -> tuple[int, int]:
    """Runs the layout change; returns (convs now NHWC, transposes left)."""
    nr = register_budget(target).cols
    ops = []
    joining = ELEMENTWISE | {"mlc.concat", "mlc.conv"} | set(POOLS)
    module_op.walk(lambda op: (ops.append(op) if op.name in joining else None,
                               ir.WalkResult.ADVANCE)[1])
    kinds = {op: conv_kind(op) for op in ops if op.name == "mlc.conv"}
    region_of = _regions(ops)
    wanted = {region_of[op] for op, kind in kinds.items() if kind == "kxk"}
    convs = [op for op, kind in kinds.items() if kind and region_of[op] in wanted]
    for conv in convs:
        _to_nhwc(conv, store, nr)
    while _sink_one(module_op, store):
        pass
    return len(convs), len(_transposes(module_op, [TO_NCHW, TO_NHWC]))


def run(module_op, pass_) -> None:
    # Outside the driver the weights are only in the module's resource section.
    to_nhwc(module_op, WeightStore.from_mlir_text(module_text(module_op)), of_module(module_op))
