"""The compilation stages, declared once, in order.

Each stage names the form the model is in after it. The same names drive `--emit`, the file
names under `--dump-dir`, the lit test folders and the help text. An MLIR stage's pipeline is a
literal list, one pass a line, each with the reason it is there.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stage:
    name: str
    summary: str
    suffix: str
    passes: list[str] = field(default_factory=list)

    @property
    def is_mlir(self) -> bool:
        return self.suffix.endswith(".mlir")


STAGES = [
    Stage("mlc", "the mlc dialect, as imported from ONNX", ".mlc.mlir"),
    Stage("linalg", "linalg, tensor and arith on tensors", ".linalg.mlir", [
        "convert-mlc-to-linalg",  # every mlc op becomes linalg on tensors
        # A dynamic size read off an op's result (tensor.dim) is read off its operands instead,
        # so the op keeps a single use and fuses below; nothing to do without dynamic dims.
        "resolve-ranked-shaped-type-result-dims",
        # Chains of elementwise ops (bias, residual add, ReLU, ...) become one loop nest, one
        # pass over memory; the body ops keep their ONNX node locations, so the report can tell.
        "linalg-fuse-elementwise-ops",
        "canonicalize",           # folds reshape chains and constant arithmetic
        "cse",
    ]),
    Stage("affine", "bufferized: affine loops over memrefs", ".affine.mlir", [
        # Bools are stored one byte each, as numpy and the C ABI store them (there are no i1
        # memrefs); i1 stays the type of bool scalars inside bodies.
        "convert-i1-tensors-to-i8",
        "mlc-entry-abi",  # @main takes caller-provided input and output buffers
        # Matmuls, convs and elementwise ops become tiled loops around vector ops (on tensors,
        # so the accumulator tiles are hoisted into registers before buffers exist).
        "mlc-schedule",
        # An output computed into a fresh tensor is computed in the caller's buffer instead
        # (no intermediate allocation, whose pages fault on every call, and no final copy).
        "eliminate-empty-tensors",
        # Results are written straight into the caller's output buffers; constants become
        # memref.globals.
        "one-shot-bufferize{bufferize-function-boundaries}",
        # An inserted slice computed in place bufferizes to a copy of a subview onto an equal
        # subview: CSE makes them one value, and canonicalization drops the self-copy.
        "cse",
        "canonicalize",
        # Frees every intermediate buffer (the .so is called repeatedly); the deallocs land at
        # the end of the block, so they say nothing of liveness: mlc-plan-memory works that out.
        "buffer-deallocation-pipeline",
        "convert-bufferization-to-memref",
        # Intermediates share one arena by liveness, which @main takes as its last argument: the
        # shim keeps one per thread, so a call neither mallocs nor page-faults.
        "mlc-plan-memory",
        "convert-memref-copy-to-linalg",  # strided copies as loops, not a runtime library call
        # ...and those copies, and the fills bufferization wrote (padding), move whole vectors.
        "mlc-vectorize-copies",
        "func.func(convert-linalg-to-affine-loops)",
        "canonicalize",
    ]),
    Stage("llvm", "the llvm dialect", ".llvm.mlir", [
        "mlc-externalize-weights",  # weight data leaves the IR; the .so links it as binary
        # The kernels' parallel loops -> OpenMP fork/worksharing calls (`__kmpc_*`), which the
        # .so's own pool implements (runtime/threads.c); canonicalize folds the
        # memref.alloca_scope the conversion leaves, which convert-scf-to-cf cannot lower.
        "scf-forall-to-parallel",
        "convert-scf-to-openmp",
        "canonicalize",
        # n-D transfers of the scheduled kernels -> unrolled 1-D transfers (plain vector loads).
        "func.func(convert-vector-to-scf{full-unroll=true})",
        "lower-affine",
        "convert-scf-to-cf",
        "expand-strided-metadata",  # subviews into plain pointer arithmetic
        "lower-affine",             # ...which expand-strided-metadata writes as affine.apply
        # Vector exp and erf (softmax, GELU) as polynomials: LLVM would call libm once a lane.
        "mlc-math-approximation",
        # bf16 arithmetic is done in f32 and rounded back with integer ops: LLVM would call
        # __truncsfbf2 for each rounding, which the .so does not link.
        "func.func(math-extend-to-supported-types)",
        "func.func(arith-emulate-unsupported-floats{source-types=bf16 target-type=f32})",
        "arith-expand{include-bf16=true}",
        "finalize-memref-to-llvm",
        "convert-math-to-llvm",     # math ops with an LLVM intrinsic
        "convert-math-to-libm",     # the rest (tanh, erf, ...) call libm
        # Register-tile contractions as outer products: one broadcast FMA per A element; row
        # reductions as a tree of vector adds (reassociated, as every fast runtime does).
        "convert-vector-to-llvm{vector-contract-lowering=outerproduct reassociate-fp-reductions=true}",
        "convert-to-llvm",
        "reconcile-unrealized-casts",
    ]),
    Stage("llvm-ir", "LLVM IR text", ".ll"),
    Stage("asm", "target assembly (llc)", ".s"),
    Stage("obj", "an object file (llc)", ".o"),
    Stage("so", "a shared object with the C ABI, weights and metadata", ".so"),
]

BY_NAME = {s.name: s for s in STAGES}
NAMES = [s.name for s in STAGES]


def index(name: str) -> int:
    return NAMES.index(name)
