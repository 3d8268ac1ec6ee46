"""Shared helpers for the numeric tests: compile an ONNX model with mlc, run it with onnxruntime.

Every compile writes into the test's own `tmp_path`, so tests run in parallel (pytest-xdist)
without sharing file names.
"""

import itertools
import threading

import numpy as np
import onnx
import pytest

import mlc.runtime
from mlc.driver import compile_model
from mlc.options import CompileOptions
from mlc.target import resolve

# onnxruntime 1.31 reads IR versions up to 11; models built here use IR 8 or 10.
IR_VERSION = 8


def make_model(nodes, inputs, outputs, opset=13, initializers=(), ir_version=IR_VERSION,
               name="test", check=True) -> onnx.ModelProto:
    """A single-graph model from onnx.helper pieces, checked unless told otherwise."""
    graph = onnx.helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", opset)],
                                   ir_version=ir_version)
    if check:
        onnx.checker.check_model(model)
    return model


def tensor(name, dtype, shape):
    """A value_info for a tensor of numpy dtype `dtype`."""
    return onnx.helper.make_tensor_value_info(
        name, onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), list(shape))


def ort_run(model: onnx.ModelProto, feeds: dict) -> list[np.ndarray]:
    """The model's outputs, in graph order, as onnxruntime's CPU provider computes them."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                           providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


@pytest.fixture
def compile_model_so(tmp_path):
    """compile(model) -> a loaded mlc.runtime.Model, built under this test's tmp_path."""
    counter = itertools.count()

    def compile_(model: onnx.ModelProto, target: str = "native") -> mlc.runtime.Model:
        index = next(counter)
        source = tmp_path / f"model{index}.onnx"
        onnx.save(model, source)
        so = tmp_path / f"model{index}.so"
        compile_model(source, CompileOptions(resolve(target)), "so", so)
        return mlc.runtime.load(so)

    return compile_


@pytest.fixture
def compile_and_run(compile_model_so):
    """compile_and_run(model, feeds) -> the mlc outputs, in graph order."""

    def run(model: onnx.ModelProto, feeds: dict) -> list[np.ndarray]:
        return list(compile_model_so(model).run(feeds).values())

    return run


def assert_close(actual, expected, rtol=1e-3, atol=1e-5):
    """Compares like onnx's backend tests: exact for integers and bools, tolerant for floats."""
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual, expected)):
        e = np.asarray(e)
        assert a.dtype == e.dtype, f"output {i}: dtype {a.dtype}, expected {e.dtype}"
        assert a.shape == e.shape, f"output {i}: shape {a.shape}, expected {e.shape}"
        if a.dtype.kind in "fc":
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"output {i}")
        else:
            np.testing.assert_array_equal(a, e, err_msg=f"output {i}")


@pytest.fixture
def check_against_ort(compile_and_run):
    """check(model, feeds, rtol, atol): mlc's outputs match onnxruntime's."""

    def check(model, feeds, rtol=1e-3, atol=1e-5):
        expected = ort_run(model, feeds)
        actual = compile_and_run(model, feeds)
        assert_close(actual, expected, rtol, atol)
        return actual

    return check


def run_concurrently(count: int, work) -> None:
    """Calls work(i) for i in range(count), each in its own thread, all released at once; an
    exception in any thread fails the caller."""
    errors = []
    start = threading.Barrier(count)

    def run(i):
        try:
            start.wait()
            work(i)
        except BaseException as e:  # reported in the calling thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
