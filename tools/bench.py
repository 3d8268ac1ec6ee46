"""Benchmark: mlc against onnxruntime, side by side, interleaved, on --threads threads each.

The model set: the eight light models of the onnx wheel with real-size random weights (their
ConstantOfShape-made weights replaced by random initializers), a 1024^3 MatMul with constant
weights, an MLP 784-512-512-10 at batch 1 and 64, and from `mlc.tools.model_zoo` (torch) a
small CNN, a MobileNetV2-like CNN at 224x224 and a BERT-like encoder (hidden 256, 4 layers,
sequence 128). Each model is compiled by mlc (timed),
checked against onnxruntime on a random input, then both run in alternation (mlc, ort, mlc,
...) so machine noise hits both alike. It prints medians, the ratio mlc/ORT, GFLOP/s (from
the Conv/MatMul/Gemm FLOPs of the graph), mlc's compile time, mlc's arena (the intermediate
buffers, planned by liveness) and the peak memory of each side (the peak RSS growth of a fresh
process that loads the model and runs it: for mlc, the arena plus the weights). Not part of the
test suite.

    python -m mlc.tools.bench                   # every model
    python -m mlc.tools.bench -k resnet -k mlp  # models whose name contains a pattern
    python -m mlc.tools.bench --save DIR        # compile here ...
    python -m mlc.tools.bench --prebuilt DIR    # ... time elsewhere (numpy + onnxruntime only)
    python -m mlc.tools.bench --threads 1,2     # both sides on 1, then 2 threads

A model with a numpy reference (the 1024^3 MatMul: `x @ w`) also times numpy (OpenBLAS, set to
the same thread count) in the same interleaved loop, and the note gives mlc/numpy.
"""

import argparse
import dataclasses
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LIGHT = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50",
         "shufflenet", "squeezenet", "vgg19", "zfnet512"]
IR_VERSION = 8  # onnxruntime rejects the newest IR versions
RTOL = 1e-3
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}
BLOCK = 5  # consecutive runs of one side before the other's
PAUSE = 0.1  # seconds between blocks at several threads, for spinning pools to park


@dataclass
class Case:
    name: str
    model: onnx.ModelProto
    feeds: dict | None = None  # inputs to time on; random normal values when None
    reference: Callable | None = None  # feeds -> the output, computed by numpy


# -- the model set ---------------------------------------------------------------------------
def _light_dir() -> Path:
    return Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def randomize_weights(model: onnx.ModelProto, seed: int = 0) -> onnx.ModelProto:
    """Replaces every ConstantOfShape node with a random initializer of the same shape.

    Weights of rank >= 2 get He-scaled normal values (so activations stay finite through deep
    nets); vectors get values in [0.5, 1.5] (safe as BatchNorm variances and scales).
    """
    rng = np.random.default_rng(seed)
    inits = {t.name: t for t in model.graph.initializer}
    keep, new_inits = [], []
    for node in model.graph.node:
        if node.op_type != "ConstantOfShape" or node.input[0] not in inits:
            keep.append(node)
            continue
        shape = [int(d) for d in numpy_helper.to_array(inits[node.input[0]])]
        if len(shape) >= 2:
            fan_in = int(np.prod(shape[1:]))
            value = rng.standard_normal(shape) * math.sqrt(2.0 / max(1, fan_in))
        else:
            value = rng.uniform(0.5, 1.5, shape)
        new_inits.append(numpy_helper.from_array(value.astype(np.float32), node.output[0]))
    used = {i for n in keep for i in n.input}
    graph = model.graph
    old_inits = [t for t in graph.initializer if t.name in used]
    del graph.node[:]
    graph.node.extend(keep)
    del graph.initializer[:]
    graph.initializer.extend(old_inits + new_inits)
    # IR version 3 lists every initializer as a graph input; from 4 on, such an input could be
    # overridden at run time, so drop those (and inputs no node reads) to keep weights constant.
    init_names = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in init_names and i.name in used]
    del graph.input[:]
    graph.input.extend(inputs)
    model.ir_version = max(model.ir_version, IR_VERSION)
    return model


