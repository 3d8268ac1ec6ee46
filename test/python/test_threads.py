"""Models on several threads: the same results as onnxruntime at 1 and 2 threads (and the same
bits at any count), the thread-count API, and concurrent callers sharing one pool."""

import subprocess
import sys

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import mlc.runtime
from mlc.tools.bench import light_case

from conftest import assert_close, make_model, ort_run, run_concurrently, tensor


def _matmul_model() -> onnx.ModelProto:
    """relu(x @ w): 33 MFLOP, cut into parallel chunks."""
    w = np.random.default_rng(1).standard_normal((256, 256)).astype(np.float32)
    return make_model([helper.make_node("MatMul", ["x", "w"], ["m"]),
                       helper.make_node("Relu", ["m"], ["y"])],
                      [tensor("x", np.float32, (256, 256))], [tensor("y", np.float32, (256, 256))],
                      initializers=[numpy_helper.from_array(w, "w")], name="matmul")


def _odd_matmul_model(m: int, k: int, n: int) -> onnx.ModelProto:
    """x @ w whose rows (or panels of columns) the parallel chunks do not divide: the rows or
    columns they leave are computed after them."""
    w = np.random.default_rng(4).standard_normal((k, n)).astype(np.float32)
    return make_model([helper.make_node("MatMul", ["x", "w"], ["y"])],
                      [tensor("x", np.float32, (m, k))], [tensor("y", np.float32, (m, n))],
                      initializers=[numpy_helper.from_array(w, "w")], name="odd_matmul")


def _conv_model() -> onnx.ModelProto:
    """relu(conv3x3(x) + b) on 64x64 images: a parallel GEMM and a parallel elementwise op."""
    rng = np.random.default_rng(2)
    w = (rng.standard_normal((32, 16, 3, 3)) * 0.1).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    return make_model([helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
                       helper.make_node("Relu", ["c"], ["y"])],
                      [tensor("x", np.float32, (1, 16, 64, 64))],
                      [tensor("y", np.float32, (1, 32, 64, 64))],
                      initializers=[numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")],
                      name="conv")


def _grouped_conv_model() -> onnx.ModelProto:
    """relu(grouped 1x1 conv): a parallel loop over blocks of groups, each group's matmul whole."""
    w = (np.random.default_rng(3).standard_normal((128, 16, 1, 1)) * 0.2).astype(np.float32)
    return make_model([helper.make_node("Conv", ["x", "w"], ["c"], group=4),
                       helper.make_node("Relu", ["c"], ["y"])],
                      [tensor("x", np.float32, (1, 64, 28, 28))],
                      [tensor("y", np.float32, (1, 128, 28, 28))],
                      initializers=[numpy_helper.from_array(w, "w")], name="grouped")


def _softmax_model() -> onnx.ModelProto:
    """Softmax over rows of 128: its max and sum are row reductions in parallel chunks."""
    return make_model([helper.make_node("Softmax", ["x"], ["y"], axis=-1)],
                      [tensor("x", np.float32, (4, 128, 128))], [tensor("y", np.float32, (4, 128, 128))],
                      name="softmax")


def _feeds(model: mlc.runtime.Model, seed=0) -> dict:
    rng = np.random.default_rng(seed)
    return {s.name: rng.standard_normal(s.shape).astype(s.dtype) for s in model.inputs}


MODELS = {"matmul": _matmul_model, "odd_rows": lambda: _odd_matmul_model(203, 256, 96),
          "odd_columns": lambda: _odd_matmul_model(4, 512, 1000),
          "conv": _conv_model, "grouped": _grouped_conv_model,
          "softmax": _softmax_model,
          "squeezenet": lambda: light_case("squeezenet").model}


@pytest.mark.parametrize("name", MODELS)
def test_matches_onnxruntime_at_1_and_2_threads(compile_model_so, name):
    model = MODELS[name]()
    compiled = compile_model_so(model)
    feeds = _feeds(compiled)
    expected = ort_run(model, feeds)
    results = {}
    for threads in (1, 2):
        compiled.threads = threads
        results[threads] = list(compiled.run(feeds).values())
        assert_close(results[threads], expected, rtol=1e-3, atol=1e-4)
    for one, two in zip(results[1], results[2]):
        np.testing.assert_array_equal(one, two)  # static shares: the same sums in the same order


def test_thread_count_api(compile_model_so):
    compiled = compile_model_so(_matmul_model())
    so = compiled.path
    assert mlc.runtime.load(so, threads=3).threads == 3
    compiled.threads = 0
    default = compiled.threads
    assert 1 <= default <= 256  # the physical cores
    compiled.threads = 1
    assert compiled.threads == 1
    with pytest.raises(ValueError):
        compiled.threads = -1
    # The .so's OpenMP entry points stay inside it: another OpenMP runtime never binds to them.
    assert not hasattr(compiled._lib, "__kmpc_fork_call")


def test_concurrent_callers_share_the_pool(compile_model_so):
    """Callers that find the pool busy run their loops alone; every result stays right."""
    compiled = compile_model_so(_conv_model())
    compiled.threads = 2
    feeds = [_feeds(compiled, seed) for seed in range(4)]
    expected = [list(compiled.run(f).values()) for f in feeds]
    got = [None] * len(feeds)

    def work(i):
        for _ in range(3):
            got[i] = list(compiled.run(feeds[i]).values())

    run_concurrently(len(feeds), work)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g[0], e[0])


def test_mlc_run_threads_option(compile_model_so):
    so = compile_model_so(_matmul_model()).path
    done = subprocess.run([sys.executable, "-m", "mlc", "run", str(so), "--threads", "2"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "y: float32[256, 256]" in done.stdout


def _pool_harness(tmp_path, *args) -> str:
    """runtime/threads.c alone, driven as generated code drives it (threads/pool_harness.c)."""
    from pathlib import Path

    from mlc.runtime.header import threads_source
    from mlc.toolchain import c_compiler

    harness = Path(__file__).parent / "threads" / "pool_harness.c"
    exe = tmp_path / "pool_harness"
    subprocess.run([c_compiler(), "-O2", "-pthread", str(harness), str(threads_source()),
                    "-o", str(exe)], check=True)
    done = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_pool_spreads_a_loop_over_the_team(tmp_path, threads):
    """Every iteration runs once, on as many threads as asked; a region inside a region runs
    on its caller."""
    out = _pool_harness(tmp_path, threads, 10)
    assert f"wrong_counts=0 threads_used={threads} nested_ok=1" in out


def test_pool_balances_a_slow_share(tmp_path):
    """A thread done with its own share takes slots of a slower one: the caller's share (the
    first half of the loop) is slow, and the worker runs part of it."""
    out = _pool_harness(tmp_path, 2, 16, "uneven")
    assert "wrong_counts=0" in out
    taken = int(out.split("slow_taken_by_others=")[1].split()[0])
    assert 1 <= taken < 8


def test_idle_pool_sleeps(tmp_path):
    """Workers spin between regions only for a short while: an idle pool costs no CPU."""
    out = _pool_harness(tmp_path, 2, 4, "idle")
    assert int(out.split("idle_cpu_ms=")[1].split()[0]) < 100
