"""mlc-schedule: heavy linalg ops on tensors -> tiled, vectorized loops (Transform dialect).

Input: linalg on tensors (the affine stage, before bufferization).
Output: the same function where each scheduled kernel is scf.for loops around vector ops
(matmuls: vector.contract accumulating in registers; elementwise ops: 1-D vector ops); every
op the pass does not schedule is left as it was and lowers through the naive loop path.

The pass first rewrites kernels into schedulable pieces (matmuls that reshape propagation made
generics back into matmuls, 2-D pooling into row and column passes of elementwise ops, convs into matmuls, depthwise convs
into one elementwise op, matmuls into tile-divisible pieces) and tags each (`mlc.kernel`), then builds
one Transform-dialect script from the kernels' schedule configs and applies it with the
transform interpreter:
  1. per kernel, tiling and vectorization (one match for all kernels, split in program order,
     so the script walks the module once, not once per kernel);
  2. once, vector contraction formation, before any canonicalization;
  3. per matmul, the accumulator tile hoisted out of its k loop;
  4. once, canonicalization and 1-D vector cleanup.
The script runs on a copy first; when it fails, each kernel is tried alone, and one whose
schedule does not apply keeps the naive path. Last, concats of GEMM results along the last
dim are rebuilt so that each GEMM can write its slice in place (`concat`). The
decisions are recorded on the module as `mlc.schedule` (kernel -> config, or why it fell
back).
"""

from dataclasses import dataclass

from mlir import ir
from mlir.dialects import transform
from mlir.dialects.transform import interpreter, structured, vector

from mlc.passes.schedule import (concat, contraction, conv, elementwise, fusion, matmul, pooling,
                                 reduction)
from mlc.target import Target, of_module

REPORT_ATTR = "mlc.schedule"
KERNEL_ATTR = matmul.KERNEL_ATTR  # "k<n>": which kernel an op is
SCHEDULED_ATTR = "mlc.scheduled"  # marks the kernels one script schedules


@dataclass(frozen=True)
class Kernel:
    tag: str
    config: object  # MatmulConfig, ElementwiseConfig or ReductionConfig

    @property
    def is_matmul(self) -> bool:
        return isinstance(self.config, matmul.MatmulConfig)

    @property
    def built_by_hand(self) -> bool:
        """Its loops are built already (a GEMM on B's panels): nothing for the script."""
        return self.is_matmul and self.config.panels


class _Tags:
    def __init__(self):
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return f"k{self.count}"


def _walk(module_op, keep) -> list:
    found = []

    def visit(op):
        if keep(op):
            found.append(op)
        return ir.WalkResult.ADVANCE

    module_op.walk(visit)
    return found


def _tag_attr(tag: str) -> ir.DictAttr:
    return ir.DictAttr.get({KERNEL_ATTR: ir.StringAttr.get(tag)})


def _kernel_handles(root: ir.Value, kernels: list[Kernel], program_order: list[str]) -> list:
    """A handle per kernel. One walk for all: every op marked `mlc.scheduled` is matched and
    the handle is split in program order (the order `_walk` sees them in)."""
    any_op = transform.AnyOpType.get()
    if len(kernels) == 1:
        return [structured.MatchOp(any_op, root, op_attrs=_tag_attr(kernels[0].tag)).result]
    marked = structured.MatchOp(any_op, root, op_attrs=ir.DictAttr.get(
        {SCHEDULED_ATTR: ir.UnitAttr.get()})).result
    handles = transform.SplitHandleOp([any_op] * len(program_order), marked).results
    index = {tag: i for i, tag in enumerate(program_order)}
    return [handles[index[k.tag]] for k in kernels]


