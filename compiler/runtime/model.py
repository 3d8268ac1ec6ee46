"""The Python side of the compiled-model ABI (see mlc_runtime.h)."""

import ctypes
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlc import dtypes

ABI_VERSION = 5


class RuntimeInputError(ValueError):
    """A model file that is not an mlc model, or inputs that do not match the model."""


class _TensorInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("dtype", ctypes.c_int32), ("rank", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("symbols", ctypes.POINTER(ctypes.c_char_p)),
                ("bounds", ctypes.POINTER(ctypes.c_int64))]


class _SymbolLimit(ctypes.Structure):
    _fields_ = [("symbol", ctypes.c_char_p), ("most", ctypes.c_int64), ("why", ctypes.c_char_p)]


class _ModelInfo(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_int32), ("model_name", ctypes.c_char_p),
                ("num_inputs", ctypes.c_int32), ("num_outputs", ctypes.c_int32),
                ("inputs", ctypes.POINTER(_TensorInfo)), ("outputs", ctypes.POINTER(_TensorInfo)),
                ("target", ctypes.c_char_p), ("arena_bytes", ctypes.c_int64),
                ("num_limits", ctypes.c_int32), ("limits", ctypes.POINTER(_SymbolLimit)),
                ("num_checks", ctypes.c_int32), ("checks", ctypes.POINTER(ctypes.c_char_p))]

# mlc_runtime.h's status codes
_STATUS = {1: "its arena could not be allocated", 2: "the input shapes were refused",
           3: "the model has symbolic dims", 4: "the model has data-dependent dims",
           5: "a run-time check failed"}
_CHECK_FAILED = 5


@dataclass(frozen=True)
class TensorSpec:
    """`shape` holds a size per static dim, the symbol's name (str) per symbolic dim and, for
    an output dim whose size depends on the input values, '<=N' (N its upper bound)."""
    name: str
    dtype: np.dtype
    shape: tuple[int | str, ...]

    def __repr__(self) -> str:
        return f"{self.name}: {self.dtype.name}[{'x'.join(map(str, self.shape))}]"

    def resolve(self, sizes: dict[str, int]) -> tuple[int, ...]:
        """The shape with each symbol replaced by its size (a data-dependent dim by its bound)."""
        return tuple(symbol_size(d, sizes) if isinstance(d, str) else d for d in self.shape)


def symbol_size(symbol: str, sizes: dict[str, int]) -> int:
    """A symbol's size; an output dim may be a product of symbols and a number ('4*batch'),
    or data-dependent ('<=N': at most N)."""
    if symbol.startswith("<="):
        return int(symbol[2:])
    return math.prod(int(f) if f.isdigit() else sizes[f] for f in symbol.split("*"))


def _specs(table, count: int) -> list[TensorSpec]:
    out = []
    for i in range(count):
        t = table[i]
        dtype = dtypes.from_onnx(t.dtype)
        if dtype is None:
            raise RuntimeInputError(f"tensor {t.name!r} has unknown dtype code {t.dtype}")
        shape = tuple(f"<={t.bounds[d]}" if t.shape[d] == -2 else
                      t.symbols[d].decode() if t.shape[d] < 0 else t.shape[d]
                      for d in range(t.rank))
        out.append(TensorSpec(t.name.decode(), dtype.numpy, shape))
    return out


def check_limits(limits: list[tuple[str, int, str]], sizes: dict[str, int]) -> None:
    """Raises when a symbol (or product) is larger than the model can take."""
    for symbol, most, why in limits:
        size = symbol_size(symbol, sizes)
        if size > most:
            raise RuntimeInputError(f"{symbol!r} is {size} in these inputs, but the model takes "
                                    f"at most {most}: {why}")


