"""Drives a model through the stages: import, MLIR pipelines, LLVM IR, llc, link.

`compile_model` is what `mlc compile` and the Python API call. It stops at `emit`, keeps every
intermediate under `dump_dir` when asked, and turns a failing stage into a `CompilerBug` that
saves the IR it started from and prints the `mlc opt` command that replays it.
"""

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from mlir import ir
from mlir.dialects import llvm

from mlc import stages
from mlc.errors import CompilerBug, InputError
from mlc.graph_opt import optimize
from mlc.importer import import_onnx_file
from mlc.interface import from_module
from mlc.link import link_shared_object
from mlc.llc import compile_objects
from mlc.mlir_context import make_context, parse_module
from mlc.options import CompileOptions
from mlc.pass_pipeline import PassTiming, run_passes
from mlc.report import Report, collect
from mlc.toolchain import run_tool, tool
from mlc.weights import WeightStore


@dataclass
class CompileResult:
    stage: str
    text: str | None = None          # the printed form, for text stages
    stage_seconds: dict = field(default_factory=dict)
    report: Report | None = None     # the decisions the passes recorded (`--report`)


def print_module(module: ir.Module, elide: bool = True) -> str:
    """Module text; resource blobs (weights) are elided unless asked for."""
    import io

    buffer = io.StringIO()
    kwargs = {"large_resource_limit": 64} if elide else {}
    module.operation.print(file=buffer, **kwargs)
    return buffer.getvalue()


def _start_stage(path: Path) -> str:
    if path.suffix in (".onnx", ".onnxtxt"):
        return "onnx"
    if path.suffix == ".mlir":
        return "mlir"
    raise InputError(f"{path}: unknown input kind '{path.suffix}'; expected .onnx, .onnxtxt (ONNX text) or .mlir")


def load_input(path: Path, context: ir.Context, input_shapes=()) -> tuple[ir.Module, WeightStore, str]:
    """The module, its weights, and the stage its IR is at."""
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if _start_stage(path) == "onnx":
        imported = import_onnx_file(path, context, input_shapes)
        return imported.module, imported.weights, "mlc"
    text = path.read_text()
    module = parse_module(text, context, str(path))
    store = WeightStore.from_mlir_text(text)
    return module, store, _stage_of(module)


def _stage_of(module: ir.Module) -> str:
    """The latest stage whose dialects the module shows."""
    names = set()
    module.operation.walk(lambda op: (names.add(op.name.split(".")[0]), ir.WalkResult.ADVANCE)[1])
    if "mlc" in names:
        return "mlc"
    if "llvm" in names and "func" not in names:
        return "llvm"
    if "memref" in names or "affine" in names:
        return "affine"
    return "linalg"