def _script(kernels: list[Kernel], program_order: dict) -> ir.Module:
    module = ir.Module.create()
    module.operation.attributes["transform.with_named_sequence"] = ir.UnitAttr.get()
    with ir.InsertionPoint(module.body):
        seq = transform.NamedSequenceOp("__transform_main", [transform.AnyOpType.get()], [],
                                        arg_attrs=[{"transform.readonly": ir.UnitAttr.get()}])
        with ir.InsertionPoint(seq.body):
            root = seq.bodyTarget
            k_loops = []
            for kernel, handle in zip(kernels, _kernel_handles(root, kernels, program_order)):
                if kernel.is_matmul:
                    k_loops.append(matmul.schedule_matmul(handle, kernel.config))
                elif isinstance(kernel.config, reduction.ReductionConfig):
                    reduction.schedule_reduction(handle, kernel.config)
                else:
                    elementwise.schedule_elementwise(handle, kernel.config)
            if k_loops:
                contract = transform.ApplyPatternsOp(root)
                with ir.InsertionPoint(contract.patterns):
                    vector.ApplyVectorReductionToContractPatternsOp()
                    vector.ApplyTransferPermutationPatternsOp()
            for k_loop in k_loops:
                matmul.hoist_matmul(k_loop)
            # Drops the loop-carried tensors the hoisting left unused (bufferization would
            # copy each accumulator tile through a scratch buffer) and the unit dims of the
            # elementwise vectors; row reductions become vector.reductions.
            cleanup = transform.ApplyPatternsOp(root)
            with ir.InsertionPoint(cleanup.patterns):
                transform.ApplyCanonicalizationPatternsOp()
                vector.ApplyCastAwayVectorLeadingOneDimPatternsOp()
                vector.ApplyLowerMultiReductionPatternsOp(
                    lowering_strategy=vector.VectorMultiReductionLowering.InnerReduction)
            # Transposing elementwise tiles: a transposed read becomes a plain read and a
            # register transpose, done with 16x16 shuffles rather than lane by lane.
            transpose = transform.ApplyPatternsOp(root)
            with ir.InsertionPoint(transpose.patterns):
                vector.ApplyTransferPermutationPatternsOp()
                vector.ApplyLowerTransposePatternsOp(
                    lowering_strategy=vector.VectorTransposeLowering.Shuffle16x16,
                    avx2_lowering_strategy=True)
            transform.YieldOp()
    return module


def _apply(module: ir.Module, kernels: list[Kernel]) -> str | None:
    """Applies the kernels' script to `module`; the error text when it fails."""
    if not kernels:
        return None
    wanted = {k.tag for k in kernels}
    for op in _walk(module.operation, lambda op: KERNEL_ATTR in op.attributes):
        if ir.StringAttr(op.attributes[KERNEL_ATTR]).value in wanted:
            op.attributes[SCHEDULED_ATTR] = ir.UnitAttr.get()
        elif SCHEDULED_ATTR in op.attributes:
            del op.attributes[SCHEDULED_ATTR]
    order = [ir.StringAttr(op.attributes[KERNEL_ATTR]).value
             for op in _walk(module.operation, lambda op: SCHEDULED_ATTR in op.attributes)]
    script = _script(kernels, order)
    try:
        interpreter.apply_named_sequence(module.operation, script.body.operations[0], script)
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


def _applicable(module_op, kernels: list[Kernel], report: dict) -> list[Kernel]:
    """The kernels whose schedules apply (`_without_failing` when they do not all)."""
    error = _apply(_clone(module_op), kernels)
    return kernels if error is None else _without_failing(module_op, kernels, error, report)


def _without_failing(module_op, kernels: list[Kernel], error: str, report: dict) -> list[Kernel]:
    """`kernels`, whose schedules failed together with `error`, less the failing ones, found
    by halving (a few failures among hundreds of kernels cost a few dozen trial applications,
    not one per kernel); those are reported with their error."""
    if len(kernels) == 1:
        report[kernels[0].tag] = f"naive: schedule failed: {error}"
        return []
    half = len(kernels) // 2
    return (_applicable(module_op, kernels[:half], report)
            + _applicable(module_op, kernels[half:], report))


