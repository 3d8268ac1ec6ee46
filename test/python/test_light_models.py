"""The real-architecture models in onnx's wheel (onnx/backend/test/data/light) compile, run and
match their stored outputs, to the tolerances onnx's backend test uses for each.

Inputs are what onnx's backend runner feeds these models: arange(n).reshape(shape) / n.
"""

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import mlc.runtime
from mlc.driver import compile_model
from mlc.options import CompileOptions
from mlc.target import resolve

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
MODELS = sorted(p.stem.removeprefix("light_") for p in (DATA / "light").glob("light_*.onnx"))


def _tolerances(name: str) -> tuple[float, float]:
    """(rtol, atol) from the backend test's data.json; its defaults where there is none."""
    spec = DATA / "real" / f"test_{name}" / "data.json"
    data = json.loads(spec.read_text()) if spec.exists() else {}
    return data.get("rtol", 1e-3), data.get("atol", 1e-7)


def _dummy_input(value_info) -> np.ndarray:
    dims = value_info.type.tensor_type.shape.dim
    shape = tuple(d.dim_value if d.HasField("dim_value") else 1 for d in dims)
    n = int(np.prod(shape))
    return (np.arange(n).reshape(shape) / n).astype(np.float32)


def test_all_nine_present():
    assert len(MODELS) == 9, MODELS


@pytest.mark.parametrize("name", MODELS)
def test_light_model(tmp_path, name):
    source = DATA / "light" / f"light_{name}.onnx"
    model = onnx.load(source)
    so = tmp_path / f"{name}.so"
    compile_model(source, CompileOptions(resolve("native")), "so", so)
    compiled = mlc.runtime.load(so)

    weights = {init.name for init in model.graph.initializer}
    feeds = {vi.name: _dummy_input(vi) for vi in model.graph.input if vi.name not in weights}
    assert [s.name for s in compiled.inputs] == list(feeds)
    outputs = list(compiled.run(feeds).values())

    expected = []
    for i in range(len(model.graph.output)):
        proto = onnx.TensorProto()
        proto.ParseFromString((DATA / "light" / f"light_{name}_output_{i}.pb").read_bytes())
        expected.append(numpy_helper.to_array(proto))
    rtol, atol = _tolerances(name)
    assert len(outputs) == len(expected)
    for got, want in zip(outputs, expected):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
