"""Import of GridSample (2-D and volumetric; nearest, linear, cubic; zeros, border and
reflection padding) as the ONNX ops it is made of, the way onnx's reference computes it.

For each output point, grid holds one normalized coordinate per spatial dim (last dim first).
Each is mapped to pixel units,

    x = (g + 1) / 2 * (d - 1)           align_corners
    x = ((g + 1) * d - 1) / 2           otherwise

rounded for nearest, then, when outside [lo, hi] (0..d-1 with align_corners, else -0.5..d-0.5),
clamped to 0..d-1 (border) or reflected into [lo, hi] (reflection). The value is a weighted
sum over taps around x (1 for nearest, 2 per dim for linear, 4 for cubic with Keys' a = -0.75),
each tap read with the same padding rule: zeros reads 0 outside the image. A tap is one
GatherND of the image laid out [N, pixels, C] (Decomposition).
"""

import itertools

import numpy as np
from onnx import helper

from .decompose import Decomposition
from .node import NodeImport

HANDLERS = {}

_MODES = {"bilinear": "linear", "bicubic": "cubic", "linear": "linear", "cubic": "cubic",
          "nearest": "nearest"}
A = -0.75  # Keys' cubic convolution parameter, as onnx and PyTorch use


class _Coords:
    """Arithmetic on [N, Q] coordinate tensors, in the grid's float type."""

    def __init__(self, g: Decomposition, dtype):
        self.g, self.dtype = g, dtype
        self.onnx_type = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))

    def c(self, value) -> str:
        return self.g.const(value, self.dtype)

    def affine(self, x: str, scale: float, offset: float) -> str:
        return self.g.op("Add", self.g.op("Mul", x, self.c(scale)), self.c(offset))

    def clamp(self, x: str, lo: float, hi: float) -> str:
        return self.g.op("Min", self.g.op("Max", x, self.c(lo)), self.c(hi))

    def outside(self, x: str, lo: float, hi: float) -> str:
        g = self.g
        return g.op("Or", g.op("Less", x, self.c(lo)), g.op("Greater", x, self.c(hi)))

    def reflect(self, x: str, lo: float, hi: float) -> str:
        """x reflected by the nearer border until it lies in [lo, hi]; x itself inside."""
        g, span = self.g, hi - lo
        below, above = g.op("Less", x, self.c(lo)), g.op("Greater", x, self.c(hi))
        # Distance past the border it crossed, in whole spans (k) and the rest (r).
        past = g.op("Where", below, g.op("Sub", self.c(lo), x), g.op("Sub", x, self.c(hi)))
        k = g.op("Floor", g.op("Div", past, self.c(span)))
        r = g.op("Sub", past, g.op("Mul", k, self.c(span)))
        even = g.op("Equal", g.op("Sub", k, g.op("Mul", g.op("Floor", g.op(
            "Div", k, self.c(2.0))), self.c(2.0))), self.c(0.0))
        from_lo, from_hi = g.op("Add", self.c(lo), r), g.op("Sub", self.c(hi), r)
        reflected = g.op("Where", below, g.op("Where", even, from_lo, from_hi),
                         g.op("Where", even, from_hi, from_lo))
        return g.op("Where", g.op("Or", below, above), reflected, x)


def _cubic_weights(p: _Coords, t: str) -> list[str]:
    """Keys' weights of the taps at -1, 0, 1, 2 around the sample, t its fraction."""
    g = p.g

    def poly(u: str, coefficients) -> str:  # Horner: ((c0 u + c1) u + c2) u + c3
        acc = p.c(coefficients[0])
        for coefficient in coefficients[1:]:
            acc = g.op("Add", g.op("Mul", acc, u), p.c(coefficient))
        return acc

    far = [A, -5 * A, 8 * A, -4 * A]  # for distances in [1, 2]
    near = [A + 2, -(A + 3), 0.0, 1.0]  # for distances in [0, 1]
    one_minus = g.op("Sub", p.c(1.0), t)
    return [poly(g.op("Add", t, p.c(1.0)), far), poly(t, near), poly(one_minus, near),
            poly(g.op("Sub", p.c(2.0), t), far)]