def bind_symbols(specs: list[TensorSpec], arrays: list[np.ndarray]) -> dict[str, int]:
    """Each symbol's size, from the first input dim that has it; a disagreeing dim raises."""
    sizes, where = {}, {}
    for spec, value in zip(specs, arrays):
        if value.ndim != len(spec.shape):
            raise RuntimeInputError(f"input {spec.name!r}: shape {tuple(value.shape)} given, "
                                    f"the model takes {_shape_text(spec.shape)} (rank {len(spec.shape)})")
        for d, (want, got) in enumerate(zip(spec.shape, value.shape)):
            if isinstance(want, int):
                if want != got:
                    raise RuntimeInputError(f"input {spec.name!r}: shape {tuple(value.shape)} given, "
                                            f"the model takes {_shape_text(spec.shape)}")
            elif want not in sizes:
                sizes[want], where[want] = got, f"input {spec.name!r} dim {d}"
            elif sizes[want] != got:
                raise RuntimeInputError(
                    f"input {spec.name!r} dim {d} ({want!r}) is {got}, but {where[want]} "
                    f"gave {want!r} = {sizes[want]}: inputs must agree on each symbol's size")
    return sizes


def _shape_text(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


# Files this process has loaded, by path: the file's identity when it was loaded.
_LOADED: dict[str, tuple] = {}


def _load_library(path: Path) -> ctypes.CDLL:
    """dlopen(path). The dynamic loader hands back a library already loaded from the same
    path even when the file has since been replaced (a model recompiled in place): such a file
    is loaded from a private copy instead, so a Model always runs the file as it is now."""
    import shutil
    import tempfile

    stat = path.stat()
    identity = (stat.st_dev, stat.st_ino, stat.st_mtime_ns, stat.st_size)
    known = _LOADED.setdefault(str(path), identity)
    if known == identity:
        return ctypes.CDLL(str(path))
    folder = tempfile.mkdtemp(prefix="mlc-model-")
    copy = Path(folder) / f"{identity[1]}-{path.name}"
    shutil.copyfile(path, copy)
    return ctypes.CDLL(str(copy))


class Model:
    """A loaded model. `inputs` and `outputs` list TensorSpecs in graph order; `arena_bytes` is
    the memory each calling thread holds for intermediate buffers (allocated on its first run)."""

    def __init__(self, path: str | Path, threads: int | None = None):
        self.path = Path(path)
        if not self.path.exists():
            raise RuntimeInputError(f"{self.path}: no such file")
        try:
            self._lib = _load_library(self.path.resolve())
        except OSError as e:
            raise RuntimeInputError(f"{self.path}: cannot load as a shared object ({e})") from None
        try:
            describe, _ = self._lib.mlc_model, self._lib.mlc_run  # mlc_run_sized: ABI 5 on
        except AttributeError:
            raise RuntimeInputError(f"{self.path}: not an mlc model (no mlc_model/mlc_run symbols)") from None
        describe.restype = ctypes.POINTER(_ModelInfo)
        info = describe().contents
        if info.abi_version != ABI_VERSION:
            raise RuntimeInputError(f"{self.path}: built for mlc ABI {info.abi_version}, "
                                    f"this runtime speaks ABI {ABI_VERSION}; recompile the model")
        self.name = info.model_name.decode()
        self.target = info.target.decode()
        self.arena_bytes = int(info.arena_bytes)
        self.inputs = _specs(info.inputs, info.num_inputs)
        self.outputs = _specs(info.outputs, info.num_outputs)
        # (symbol, largest size, why): the sizes the model's static tables allow
        self.limits = [(info.limits[i].symbol.decode(), int(info.limits[i].most),
                        info.limits[i].why.decode()) for i in range(info.num_limits)]
        self._checks = [info.checks[i].decode() for i in range(info.num_checks)]
        self._run = self._lib.mlc_run_sized
        self._run.argtypes = [ctypes.POINTER(ctypes.c_void_p),
                              ctypes.POINTER(ctypes.POINTER(ctypes.c_int64)),
                              ctypes.POINTER(ctypes.c_void_p),
                              ctypes.POINTER(ctypes.POINTER(ctypes.c_int64))]
        self._run.restype = ctypes.c_int
        if threads is not None:
            self.threads = threads

    @property
    def threads(self) -> int:
        """Threads a run uses (the .so's pool, shared by every Model of the same file);
        by default the physical cores this process may run on."""
        get = getattr(self._lib, "mlc_get_num_threads", None)
        return int(get()) if get else 1

    @threads.setter
    def threads(self, n: int) -> None:
        if int(n) < 0:
            raise ValueError(f"threads must be >= 0 (0: the default), not {n}")
        setter = getattr(self._lib, "mlc_set_num_threads", None)
        if setter is None:
            raise RuntimeInputError(f"{self.path}: built before models had threads; recompile it")
        setter.argtypes = [ctypes.c_int]
        setter(int(n))

    def __repr__(self) -> str:
        return f"<mlc.runtime.Model {self.name!r} inputs={self.inputs} outputs={self.outputs}>"

    def _check(self, feeds: dict) -> list[np.ndarray]:
        if not isinstance(feeds, dict):
            raise RuntimeInputError("run() takes a dict {input name: numpy array}")
        expected = {s.name for s in self.inputs}
        unknown = sorted(set(feeds) - expected)
        missing = [s.name for s in self.inputs if s.name not in feeds]
        if unknown or missing:
            parts = []
            if unknown:
                parts.append(f"unknown input(s) {unknown}")
            if missing:
                parts.append(f"missing input(s) {missing}")
            raise RuntimeInputError(f"model {self.name!r}: {'; '.join(parts)}; "
                                    f"it takes {[repr(s) for s in self.inputs]}")
        arrays = []
        for spec in self.inputs:
            value = feeds[spec.name]
            if not isinstance(value, np.ndarray):
                value = np.asarray(value)
            if value.dtype != spec.dtype:
                raise RuntimeInputError(f"input {spec.name!r}: dtype {value.dtype} given, "
                                        f"the model takes {spec.dtype}")
            # np.ascontiguousarray would make a 0-d array 1-d
            arrays.append(np.require(value, requirements="C"))
        return arrays

    def output_shapes(self, feeds: dict) -> dict[str, tuple[int, ...]]:
        """The outputs' shapes for these inputs (their symbols bound from the inputs); a
        data-dependent dim, known only after a run, as its upper bound."""
        sizes = bind_symbols(self.inputs, self._check(feeds))
        check_limits(self.limits, sizes)
        return {s.name: s.resolve(sizes) for s in self.outputs}

    def run(self, feeds: dict) -> dict:
        """Runs the model; returns {output name: array} in graph order."""
        arrays = self._check(feeds)
        sizes = bind_symbols(self.inputs, arrays)
        check_limits(self.limits, sizes)
        outputs = [np.empty(s.resolve(sizes), s.dtype) for s in self.outputs]
        shapes = [(ctypes.c_int64 * max(1, a.ndim))(*a.shape) for a in arrays]
        out_shapes = [(ctypes.c_int64 * max(1, o.ndim))() for o in outputs]
        # `arrays`, `shapes`, `outputs` and `out_shapes` hold every buffer until the call returns.
        in_ptrs = (ctypes.c_void_p * max(1, len(arrays)))(*[a.ctypes.data for a in arrays])
        shape_ptrs = (ctypes.POINTER(ctypes.c_int64) * max(1, len(shapes)))(*shapes)
        out_ptrs = (ctypes.c_void_p * max(1, len(outputs)))(*[o.ctypes.data for o in outputs])
        out_shape_ptrs = (ctypes.POINTER(ctypes.c_int64) * max(1, len(out_shapes)))(*out_shapes)
        status = self._run(in_ptrs, shape_ptrs, out_ptrs, out_shape_ptrs)
        if status == _CHECK_FAILED:
            failed = self._lib.mlc_failed_check()
            raise RuntimeInputError(f"model {self.name!r} refused these inputs: {self._checks[failed]}")
        if status != 0:
            raise RuntimeError(f"model {self.name!r}: mlc_run failed with status {status} "
                               f"({_STATUS.get(status, 'unknown')})")
        # A data-dependent output fills the start of its buffer, in its actual shape.
        results = {}
        for spec, o, shape in zip(self.outputs, outputs, out_shapes):
            actual = tuple(shape[:o.ndim])
            results[spec.name] = o if actual == o.shape else o.reshape(-1)[:math.prod(actual)].reshape(actual)
        return results


def load(path: str | Path, threads: int | None = None) -> Model:
    """Loads a compiled model; `threads` sets its thread count (see `Model.threads`)."""
    return Model(path, threads)