def light_case(name: str, shipped: bool = False) -> Case:
    """A light model with random weights or, with `shipped`, its own constant-filled ones
    (same shapes and speed, but a small .so: handy for timing on another machine)."""
    model = onnx.load(str(_light_dir() / f"light_{name}.onnx"))
    if shipped:
        model.ir_version = max(model.ir_version, IR_VERSION)
        return Case(f"{name}_shipped", model)
    return Case(name, randomize_weights(model))


def _model(nodes, inputs, outputs, inits, name) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                             ir_version=IR_VERSION)


def matmul_case(n: int = 1024) -> Case:
    rng = np.random.default_rng(0)
    w = rng.standard_normal((n, n)).astype(np.float32)
    return Case(f"matmul{n}", _model(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, n])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, n])],
        [numpy_helper.from_array(w, "w")], "matmul"), reference=lambda feeds: feeds["x"] @ w)


def mlp_case(batch: int, sizes=(784, 512, 512, 10)) -> Case:
    """Gemm(transB=1) layers as PyTorch exports them, ReLU between."""
    rng = np.random.default_rng(0)
    nodes, inits, x = [], [], "x"
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        w = rng.standard_normal((fan_out, fan_in)) * math.sqrt(2.0 / fan_in)
        inits += [numpy_helper.from_array(w.astype(np.float32), f"w{i}"),
                  numpy_helper.from_array(rng.uniform(-0.1, 0.1, fan_out).astype(np.float32), f"b{i}")]
        y = f"h{i}"
        nodes.append(helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [y], transB=1))
        if i < len(sizes) - 2:
            nodes.append(helper.make_node("Relu", [y], [f"r{i}"]))
            y = f"r{i}"
        x = y
    return Case(f"mlp_b{batch}", _model(
        nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, sizes[0]])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, [batch, sizes[-1]])], inits, "mlp"))


def zoo_case(name: str, build) -> Case:
    """A model family from `mlc.tools.model_zoo` (needs torch, and transformers for BERT)."""
    model, feeds = build()
    model.ir_version = min(model.ir_version, IR_VERSION)
    return Case(name, model, feeds)


def all_cases(shipped: bool = False) -> list:
    """(name, builder) pairs; models are built only when selected."""
    from mlc.tools import model_zoo

    cases = [(name, lambda name=name: light_case(name, shipped)) for name in LIGHT]
    cases += [("matmul1024", matmul_case), ("mlp_b1", lambda: mlp_case(1)),
              ("mlp_b64", lambda: mlp_case(64)),
              ("small_cnn", lambda: zoo_case("small_cnn", model_zoo.small_cnn)),
              ("mobilenet_v2", lambda: zoo_case("mobilenet_v2",
                                                lambda: model_zoo.mobilenet_v2(image=224))),
              ("bert_h256_s128", lambda: zoo_case("bert_h256_s128", lambda: model_zoo.bert_encoder(
                  hidden=256, layers=4, heads=4, seq=128)))]
    return cases


# -- FLOPs -----------------------------------------------------------------------------------
def count_flops(model: onnx.ModelProto) -> float:
    """2 x multiply-accumulates of Conv, MatMul and Gemm nodes (shapes by shape inference)."""
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {}
    for vi in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]:
        dims = vi.type.tensor_type.shape.dim
        shapes[vi.name] = [d.dim_value for d in dims]
    for t in model.graph.initializer:
        shapes[t.name] = list(t.dims)
    total = 0.0
    for node in model.graph.node:
        out = shapes.get(node.output[0])
        if not out:
            continue
        if node.op_type == "Conv":
            w = shapes.get(node.input[1])
            if w:
                total += 2.0 * np.prod(out) * np.prod(w[1:])
        elif node.op_type in ("MatMul", "Gemm"):
            a = shapes.get(node.input[0])
            if a:
                k = a[-1]
                if node.op_type == "Gemm" and any(at.name == "transA" and at.i for at in node.attribute):
                    k = a[0]
                total += 2.0 * np.prod(out) * k
    return total


