"""Import of DFT as a matmul with its constant transform matrix.

Along `axis`, with the complex value in the last dim (1 entry: real, 2: real and imaginary),

    forward   Y[k] = sum_n X[n] e^(-2 pi i k n / L)           k < L, or k <= L/2 (onesided)
    inverse   y[n] = 1/L sum_k X[k] e^(+2 pi i k n / L)       onesided: X[L-k] = conj(X[k])

is a real matrix W [N*C, K*C'] applied to the signal laid out as rows of N*C numbers (the
axis moved next to the complex dim, the other dims flattened): one MatMul against a constant,
which runs on the tiled matmul schedule. L is dft_length (the signal is zero-padded or cut to
it); a onesided inverse gives real output (C' = 1). The node is imported as the ONNX nodes
Transpose, Reshape, MatMul, Reshape, Transpose (`Decomposition`). An axis given at run time is resolved by the
output shape when only one axis fits it; otherwise each fitting axis is computed and the axis
picks one at run time.
"""

import numpy as np
from onnx import helper

from .decompose import Decomposition
from .node import NodeImport

HANDLERS = {}


def _matrix(n_in: int, channels: int, length: int, inverse: bool, onesided: bool) -> np.ndarray:
    """W [n_in * channels, K * C'] (see the module docstring)."""
    if inverse and onesided:  # the Hermitian half: k = 0..n_in-1 of a length-L spectrum
        k = np.arange(n_in)[:, None]
        t = np.arange(length)[None, :]
        theta = 2 * np.pi * k * t / length
        weight = np.where((k == 0) | ((length % 2 == 0) & (k == length // 2)), 1.0, 2.0)
        real = weight * np.cos(theta) / length  # from X's real part
        imag = -weight * np.sin(theta) / length  # from X's imaginary part
        w = np.zeros((n_in, channels, length, 1))
        w[:, 0, :, 0] = real
        if channels == 2:
            w[:, 1, :, 0] = imag
        return w.reshape(n_in * channels, length)
    out = length // 2 + 1 if onesided else length
    taps = np.arange(min(n_in, length))[:, None]
    theta = 2 * np.pi * taps * np.arange(out)[None, :] / length
    sign, scale = (1.0, 1.0 / length) if inverse else (-1.0, 1.0)
    cos, sin = np.cos(theta) * scale, sign * np.sin(theta) * scale
    w = np.zeros((n_in, channels, out, 2))
    w[: len(taps), 0, :, 0], w[: len(taps), 0, :, 1] = cos, sin  # real part in
    if channels == 2:  # (a + ib)(cos + i sin') = (a cos - b sin') + i (a sin' + b cos)
        w[: len(taps), 1, :, 0], w[: len(taps), 1, :, 1] = -sin, cos
    return w.reshape(n_in * channels, out * 2)


def _length(n: NodeImport, n_in: int, inverse: bool, onesided: bool) -> int:
    if n.has_input(1):
        return int(n.require_const(1, "dft_length").reshape(-1)[0])
    return 2 * (n_in - 1) if inverse and onesided else n_in


# A transform matrix up to this many entries is applied in f64 (its cost is nil at that size),
# so that the zeros of a transform (the imaginary parts of a real signal's) come out as zeros.
F64_ENTRIES = 1 << 14


def _out_shape(x_shape, axis: int, length: int, inverse: bool, onesided: bool) -> list[int]:
    shape = list(x_shape)
    if inverse and onesided:
        shape[axis], shape[-1] = length, 1
    else:
        shape[axis], shape[-1] = (length // 2 + 1 if onesided else length), 2
    return shape


def _dft_along(g: Decomposition, x: str, x_shape, axis: int, length: int, inverse: bool,
               onesided: bool, dtype) -> str:
    """The DFT of `x` along `axis`."""
    rank = len(x_shape)
    n_in, channels = x_shape[axis], x_shape[-1]
    w = _matrix(n_in, channels, length, inverse, onesided)
    wide = w.size <= F64_ENTRIES
    perm = [d for d in range(rank - 1) if d != axis] + [axis, rank - 1]
    out_shape = _out_shape(x_shape, axis, length, inverse, onesided)
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    rows = g.op("Reshape", g.op("Transpose", x, perm=perm),
                g.const([-1, n_in * channels], np.int64))
    product = g.op("MatMul", g.op("Cast", rows, to=11 if wide else elem),
                   g.const(w, np.float64 if wide else dtype))
    y = g.op("Reshape", g.op("Cast", product, to=elem),
             g.const([out_shape[d] for d in perm], np.int64))
    return g.op("Transpose", y, perm=[int(p) for p in np.argsort(perm)])


def _dft(n: NodeImport):
    x = n.bound(0)
    shape, rank = list(x.shape), len(x.shape)
    if not x.dtype.is_float or shape[-1] not in (1, 2):
        raise n.unsupported("DFT takes a float signal whose last dim is 1 (real) or 2 (complex)")
    inverse, onesided = bool(n.attr("inverse", 0)), bool(n.attr("onesided", 0))
    if n.opset >= 20:
        axis = n.const(2) if n.has_input(2) else np.array(-2)
    else:
        axis = np.array(n.attr("axis", 1))
    if axis is not None:
        axis = int(np.asarray(axis).reshape(-1)[0])
        candidates = [axis + rank if axis < 0 else axis]
    else:
        candidates = list(range(rank - 1))
    g = Decomposition()
    signal = g.input(x)
    kept = []
    for a in candidates:
        length = _length(n, shape[a], inverse, onesided)
        if _out_shape(shape, a, length, inverse, onesided) == n.out_shape():
            kept.append((a, _dft_along(g, signal, shape, a, length, inverse, onesided,
                                       x.dtype.numpy)))
    if not kept:
        raise n.unsupported(f"the output shape {n.out_shape()} is not the DFT's of input "
                            f"shape {shape} along axis {', '.join(map(str, candidates))}")
    result = kept[0][1]
    if len(kept) > 1:  # the run-time axis picks among the axes that fit the output shape
        axis = g.op("Cast", g.input(n.bound(2)), to=7)
        axis = g.op("Where", g.op("Less", axis, g.const(0, np.int64)),
                    g.op("Add", axis, g.const(rank, np.int64)), axis)
        for a, y in kept[1:]:
            result = g.op("Where", g.op("Equal", axis, g.const(a, np.int64)), y, result)
    return g.import_into(n, result, "dft")


HANDLERS["DFT"] = _dft