def _grid_sample(n: NodeImport):
    x, grid = n.bound(0), n.bound(1)
    mode = _MODES.get(n.attr("mode", "linear" if n.opset >= 20 else "bilinear"))
    padding = n.attr("padding_mode", "zeros")
    align = bool(n.attr("align_corners", 0))
    if mode is None or padding not in ("zeros", "border", "reflection"):
        raise n.unsupported(f"mode {n.attr('mode')!r} with padding_mode {padding!r}")
    if not (x.dtype.is_float and grid.dtype.is_float):
        raise n.unsupported("GridSample takes float images and grids")
    batch, channels, *spatial = x.shape
    out_points = grid.shape[1:-1]
    k = len(spatial)
    q = int(np.prod(out_points))
    g = Decomposition()
    p = _Coords(g, grid.dtype.numpy)
    image = g.op("Transpose", g.op("Reshape", g.input(x), g.const([batch, channels, -1], np.int64)),
                 perm=[0, 2, 1])
    points = g.op("Reshape", g.input(grid), g.const([batch, q, k], np.int64))
    taps_per_dim = []
    for i, d in enumerate(spatial):
        lo, hi = (0.0, d - 1.0) if align else (-0.5, d - 0.5)
        normalized = g.op("Gather", points, g.const(k - 1 - i, np.int64), axis=2)
        pos = p.affine(normalized, (d - 1) / 2, (d - 1) / 2) if align else \
            p.affine(normalized, d / 2, (d - 1) / 2)
        if mode == "nearest":
            pos = g.op("Round", pos)
        if padding == "border":
            pos = g.op("Where", p.outside(pos, lo, hi), p.clamp(pos, 0.0, d - 1.0), pos)
        elif padding == "reflection":
            pos = p.reflect(pos, lo, hi)
        if mode == "nearest":
            taps = [(pos, None)]
        else:
            base = g.op("Floor", pos)
            t = g.op("Sub", pos, base)
            if mode == "linear":
                weights, offsets = [g.op("Sub", p.c(1.0), t), t], [0, 1]
            else:
                weights, offsets = _cubic_weights(p, t), [-1, 0, 1, 2]
            taps = [(g.op("Add", base, p.c(float(o))), w) for o, w in zip(offsets, weights)]
        taps_per_dim.append([_tap(g, p, index, weight, d, lo, hi, padding)
                             for index, weight in taps])
    strides = [int(np.prod(spatial[i + 1:])) for i in range(k)]
    total = None
    for combination in itertools.product(*taps_per_dim):
        flat = None
        weight = None
        for (index, w), stride in zip(combination, strides):
            term = g.op("Mul", index, g.const(stride, np.int64))
            flat = term if flat is None else g.op("Add", flat, term)
            if w is not None:
                weight = w if weight is None else g.op("Mul", weight, w)
        value = g.op("GatherND", image, g.op("Unsqueeze", flat, g.const([2], np.int64)),
                     batch_dims=1)
        if weight is not None:
            weight = g.op("Unsqueeze", g.op("Cast", weight, to=x.dtype.onnx),
                          g.const([2], np.int64))
            value = g.op("Mul", value, weight)
        total = value if total is None else g.op("Add", total, value)
    y = g.op("Reshape", g.op("Transpose", total, perm=[0, 2, 1]),
             g.const([batch, channels, *out_points], np.int64))
    return g.import_into(n, y, "grid_sample")


def _tap(g: Decomposition, p: _Coords, index: str, weight, d: int, lo: float, hi: float,
         padding: str):
    """A tap's pixel index (int64, inside the image) and weight (zeros padding: 0 outside)."""
    if padding == "reflection":
        index = p.reflect(index, lo, hi)
    elif padding == "zeros":
        inside = g.op("Cast", g.op("Not", p.outside(index, 0.0, d - 1.0)), to=p.onnx_type)
        weight = inside if weight is None else g.op("Mul", weight, inside)
    # Cast truncates toward zero, which a reflected -0.5 needs; a clamp keeps zeros' reads in.
    return g.op("Cast", p.clamp(index, 0.0, d - 1.0), to=7), weight


HANDLERS["GridSample"] = _grid_sample