# -- running ---------------------------------------------------------------------------------
def _ort_session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


# Run in a fresh interpreter: loads one model, runs it twice, prints the peak RSS growth (MiB)
# over the interpreter with numpy and the runtime imported (so both sides pay the same base).
# Writing 5 to clear_refs resets the peak (VmHWM) to the current RSS, so import spikes drop out.
_PEAK_SCRIPT = """
import sys
import numpy as np


def status(key):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key))

kind, path, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "mlc":
    from mlc.runtime import Model
else:
    import onnxruntime as ort
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
base = status("VmRSS:")
if kind == "mlc":
    model = Model(path, threads=threads)
    feeds = {s.name: np.zeros(s.shape, s.dtype) for s in model.inputs}
    run = lambda: model.run(feeds)
else:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    feeds = {i.name: np.zeros(i.shape, np.float32) for i in session.get_inputs()}
    run = lambda: session.run(None, feeds)
run(); run()
print((status("VmHWM:") - base) / 1024)
"""


def _peak_mib(kind: str, path: Path, threads: int) -> float:
    """Peak memory of running the model (mlc: arena + weights touched; ORT: its whole session)
    as the peak RSS growth of a fresh process; NaN if that process fails."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, kind, str(path), str(threads)],
                          capture_output=True, text=True)
    try:
        return float(done.stdout.split()[-1])
    except (IndexError, ValueError):
        return float("nan")


def _max_rel_error(got: np.ndarray, ref: np.ndarray) -> float:
    scale = max(float(np.abs(ref).max()), 1e-6)
    return float(np.abs(got.astype(np.float64) - ref).max()) / scale


@dataclass
class Result:
    name: str
    mlc_ms: float = float("nan")
    ort_ms: float = float("nan")
    gflop: float = 0.0
    compile_s: float = float("nan")
    error: float = float("nan")
    mlc_mib: float = float("nan")  # peak memory (see _peak_mib)
    ort_mib: float = float("nan")
    arena_mib: float = float("nan")
    threads: int = 1
    numpy_ms: float = float("nan")  # the case's numpy reference, where it has one
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.mlc_ms / self.ort_ms


def compile_case(case: Case, work: Path, target: str) -> Result:
    """Compiles `case` into work/<name>.so (next to its .onnx); the Result holds the compile
    time and the FLOPs, or a note saying why it failed."""
    from mlc.driver import compile_model
    from mlc.options import CompileOptions
    from mlc.target import resolve

    result = Result(case.name, gflop=count_flops(case.model) / 1e9)
    path = work / f"{case.name}.onnx"
    onnx.save(case.model, str(path))
    if case.feeds is not None:
        np.savez(work / f"{case.name}.feeds.npz", **case.feeds)
    started = time.perf_counter()
    try:
        compile_model(path, CompileOptions(resolve(target)), "so", work / f"{case.name}.so")
    except Exception as e:  # a benchmark reports failures and goes on
        result.note = f"compile failed: {str(e).splitlines()[0][:100]}"
        return result
    result.compile_s = time.perf_counter() - started
    (work / f"{case.name}.json").write_text(json.dumps(
        {"name": case.name, "gflop": result.gflop, "compile_s": result.compile_s}))
    return result


def _blas_threads(threads: int) -> bool:
    """Sets the thread count of the OpenBLAS that numpy loaded; False if none is found."""
    import ctypes

    with open("/proc/self/maps") as maps:
        libs = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    for lib in libs:
        handle = ctypes.CDLL(lib)
        for symbol in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                       "openblas_set_num_threads"):
            if hasattr(handle, symbol):
                getattr(handle, symbol)(ctypes.c_int(threads))
                return True
    return False


def time_case(result: Result, work: Path, threads: int, min_time: float, min_runs: int,
              clock=time.perf_counter, reference: Callable | None = None) -> Result:
    """Checks work/<name>.so against onnxruntime, then times both (and numpy's `reference`,
    if given), interleaved, by `clock`."""
    from mlc.runtime import Model

    result.threads = threads
    path = work / f"{result.name}.onnx"
    model = Model(work / f"{result.name}.so", threads=threads)
    session = _ort_session(path, threads)
    rng = np.random.default_rng(1)
    feeds_file = work / f"{result.name}.feeds.npz"
    if feeds_file.exists():
        feeds = dict(np.load(feeds_file))
    else:
        feeds = {s.name: rng.standard_normal(s.shape).astype(s.dtype) for s in model.inputs}
    got = list(model.run(feeds).values())
    ref = session.run(None, feeds)
    result.error = max(_max_rel_error(g, r) for g, r in zip(got, ref))
    if not result.error <= RTOL:
        result.note = "MISMATCH"
    if reference is not None and not _blas_threads(threads):
        reference = None
    sides = [lambda: model.run(feeds), lambda: session.run(None, feeds)]
    if reference is not None:
        sides.append(lambda: reference(feeds))
    # Interleaved in blocks of BLOCK runs a side, with a pause between blocks at several
    # threads: a pool that keeps spinning after its run (onnxruntime's, OpenBLAS's) would
    # otherwise hold the cores the next side's threads need.
    times = [[] for _ in sides]
    spent = 0.0
    while len(times[0]) < min_runs or spent < min_time:
        for run, samples in zip(sides, times):
            if threads > 1:
                time.sleep(PAUSE)
                spent += PAUSE  # so that the pauses do not multiply a fast model's rounds
            for _ in range(BLOCK):
                t0 = clock()
                run()
                samples.append(clock() - t0)
                spent += samples[-1]
    medians = [1e3 * float(np.median(samples)) for samples in times]
    result.mlc_ms, result.ort_ms = medians[:2]
    if reference is not None:
        result.numpy_ms = medians[2]
        result.note = (result.note + " " if result.note else "") + (
            f"numpy {result.numpy_ms:.2f} ms: mlc/numpy {result.mlc_ms / result.numpy_ms:.2f}")
    result.arena_mib = model.arena_bytes / 2**20
    result.mlc_mib = _peak_mib("mlc", work / f"{result.name}.so", threads)
    result.ort_mib = _peak_mib("ort", path, threads)
    return result


# The table's columns: header, terminal width, number format, value; the page leaves rel err out.
_COLUMNS = [
    ("threads", 8, "d", lambda r: r.threads),
    ("mlc ms", 10, ".2f", lambda r: r.mlc_ms),
    ("ORT ms", 10, ".2f", lambda r: r.ort_ms),
    ("mlc/ORT", 9, ".2f", lambda r: r.ratio),
    ("GFLOP", 8, ".2f", lambda r: r.gflop),
    ("mlc GF/s", 10, ".1f", lambda r: r.gflop / r.mlc_ms * 1e3),
    ("ORT GF/s", 10, ".1f", lambda r: r.gflop / r.ort_ms * 1e3),
    ("compile s", 11, ".1f", lambda r: r.compile_s),
    ("rel err", 10, ".1e", lambda r: r.error),
    ("arena MiB", 10, ".1f", lambda r: r.arena_mib),
    ("mlc MiB", 9, ".0f", lambda r: r.mlc_mib),
    ("ORT MiB", 9, ".0f", lambda r: r.ort_mib),
]
_PAGE_COLUMNS = [c for c in _COLUMNS if c[0] != "rel err"]


def print_table(results: list[Result]) -> None:
    header = f"{'model':<14}" + "".join(f"{name:>{width}}" for name, width, _, _ in _COLUMNS) + "  note"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.name:<14}" + "".join(f"{value(r):>{width}{fmt}}" for _, width, fmt, value in _COLUMNS)
              + f"  {r.note}")
    print("\n".join(summary(results)))


def summary(results: list[Result]) -> list[str]:
    """The geometric mean of mlc/ORT per thread count and, with several thread counts, each
    side's speedup over its own 1-thread time (geometric means over the models)."""
    lines = []
    counts = sorted({r.threads for r in results})
    for threads in counts:
        timed = [r for r in results if r.threads == threads and r.ratio == r.ratio]
        if timed:
            lines.append(f"geometric mean mlc/ORT at {threads} thread(s) over {len(timed)} "
                         f"models: {_geomean([r.ratio for r in timed]):.2f}")
    single = {r.name: r for r in results if r.threads == 1 and r.ratio == r.ratio}
    for threads in counts[1:] if counts[:1] == [1] else []:
        pairs = [(single[r.name], r) for r in results
                 if r.threads == threads and r.name in single and r.ratio == r.ratio]
        if pairs:
            mlc = _geomean([one.mlc_ms / many.mlc_ms for one, many in pairs])
            ort = _geomean([one.ort_ms / many.ort_ms for one, many in pairs])
            lines.append(f"speedup from 1 to {threads} threads (geometric mean over "
                         f"{len(pairs)} models): mlc {mlc:.2f}x, ORT {ort:.2f}x")
    return lines