def compile_model(input_path: str | Path, options: CompileOptions, emit: str = "so",
                  output: Path | None = None, dump_dir: Path | None = None,
                  on_stage=None) -> CompileResult:
    """Compiles `input_path` down to stage `emit`. `on_stage(name)` is called as each starts."""
    input_path = Path(input_path)
    on_stage = on_stage or (lambda name: None)
    if emit not in stages.NAMES:
        raise InputError(f"unknown stage '{emit}'", hint="stages: " + ", ".join(stages.NAMES))
    context = make_context()
    result = CompileResult(emit)
    started = time.perf_counter()
    on_stage("import")
    module, store, at = load_input(input_path, context, options.input_shapes)
    result.stage_seconds["import"] = time.perf_counter() - started
    interface = from_module(module)
    with context:  # schedules size their tiles for --target, not for the compiling host
        module.operation.attributes["mlc.target"] = ir.StringAttr.get(options.target.name)
    _verify(module, at)
    if dump_dir:
        dump_dir.mkdir(parents=True, exist_ok=True)
    stem = input_path.name.split(".")[0]

    def dump(stage: stages.Stage, text) -> None:
        """`text`: the stage's form, or a function making it (printing a module with its
        weights takes seconds, so only when it is kept)."""
        if dump_dir:
            text = text() if callable(text) else text
            path = dump_dir / f"{stem}{stage.suffix}"
            path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)

    # Files get the weights' bytes too, so they compile again; stdout shows IR only.
    dump(stages.BY_NAME[at], lambda: print_module(module, elide=False))
    for stage in stages.STAGES[stages.index(at) + 1: stages.index("llvm") + 1]:
        if stages.index(stage.name) > stages.index(emit):
            break
        t0 = time.perf_counter()
        on_stage(stage.name)
        if stage.name == "linalg":
            optimize(module, store)  # needs the weights' bytes, which passes do not see
        _run_stage(module, stage, dump_dir, stem)
        result.stage_seconds[stage.name] = time.perf_counter() - t0
        dump(stage, lambda: print_module(module, elide=False))
    result.report = collect(module)
    if stages.BY_NAME[emit].is_mlir:
        result.text = print_module(module, elide=output is None)
        _write_output(output, result.text)
        return result

    t0 = time.perf_counter()
    on_stage("llvm-ir")
    llvm_ir = llvm.translate_module_to_llvmir(module.operation)
    llvm_ir = str(llvm_ir) if not isinstance(llvm_ir, str) else llvm_ir
    result.stage_seconds["llvm-ir"] = time.perf_counter() - t0
    dump(stages.BY_NAME["llvm-ir"], llvm_ir)
    if emit == "llvm-ir":
        result.text = llvm_ir
        _write_output(output, llvm_ir)
        return result

    target = options.target
    llc = [tool("llc"), f"-O{options.opt_level}", f"-mtriple={target.triple}", f"-mcpu={target.cpu}",
           "-relocation-model=pic"]
    if target.features:
        llc.append(f"-mattr={target.features}")
    t0 = time.perf_counter()
    if emit == "asm":
        asm = run_tool(llc + ["-filetype=asm", "-o", "-", "-"], stdin=llvm_ir.encode()).decode()
        result.stage_seconds["asm"] = time.perf_counter() - t0
        result.text = asm
        _write_output(output, asm)
        return result
    with tempfile.TemporaryDirectory(prefix="mlc-") as tmp:
        work = Path(tmp)
        on_stage("obj")
        if emit == "obj" or dump_dir:
            obj = work / f"{stem}.o"
            run_tool(llc + ["-filetype=obj", "-o", str(obj), "-"], stdin=llvm_ir.encode())
            objects = [obj]
        else:
            objects = compile_objects(llc, llvm_ir, work, stem)
        result.stage_seconds["obj"] = time.perf_counter() - t0
        if dump_dir:
            shutil.copy(objects[0], dump_dir / f"{stem}.o")
        if emit == "obj":
            _copy_output(objects[0], output)
            return result
        t0 = time.perf_counter()
        on_stage("so")
        so = work / f"{stem}.so"
        link_shared_object(objects, module, store, interface, target.name, work, so)
        result.stage_seconds["so"] = time.perf_counter() - t0
        if dump_dir:
            shutil.copy(so, dump_dir / f"{stem}.so")
        _copy_output(so, output)
    return result


def _verify(module: ir.Module, stage: str) -> None:
    try:
        module.operation.verify()
    except ir.MLIRError as e:
        diags = "\n".join(str(d) for d in e.error_diagnostics) or str(e)
        raise InputError(f"the input module at stage '{stage}' does not verify:\n{diags}") from None


def _run_stage(module: ir.Module, stage: stages.Stage, dump_dir: Path | None, stem: str) -> None:
    before = module.operation.clone()  # cheap: weights are shared resource blobs
    try:
        run_passes(module, stage.passes)
    except CompilerBug as bug:
        saved = Path(tempfile.mkdtemp(prefix="mlc-crash-")) / f"{stem}.before-{stage.name}.mlir"
        saved.write_text(str(before))
        bug.hint = (f"the IR before stage '{stage.name}' is saved in {saved}; replay with:\n"
                    f"  mlc opt {saved} -p '{','.join(stage.passes)}'")
        raise


def _write_output(output: Path | None, text: str) -> None:
    if output is None:
        print(text, end="")
        return
    try:
        Path(output).write_text(text)
    except OSError as e:
        raise InputError(f"cannot write the output file {output}: {e.strerror}") from None


def _copy_output(path: Path, output: Path | None) -> None:
    if output is None:
        raise InputError("binary output needs an output path (-o FILE)")
    # Copied beside the output and renamed over it: a process that has the old file loaded
    # keeps its mapping intact instead of seeing its code rewritten under it.
    staged = Path(output).with_name(f".{Path(output).name}.{os.getpid()}.tmp")
    try:
        shutil.copyfile(path, staged)
        os.replace(staged, output)
    except OSError as e:
        raise InputError(f"cannot write the output file {output}: {e.strerror}") from None
    finally:
        staged.unlink(missing_ok=True)
