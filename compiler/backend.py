"""mlc as an ONNX backend: `onnx.backend.test.BackendTest(mlc.backend, __name__)` runs on it.

`prepare(model)` compiles through the same path as `mlc compile` (`mlc.driver.compile_model`)
into a shared object cached by content: the key hashes the serialized model, the target and
the compiler's own source, so an edited compiler never reuses a stale object. The cache lives
in `$MLC_CACHE_DIR` (default `~/.cache/mlc/backend`). `run(inputs)` goes through `mlc.runtime`
and returns the outputs as a list in graph order. A model mlc cannot compile raises an
`MlcError` (usually `UnsupportedError`), which the backend suite counts as a failure.
"""

import functools
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import onnx
from onnx.backend.base import Backend, BackendRep

import mlc.runtime
from mlc.errors import InputError

_SOURCE_SUFFIXES = (".py", ".mlir", ".h")


def cache_dir() -> Path:
    path = os.environ.get("MLC_CACHE_DIR")
    return Path(path) if path else Path.home() / ".cache" / "mlc" / "backend"


@functools.cache
def compiler_fingerprint() -> str:
    """A hash of every source file of the mlc package: part of each cache key."""
    import mlc.dialects
    import mlc.passes

    digest = hashlib.sha256()
    roots = sorted({Path(p.__file__).parent for p in (mlc, mlc.dialects, mlc.passes)})
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in _SOURCE_SUFFIXES and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _check_device(device: str) -> None:
    if not MlcBackend.supports_device(device):
        raise InputError(f"mlc backend: device '{device}' is not supported; mlc compiles for CPU")


class MlcBackendRep(BackendRep):
    """A compiled model: `run` takes inputs in graph order (or a name -> array dict)."""

    def __init__(self, so_path: Path):
        self.so_path = so_path
        self.model = mlc.runtime.load(so_path)

    def run(self, inputs, **kwargs) -> list[np.ndarray]:
        if isinstance(inputs, dict):
            feeds = inputs
        else:
            if isinstance(inputs, np.ndarray):
                inputs = [inputs]
            specs = self.model.inputs
            if len(inputs) != len(specs):
                raise InputError(f"model takes {len(specs)} input(s), {len(inputs)} given")
            feeds = {s.name: np.asarray(v) for s, v in zip(specs, inputs)}
        return list(self.model.run(feeds).values())


class MlcBackend(Backend):
    target = "native"

    @classmethod
    def is_compatible(cls, model: onnx.ModelProto, device: str = "CPU", **kwargs) -> bool:
        return cls.supports_device(device)

    @classmethod
    def prepare(cls, model: onnx.ModelProto | bytes | str, device: str = "CPU",
                **kwargs) -> MlcBackendRep:
        _check_device(device)
        data = _model_bytes(model)
        return MlcBackendRep(compile_cached(data, kwargs.get("target", cls.target)))

    @classmethod
    def run_model(cls, model, inputs, device: str = "CPU", **kwargs):
        return cls.prepare(model, device, **kwargs).run(inputs)

    @classmethod
    def run_node(cls, node: onnx.NodeProto, inputs, device: str = "CPU", outputs_info=None,
                 **kwargs):
        raise NotImplementedError("mlc compiles whole models; use prepare() on a model")

    @classmethod
    def supports_device(cls, device: str) -> bool:
        return str(device).upper().split(":")[0] == "CPU"


def _model_bytes(model) -> bytes:
    if isinstance(model, onnx.ModelProto):
        return model.SerializeToString()
    if isinstance(model, bytes):
        return model
    return Path(model).read_bytes()


def compile_cached(data: bytes, target: str = "native") -> Path:
    """The .so for a serialized model, compiled once and then reused from the cache."""
    from mlc.driver import compile_model
    from mlc.options import CompileOptions
    from mlc.target import resolve

    key = hashlib.sha256(data + target.encode() + compiler_fingerprint().encode()).hexdigest()[:32]
    root = cache_dir()
    so = root / f"{key}.so"
    if so.exists():
        return so
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlc-backend-", dir=root) as tmp:
        source = Path(tmp) / "model.onnx"
        source.write_bytes(data)
        built = Path(tmp) / "model.so"
        compile_model(source, CompileOptions(resolve(target)), "so", built)
        os.replace(built, so)  # atomic: a concurrent reader sees no half-written file
    return so


# The module-level API that onnx.backend.test.BackendTest calls.
prepare = MlcBackend.prepare
run_model = MlcBackend.run_model
run_node = MlcBackend.run_node
supports_device = MlcBackend.supports_device
is_compatible = MlcBackend.is_compatible