def _cpu() -> tuple[str, str]:
    """The host CPU's model name and the vector/FMA flags that decide its code."""
    model, flags = "unknown CPU", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                model = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
    except OSError:
        pass
    wanted = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile"]
    return model, " ".join(f for f in wanted if f in flags)


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(x) for x in values) / len(values)) if values else float("nan")


def write_page(results: list[Result], folder: Path, args, threads: list[int], clock: str) -> None:
    """The results page (markdown) and a bar chart of the ratios (SVG) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    model, flags = _cpu()
    lines = ["# Benchmarks: mlc and onnxruntime, side by side", "",
             "Generated by `python -m mlc.tools.bench " + " ".join(args) + "`; do not edit.", "",
             f"- CPU: {model} ({os.cpu_count()} logical cores); flags: {flags}",
             f"- threads: {', '.join(map(str, threads))} (onnxruntime intra-op and mlc's pool); "
             f"clock: {clock} ({'CPU time of the calling thread' if clock == 'cpu' else 'elapsed'}"
             f"); both run in one process, interleaved in blocks of {BLOCK} runs (mlc, ORT, mlc, ...); "
             "medians.", "",
             "| model | " + " | ".join(name for name, _, _, _ in _PAGE_COLUMNS) + " | note |",
             "|---|" + "---:|" * len(_PAGE_COLUMNS) + "---|"]
    for r in results:
        cells = [f"{value(r):{fmt}}" for _, _, fmt, value in _PAGE_COLUMNS]
        lines.append(f"| {r.name} | " + " | ".join(cells) + f" | {r.note} |")
    lines += [""] + [f"- {line}" for line in summary(results)] + [
        "", "mlc/ORT below 1: mlc is faster.", "", "![mlc/ORT per model](benchmarks.svg)", ""]
    (folder / "benchmarks.md").write_text("\n".join(lines))
    (folder / "benchmarks.svg").write_text(_ratio_chart(results))


def _ratio_chart(results: list[Result]) -> str:
    """Horizontal bars of mlc/ORT per model, on a log scale from 1/4 to 16, 1.0 marked."""
    shown = [r for r in results if r.ratio == r.ratio]
    several = len({r.threads for r in shown}) > 1
    width, left, row = 660, 140, 22
    height = row * len(shown) + 40

    def x(ratio: float) -> float:
        return left + (width - left - 20) * (math.log2(min(max(ratio, 0.25), 16)) + 2) / 6

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'font-family="sans-serif" font-size="12">']
    for i, r in enumerate(shown):
        y = 10 + i * row
        color = "#4a8" if r.ratio <= 1 else "#d64"
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{r.name}'
                     f'{f" ({r.threads}t)" if several else ""}</text>')
        parts.append(f'<rect x="{min(x(r.ratio), x(1)):.1f}" y="{y + 3}" '
                     f'width="{abs(x(r.ratio) - x(1)):.1f}" height="{row - 6}" fill="{color}"/>')
        parts.append(f'<text x="{max(x(r.ratio), x(1)) + 4:.1f}" y="{y + 14}">{r.ratio:.2f}</text>')
    axis_y = 10 + len(shown) * row
    parts.append(f'<line x1="{x(1):.1f}" y1="5" x2="{x(1):.1f}" y2="{axis_y}" stroke="black"/>')
    for tick in (0.25, 0.5, 1, 2, 4, 8, 16):
        parts.append(f'<text x="{x(tick):.1f}" y="{axis_y + 16}" text-anchor="middle">{tick:g}x</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _report(result: Result) -> Result:
    print(f"  {result.name} ({result.threads}t): mlc {result.mlc_ms:.2f} ms, ORT {result.ort_ms:.2f} ms "
          f"(compile {result.compile_s:.1f} s) {result.note}", flush=True)
    return result


def _thread_counts(text: str) -> list[int]:
    try:
        counts = [int(part) for part in text.split(",")]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of thread counts such as 1,2")
    return counts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="patterns", action="append", default=[],
                        help="only models whose name contains this (repeatable)")
    parser.add_argument("--threads", type=_thread_counts, default=[1],
                        help="threads of both sides (onnxruntime intra-op, mlc's pool); a "
                             "comma-separated list times each model at each count")
    parser.add_argument("--min-time", type=float, default=2.0,
                        help="seconds of interleaved runs per model (at least --min-runs)")
    parser.add_argument("--min-runs", type=int, default=5)
    parser.add_argument("--target", default="native")
    parser.add_argument("--clock", choices=CLOCKS, default="wall",
                        help="wall: elapsed time; cpu: the calling thread's CPU time, which other "
                             "processes on a shared machine do not inflate (one thread only)")
    parser.add_argument("--list", action="store_true", help="list the models and exit")
    parser.add_argument("--shipped-weights", action="store_true",
                        help="light models keep their constant-filled weights (small .so files)")
    parser.add_argument("--save", metavar="DIR",
                        help="compile only, keeping each model's .onnx, .so and compile time in DIR")
    parser.add_argument("--page", metavar="DIR",
                        help="also write DIR/benchmarks.md and DIR/benchmarks.svg (results page)")
    parser.add_argument("--prebuilt", metavar="DIR",
                        help="time the models a --save run left in DIR (no compilation)")
    args = parser.parse_args(argv)
    if args.clock == "cpu" and args.threads != [1]:
        parser.error("--clock cpu measures the calling thread alone: use it with --threads 1")
    clock = CLOCKS[args.clock]
    cases = [(n, b) for n, b in all_cases(args.shipped_weights)
             if not args.patterns or any(p in n for p in args.patterns)]
    if args.list:
        print("\n".join(n for n, _ in cases))
        return 0
    results = []
    if args.prebuilt:
        # Time models compiled elsewhere (`--save`): needs numpy and onnxruntime, not MLIR.
        work = Path(args.prebuilt)
        for meta in sorted(work.glob("*.json")):
            info = json.loads(meta.read_text())
            if args.patterns and not any(p in info["name"] for p in args.patterns):
                continue
            for threads in args.threads:
                result = Result(info["name"], gflop=info["gflop"], compile_s=info["compile_s"])
                results.append(_report(time_case(result, work, threads, args.min_time,
                                                 args.min_runs, clock)))
    else:
        with tempfile.TemporaryDirectory(prefix="mlc-bench-") as tmp:
            work = Path(args.save) if args.save else Path(tmp)
            work.mkdir(parents=True, exist_ok=True)
            for name, build in cases:
                case = build()
                compiled = compile_case(case, work, args.target)
                if compiled.note or args.save:
                    results.append(_report(compiled))
                    continue
                for threads in args.threads:
                    result = dataclasses.replace(compiled)
                    results.append(_report(time_case(result, work, threads, args.min_time,
                                                     args.min_runs, clock, case.reference)))
        if args.save:
            return 0
    print()
    print_table(results)
    if args.page:
        write_page(results, Path(args.page), argv if argv is not None else sys.argv[1:],
                   args.threads, args.clock)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