def _apply_with_fallback(module_op, kernels: list[Kernel], report: dict) -> None:
    trial = _clone(module_op)
    error = _apply(trial, kernels)
    if error is None:
        _replace_body(module_op, trial)
        return
    working = _without_failing(module_op, kernels, error, report)
    trial = _clone(module_op)
    if _apply(trial, working) is None:
        _replace_body(module_op, trial)
    else:
        for kernel in working:
            report[kernel.tag] = "naive: the schedules failed together"


def _strip_marks(module_op) -> None:
    for op in _walk(module_op, lambda op: KERNEL_ATTR in op.attributes):
        del op.attributes[KERNEL_ATTR]
        for mark in (SCHEDULED_ATTR, matmul.FUSED_ATTR):
            if mark in op.attributes:
                del op.attributes[mark]


def _tag_kernels(module_op, tags, config_of) -> list:
    """(tag, config) for each op not yet in a kernel that `config_of` gives a config, the op
    tagged as that kernel."""
    kernels = []

    def visit(op):
        if KERNEL_ATTR not in op.attributes:
            config = config_of(op)
            if config is not None:
                tag = tags()
                op.attributes[KERNEL_ATTR] = ir.StringAttr.get(tag)
                kernels.append((tag, config))
        return ir.WalkResult.ADVANCE

    module_op.walk(visit)
    return kernels


_PURE_PREFIXES = ("linalg.", "tensor.")


def _erase_unused_tensor_ops(module_op) -> None:
    """Erases linalg and tensor ops on tensors whose results nothing reads (an accumulator
    init a GEMM now starts from in registers), so they are neither scheduled nor reported."""
    while True:
        dead = _walk(module_op, lambda op: op.name.startswith(_PURE_PREFIXES) and op.results
                     and all(isinstance(r.type, ir.RankedTensorType) and not list(r.uses)
                             for r in op.results))
        if not dead:
            return
        for op in reversed(dead):
            op.erase()


def run(module_op, pass_) -> None:
    target = of_module(module_op)
    tags = _Tags()
    pieces, report = [], {}
    for op in _walk(module_op, lambda op: op.name == "linalg.generic"):
        contraction.recover_matmul(op)
    for op in _walk(module_op, lambda op: op.name in pooling.POOLING_OPS):
        pooling.rewrite_pooling(op, target.f32_lanes)
    for op in _walk(module_op, lambda op: op.name == "linalg.transpose"):
        if not matmul.is_panel_view(op) and not conv.layout_transpose(op, target.f32_lanes):
            elementwise.rows_transpose_as_generic(op)
    fused = fusion.epilogues(module_op)
    for op in _walk(module_op, lambda op: op.name in conv.CONV_OPS):
        why = conv.rewrite_conv(op, target, tags, pieces)
        if why:
            report[f"{op.name} at {op.location}"] = f"naive: {why}"
    for op in _walk(module_op, lambda op: op.name == "linalg.matmul" and KERNEL_ATTR not in op.attributes):
        split = matmul.split_matmul(op, target, tags)
        if split is None:
            report[f"linalg.matmul at {op.location}"] = "naive: not a static f32 matmul"
        else:
            pieces += split
    _erase_unused_tensor_ops(module_op)
    pieces += _tag_kernels(module_op, tags, lambda op: elementwise.elementwise_config(op, target)
                           if op.name in elementwise.ELEMENTWISE_OPS else None)
    pieces += _tag_kernels(module_op, tags, lambda op: reduction.reduction_config(
        op, target.f32_lanes) if op.name == "linalg.generic" else None)
    kernels = [Kernel(tag, config) for tag, config in pieces]
    fused.update(fusion.kernel_nodes(module_op, KERNEL_ATTR))
    fused.update(fusion.fused_epilogues(module_op))
    fusion.record(module_op, fused)
    for kernel in kernels:
        report[kernel.tag] = kernel.config.describe()
    _apply_with_fallback(module_op, [k for k in kernels if not k.built_by_hand], report)
    concat.write_in_place(module_op)
    _strip_marks(module_op)
    module_op.attributes[REPORT_ATTR] = ir.DictAttr.get(
        {k: ir.StringAttr.get(v) for k, v in report.items()})
