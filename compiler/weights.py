"""Weights: compile-time constant tensors, kept as binary data from import to the .so.

`WeightStore.constant` makes an `mlc.constant` op: a splat or a tiny tensor inline as a
`dense<...>` attribute, anything else as a `dense_resource<...>` blob whose bytes the store
keeps (MLIR holds a reference; printing elides it). At the llvm stage each large constant
becomes an external symbol, and `emit_weights_assembly` writes the bytes into the .so
through `.incbin`, so weights never pass through MLIR or LLVM text.
"""

import re
from dataclasses import dataclass, field

import numpy as np
from mlir import ir

from mlc import dtypes

INLINE_LIMIT = 16  # elements; larger non-splat constants become resource blobs


def _is_splat(array: np.ndarray) -> bool:
    if array.size <= 1:
        return True
    if all(s == 0 for s in array.strides):
        return True
    flat = array.reshape(-1)
    return array.size <= 4096 and bool(np.all(flat == flat[0]))


@dataclass
class WeightStore:
    blobs: dict[str, np.ndarray] = field(default_factory=dict)

    def constant(self, array: np.ndarray, hint: str, loc: ir.Location) -> ir.Value:
        dtype = dtypes.from_numpy(array.dtype)
        if dtype is None:
            raise ValueError(f"constant '{hint}' has unsupported dtype {array.dtype}")
        elem = ir.Type.parse(dtype.mlir)
        type_ = ir.RankedTensorType.get(array.shape, elem)
        if _is_splat(array) or array.size <= INLINE_LIMIT:
            value = dense_attr(array, type_)
        else:
            name = self._fresh_name(hint)
            data = np.ascontiguousarray(array)
            if dtype.mlir == "i1":
                # A bool blob is bytes; a cast gives back the bool tensor (convert-i1-tensors-to-i8
                # then stores it as those very bytes).
                blob = self.constant(data.astype(np.uint8), hint, loc)
                return ir.Operation.create("mlc.cast", results=[type_], operands=[blob],
                                           loc=loc).result
            self.blobs[name] = data
            value = ir.DenseResourceElementsAttr.get_from_buffer(
                memoryview(np.ascontiguousarray(data).reshape(-1).view(np.uint8)), name, type_,
                alignment=64)
        op = ir.Operation.create("mlc.constant", results=[type_], attributes={"value": value}, loc=loc)
        return op.result

    @classmethod
    def from_mlir_text(cls, text: str) -> "WeightStore":
        """Blobs from the `dialect_resources` section of a fully printed module."""
        store = cls()
        section = re.search(r"\{-#\s*dialect_resources:(.*)#-\}", text, re.S)
        if section:
            for name, hexdata in re.findall(r'([\w.$-]+|"[^"]*")\s*:\s*"0x([0-9A-Fa-f]*)"',
                                            section.group(1)):
                raw = bytes.fromhex(hexdata)[4:]  # the first 4 bytes hold the alignment
                store.blobs[name.strip('"')] = np.frombuffer(raw, np.uint8)
        return store

    def _fresh_name(self, hint: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", hint) or "w"
        name, i = base, 1
        while name in self.blobs:
            name, i = f"{base}_{i}", i + 1
        return name


def dense_attr(array: np.ndarray, type_: ir.RankedTensorType) -> ir.Attribute:
    """A `dense<...>` attribute (splat when all elements are equal)."""
    flat = np.asarray(array).reshape(-1)
    if flat.size and (_is_splat(np.asarray(array))):
        scalar = flat[:1]
        return ir.DenseElementsAttr.get_splat(type_, _scalar_attr(scalar[0], type_.element_type))
    data = np.ascontiguousarray(array)
    if data.dtype == np.bool_ or dtypes.from_numpy(data.dtype).is_unsigned:
        elements = [_scalar_attr(v, type_.element_type) for v in data.reshape(-1)]
        return ir.DenseElementsAttr.get(elements, type=type_)
    return ir.DenseElementsAttr.get(data, type=type_.element_type, shape=list(array.shape))


def _scalar_attr(value, elem: ir.Type) -> ir.Attribute:
    if isinstance(elem, ir.IntegerType):
        width = ir.IntegerType(elem).width
        v = int(value)
        if width == 1:
            v = 1 if v else 0
        return ir.IntegerAttr.get(elem, v if width == 1 else _wrap(v, width))
    return ir.FloatAttr.get(elem, float(value))


def _wrap(v: int, width: int) -> int:
    # Unsigned values are stored in signless integers: reinterpret as two's complement.
    v &= (1 << width) - 1
    return v - (1 << width) if v >= 1 << (width - 1) else v
