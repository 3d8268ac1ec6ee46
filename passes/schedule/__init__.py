"""mlc-schedule: heavy linalg ops on tensors -> tiled, vectorized loops (Transform dialect).

Input: linalg on tensors with static shapes (the affine stage, before bufferization).
Output: the same function where each scheduled kernel is scf.for loops around vector ops
(vector.contract accumulating in registers); every op the pass does not schedule is left as
it was and lowers through the naive loop path.

The pass first rewrites kernels into schedulable pieces and tags each (`mlc.kernel`), then
builds one Transform-dialect script (one block of transform ops per kernel, from its
schedule config) and applies it with the transform interpreter. The script runs on a clone
first; when it fails, each kernel is tried alone and a kernel whose schedule does not apply
keeps the naive path. The decisions are recorded on the module as `mlc.schedule` (kernel ->
config, or why it fell back).
"""

from mlir import ir
from mlir.dialects import transform
from mlir.dialects.transform import interpreter

from mlc.passes.schedule import conv, elementwise, matmul
from mlc.target import Target, resolve

REPORT_ATTR = "mlc.schedule"


class _Tags:
    def __init__(self):
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"k{self.count}"


def _target_of(module_op) -> Target:
    """The module's target (`mlc.target`, set by the driver), or the host."""
    if "mlc.target" in module_op.attributes:
        return resolve(ir.StringAttr(module_op.attributes["mlc.target"]).value)
    return resolve("native")


def _ops_named(module_op, names: set[str]) -> list:
    found = []

    def visit(op):
        if op.name in names:
            found.append(op)
        return ir.WalkResult.ADVANCE

    module_op.walk(visit)
    return found


def _script(kernels) -> ir.Module:
    """One named sequence scheduling every (tag, config, schedule_fn) kernel."""
    module = ir.Module.create()
    module.operation.attributes["transform.with_named_sequence"] = ir.UnitAttr.get()
    with ir.InsertionPoint(module.body):
        seq = transform.NamedSequenceOp("__transform_main", [transform.AnyOpType.get()], [],
                                        arg_attrs=[{"transform.readonly": ir.UnitAttr.get()}])
        with ir.InsertionPoint(seq.body):
            for tag, config, schedule in kernels:
                schedule(seq.bodyTarget, tag, config)
            # Drops the loop-carried tensors the hoisting left unused; bufferization would
            # otherwise copy each accumulator tile in and out of a scratch buffer.
            cleanup = transform.ApplyPatternsOp(seq.bodyTarget)
            with ir.InsertionPoint(cleanup.patterns):
                transform.ApplyCanonicalizationPatternsOp()
            transform.YieldOp()
    return module


def _apply(module_op, kernels) -> str | None:
    """Applies the kernels' script to `module_op`; the error text when it fails."""
    if not kernels:
        return None
    script = _script(kernels)
    try:
        interpreter.apply_named_sequence(module_op, script.body.operations[0], script)
    except (ir.MLIRError, ValueError) as e:  # the interpreter raises ValueError
        diags = getattr(e, "error_diagnostics", None)
        return ("; ".join(str(d) for d in diags) if diags else str(e))[:400]
    return None


def _clone(module_op) -> ir.Module:
    """A scratch module holding copies of `module_op`'s top-level ops (weights are shared)."""
    trial = ir.Module.create()
    with ir.InsertionPoint(trial.body):
        for op in module_op.regions[0].blocks[0].operations:
            op.clone()
    return trial


def _replace_body(module_op, source: ir.Module) -> None:
    """Moves `source`'s top-level ops into `module_op` in place of its own."""
    body = module_op.regions[0].blocks[0]
    for op in list(body.operations):
        op.erase()
    for op in list(source.body.operations):
        body.append(op)


def _apply_with_fallback(module_op, kernels, report: dict) -> None:
    trial = _clone(module_op)
    if _apply(trial.operation, kernels) is None:
        _replace_body(module_op, trial)
        return
    working = []
    for kernel in kernels:
        error = _apply(_clone(module_op).operation, [kernel])
        if error is None:
            working.append(kernel)
        else:
            report[kernel[0]] = f"naive: schedule failed: {error}"
    trial = _clone(module_op)
    if _apply(trial.operation, working) is None:
        _replace_body(module_op, trial)
    else:
        for kernel in working:
            report[kernel[0]] = "naive: schedules failed together"


def _strip_tags(module_op) -> None:
    for op in _ops_named(module_op, {"linalg.matmul", "linalg.generic"}):
        if matmul.KERNEL_ATTR in op.attributes:
            del op.attributes[matmul.KERNEL_ATTR]


def run(module_op, pass_) -> None:
    target = _target_of(module_op)
    tags = _Tags()
    kernels, report = [], {}
    for op in _ops_named(module_op, set(conv.CONV_OPS)):
        why = conv.rewrite_conv(op, target, tags, kernels)
        if why:
            report[f"{op.name}@{op.location}"] = f"naive: {why}"
    for op in _ops_named(module_op, {"linalg.matmul"}):
        if matmul.KERNEL_ATTR in op.attributes:
            continue
        pieces = matmul.split_matmul(op, target, tags)
        if pieces is None:
            report[f"linalg.matmul@{op.location}"] = "naive: not a static f32 matmul"
            continue
        kernels += [(tag, config, matmul.schedule_matmul) for tag, config in pieces]
    kernels += elementwise.tag_elementwise(module_op, target, tags)
    for tag, config, _ in kernels:
        report[tag] = config.describe()
    _apply_with_fallback(module_op, kernels, report)
    _strip_tags(module_op)
    module_op.attributes[REPORT_ATTR] = ir.DictAttr.get(
        {k: ir.StringAttr.get(v) for k, v in report.items()})
