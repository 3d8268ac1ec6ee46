"""Import of the ONNX recurrent ops (RNN, GRU, LSTM) as mlc ops unrolled over time steps.

The sequence length is static, so each op becomes straight-line code: the input projection
X·W^T (plus the biases that do not depend on the state) is one matmul for all steps and gates,
then each step adds H·R^T, applies the gates' activations and updates the state. A reverse
direction walks the steps backwards; a bidirectional op runs both and stacks them. With
`sequence_lens`, steps at or past a batch entry's length keep its state unchanged (`mlc.where`)
and write zeros to Y, which gives ONNX's Y_h: the state after the last valid step (first step
for the reverse direction); an entry of length 0 gets zero states, as in onnxruntime.
Layout 1 (batch first) is transposed into layout 0 on the way in and back on the way out.
"""

import numpy as np
from mlir import ir

from .node import NodeImport

# Steps past this are refused: the unrolled code grows with the sequence.
MAX_STEPS = 1024

# Activation (lower case) -> whether it takes alpha, beta, and their defaults. Alphas and betas
# are consumed from activation_alpha/beta in order, by the activations that take them, as
# onnxruntime does.
_ACTIVATIONS = {
    "relu": (False, False, 0.0, 0.0),
    "tanh": (False, False, 0.0, 0.0),
    "sigmoid": (False, False, 0.0, 0.0),
    "softsign": (False, False, 0.0, 0.0),
    "softplus": (False, False, 0.0, 0.0),
    "affine": (True, True, 0.0, 0.0),
    "leakyrelu": (True, False, 0.01, 0.0),
    "thresholdedrelu": (True, False, 0.0, 0.0),
    "scaledtanh": (True, True, 0.0, 0.0),
    "hardsigmoid": (True, True, 0.2, 0.5),
    "elu": (True, False, 1.0, 0.0),
}

# Per op: gate count, default activations (of one direction).
_KINDS = {
    "RNN": (1, ["Tanh"]),
    "GRU": (3, ["Sigmoid", "Tanh"]),
    "LSTM": (4, ["Sigmoid", "Tanh", "Tanh"]),
}


class _Builder:
    """Builds mlc ops in the op's element type; shapes are computed here."""

    def __init__(self, n: NodeImport):
        self.n = n
        self.elem = n.in_type(0).element_type
        self.dtype = n.in_dtype(0).numpy

    def op(self, name, operands, shape, elem=None, **attrs) -> ir.Value:
        return self.n.op(name, operands, ir.RankedTensorType.get(list(shape), elem or self.elem),
                         **attrs)

    def const(self, array) -> ir.Value:
        return self.n.constant(np.asarray(array, self.dtype))

    def add(self, a, b):
        return self.op("add", [a, b], _shape(a))

    def mul(self, a, b):
        return self.op("mul", [a, b], _shape(a) if len(_shape(a)) >= len(_shape(b)) else _shape(b))

    def matmul(self, a, b):
        return self.op("matmul", [a, b], _shape(a)[:-1] + _shape(b)[-1:])

    def cols(self, value, start, count):
        """value[..., start:start + count]."""
        shape = _shape(value)
        if start == 0 and count == shape[-1]:
            return value
        offsets = [0] * (len(shape) - 1) + [start]
        return self.op("slice", [value], shape[:-1] + [count], offsets=offsets,
                       strides=[1] * len(shape))

    def take(self, value, axis, index):
        """value[..., index, ...] along `axis`, that dim removed."""
        shape = _shape(value)
        offsets = [0] * len(shape)
        offsets[axis] = index
        piece = self.op("slice", [value], shape[:axis] + [1] + shape[axis + 1:], offsets=offsets,
                        strides=[1] * len(shape))
        return self.op("reshape", [piece], shape[:axis] + shape[axis + 1:])

    def input_entry(self, i, axis, index, transpose=False):
        """Input i at `index` along `axis` (a direction), transposed if asked; None if absent."""
        if not self.n.has_input(i):
            return None
        array = self.n.const(i)
        if array is not None:
            entry = np.take(array, index, axis=axis)
            return self.const(entry.T if transpose else entry)
        entry = self.take(self.n.input(i), axis, index)
        if transpose:
            entry = self.op("transpose", [entry], _shape(entry)[::-1], perm=[1, 0])
        return entry

    def activation(self, spec, x):
        name, alpha, beta = spec
        shape = _shape(x)
        if name in ("relu", "tanh", "sigmoid", "softsign", "softplus"):
            return self.op(name, [x], shape)
        if name == "affine":
            return self.add(self.mul(x, self.const(alpha)), self.const(beta))
        if name == "scaledtanh":
            return self.mul(self.op("tanh", [self.mul(x, self.const(beta))], shape), self.const(alpha))
        if name == "leakyrelu":
            return self.op("leaky_relu", [x], shape, alpha=alpha)
        if name == "thresholdedrelu":
            return self.op("thresholded_relu", [x], shape, alpha=alpha)
        if name == "hardsigmoid":
            return self.op("hard_sigmoid", [x], shape, alpha=alpha, beta=beta)
        return self.op("elu", [x], shape, alpha=alpha)


def _shape(value: ir.Value) -> list[int]:
    return list(ir.RankedTensorType(value.type).shape)


def _activations(n: NodeImport, per_direction: int, directions: int, defaults: list[str]):
    """[(name, alpha, beta)] for each direction, defaults filled in."""
    names = [s.decode() if isinstance(s, bytes) else s for s in (n.attr("activations") or [])]
    if not names:
        names = defaults * directions
    elif len(names) == per_direction and directions == 2:
        names = names * 2
    if len(names) != per_direction * directions:
        raise n.unsupported(f"{len(names)} activations given, {per_direction * directions} expected")
    alphas = list(n.attr("activation_alpha") or [])
    betas = list(n.attr("activation_beta") or [])
    specs = []
    for name in names:
        key = name.lower()
        if key not in _ACTIVATIONS:
            raise n.unsupported(f"activation '{name}' is not one of ONNX's RNN activations")
        takes_alpha, takes_beta, alpha, beta = _ACTIVATIONS[key]
        if takes_alpha and alphas:
            alpha = alphas.pop(0)
        if takes_beta and betas:
            beta = betas.pop(0)
        specs.append((key, float(alpha), float(beta)))
    return [specs[d * per_direction:(d + 1) * per_direction] for d in range(directions)]


class _Cell:
    """The step function of one direction: weights split per gate, the state update."""

    def __init__(self, b: _Builder, kind: str, d: int, hidden: int, acts):
        n = b.n
        self.b, self.kind, self.hidden, self.acts = b, kind, hidden, acts
        gates = _KINDS[kind][0]
        self.clip = n.attr("clip")
        self.w_t = b.input_entry(1, 0, d, transpose=True)  # [I, gates * H]
        self.r_t = b.input_entry(2, 0, d, transpose=True)  # [H, gates * H]
        bias = b.input_entry(3, 0, d)  # [2 * gates * H]: Wb then Rb
        self.linear_before_reset = kind == "GRU" and n.attr("linear_before_reset", 0)
        self.in_bias = self.rh_bias = None
        if bias is not None:
            w_bias, r_bias = b.cols(bias, 0, gates * hidden), b.cols(bias, gates * hidden, gates * hidden)
            if self.linear_before_reset:
                # Rb_h is applied inside r * (H·Rh^T + Rb_h): only Rb_z and Rb_r join the
                # input projection.
                zr = b.cols(r_bias, 0, 2 * hidden)
                self.rh_bias = b.cols(r_bias, 2 * hidden, hidden)
                r_bias = b.op("concat", [zr, b.const(np.zeros(hidden))], [gates * hidden], axis=0)
            self.in_bias = b.add(w_bias, r_bias)
        self.peep = b.input_entry(7, 0, d) if kind == "LSTM" else None  # [3 * H]: i, o, f

    def project(self, x_flat):
        """X·W^T (+ biases) for all steps at once: [T * B, gates * H]."""
        y = self.b.matmul(x_flat, self.w_t)
        return y if self.in_bias is None else self.b.add(y, self.in_bias)

    def _pre(self, x):
        if self.clip is None:
            return x
        c = self.b.const(self.clip)
        return self.b.op("max", [self.b.op("min", [x, c], _shape(x)), self.b.const(-self.clip)],
                         _shape(x))

    def step(self, xw, h, c):
        """One step from the projected input xw [B, gates * H]: the new (h, c)."""
        b, hs = self.b, self.hidden
        if self.kind == "RNN":
            return b.activation(self.acts[0], self._pre(b.add(xw, b.matmul(h, self.r_t)))), None
        if self.kind == "GRU":
            return self._gru(xw, h), None
        f, g, act_h = self.acts
        gates = b.add(xw, b.matmul(h, self.r_t))
        gi, go, gf, gc = (b.cols(gates, k * hs, hs) for k in range(4))
        if self.peep is not None:
            gi = b.add(gi, b.mul(c, b.cols(self.peep, 0, hs)))
            gf = b.add(gf, b.mul(c, b.cols(self.peep, 2 * hs, hs)))
        i = b.activation(f, self._pre(gi))
        if self.b.n.attr("input_forget", 0):
            forget = b.op("sub", [b.const(1.0), i], _shape(i))
        else:
            forget = b.activation(f, self._pre(gf))
        cell = b.add(b.mul(forget, c), b.mul(i, b.activation(g, self._pre(gc))))
        if self.peep is not None:
            go = b.add(go, b.mul(cell, b.cols(self.peep, hs, hs)))
        o = b.activation(f, self._pre(go))
        return b.mul(o, b.activation(act_h, cell)), cell

    def _gru(self, xw, h):
        b, hs = self.b, self.hidden
        f, g = self.acts
        xz, xr, xh = (b.cols(xw, k * hs, hs) for k in range(3))
        r_zr, r_h = b.cols(self.r_t, 0, 2 * hs), b.cols(self.r_t, 2 * hs, hs)
        hzr = b.matmul(h, r_zr)
        z = b.activation(f, self._pre(b.add(xz, b.cols(hzr, 0, hs))))
        r = b.activation(f, self._pre(b.add(xr, b.cols(hzr, hs, hs))))
        if self.linear_before_reset:
            hr = b.matmul(h, r_h)
            if self.rh_bias is not None:
                hr = b.add(hr, self.rh_bias)
            candidate = b.add(xh, b.mul(r, hr))
        else:
            candidate = b.add(xh, b.matmul(b.mul(r, h), r_h))
        hh = b.activation(g, self._pre(candidate))
        # (1 - z) * hh + z * h, as hh + z * (h - hh)
        return b.add(hh, b.mul(z, b.op("sub", [h, hh], _shape(h))))


def _step_masks(b: _Builder, steps: int, batch: int):
    """Per step, a [B, 1] bool value: the step is inside the entry's sequence_lens; None when
    every step is (no sequence_lens, or lengths all equal to the sequence). Step 0's mask
    also marks the entries that run at all."""
    n = b.n
    if not n.has_input(4):
        return [None] * steps
    lens = n.const(4)
    i1 = ir.IntegerType.get_signless(1)
    if lens is not None:
        lens = lens.reshape(-1)
        if np.any((lens < 0) | (lens > steps)):
            raise n.unsupported(f"sequence_lens {lens.tolist()} outside [0, {steps}]")
        if np.all(lens == steps):
            return [None] * steps
        return [None if np.all(t < lens) else
                n.constant((t < lens).reshape(batch, 1)) for t in range(steps)]
    lens_type = ir.RankedTensorType.get([batch, 1], n.in_type(4).element_type)
    lens_value = n.op("reshape", [n.input(4)], lens_type)
    index_dtype = n.in_dtype(4).numpy
    return [n.op("compare", [n.constant(np.array(t, index_dtype)), lens_value],
                 ir.RankedTensorType.get([batch, 1], i1), predicate="lt", unsigned=0)
            for t in range(steps)]


def _initial(b: _Builder, i: int, d: int, layout: int, batch: int, hidden: int):
    entry = b.input_entry(i, 1 if layout else 0, d)
    return entry if entry is not None else b.const(np.zeros((batch, hidden)))


def _recurrent(n: NodeImport):
    b = _Builder(n)
    kind = n.op_type
    gates, defaults = _KINDS[kind]
    layout = n.attr("layout", 0)
    direction = n.attr("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise n.unsupported(f"direction '{direction}'")
    directions = 2 if direction == "bidirectional" else 1
    hidden = n.attr("hidden_size") or n.in_shape(2)[-1]
    x = n.input(0)
    if layout:
        shape = _shape(x)
        x = b.op("transpose", [x], [shape[1], shape[0], shape[2]], perm=[1, 0, 2])
    steps, batch, size = _shape(x)
    if steps > MAX_STEPS:
        raise n.unsupported(f"a sequence of {steps} steps is past mlc's unrolling limit of "
                            f"{MAX_STEPS}")
    acts = _activations(n, len(defaults), directions, defaults)
    masks = _step_masks(b, steps, batch)
    x_flat = b.op("reshape", [x], [steps * batch, size])

    ys, finals_h, finals_c = [], [], []
    for d in range(directions):
        cell = _Cell(b, kind, d, hidden, acts[d])
        projected = b.op("reshape", [cell.project(x_flat)], [steps, batch, gates * hidden])
        h = _initial(b, 5, d, layout, batch, hidden)
        c = _initial(b, 6, d, layout, batch, hidden) if kind == "LSTM" else None
        outputs = [None] * steps
        reverse = direction == "reverse" or d == 1
        for k in range(steps):
            t = steps - 1 - k if reverse else k
            new_h, new_c = cell.step(b.take(projected, 0, t), h, c)
            if masks[t] is None:
                h, c, outputs[t] = new_h, new_c, new_h
            else:
                h = b.op("where", [masks[t], new_h, h], [batch, hidden])
                if c is not None:
                    c = b.op("where", [masks[t], new_c, c], [batch, hidden])
                outputs[t] = b.op("where", [masks[t], new_h, b.const(0.0)], [batch, hidden])
        if masks[0] is not None:  # as onnxruntime: an entry of length 0 ends in zero states
            h = b.op("where", [masks[0], h, b.const(0.0)], [batch, hidden])
            if c is not None:
                c = b.op("where", [masks[0], c, b.const(0.0)], [batch, hidden])
        ys.append(outputs)
        finals_h.append(h)
        finals_c.append(c)

    results = [None, _stack_directions(b, finals_h, layout)]
    if len(n.node.output) > 0 and n.node.output[0]:
        results[0] = _sequence_output(b, ys, layout)
    if kind == "LSTM":
        results.append(_stack_directions(b, finals_c, layout))
    return results


def _concat_all(b: _Builder, values, axis):
    total = values[0]
    for value in values[1:]:
        shape = _shape(total)
        shape[axis] += _shape(value)[axis]
        total = b.op("concat", [total, value], shape, axis=axis)
    return total


def _stack_directions(b: _Builder, finals, layout):
    """[D, B, H] (layout 1: [B, D, H]) from each direction's [B, H]."""
    batch, hidden = _shape(finals[0])
    stacked = _concat_all(b, [b.op("reshape", [f], [1, batch, hidden]) for f in finals], 0)
    if layout:
        return b.op("transpose", [stacked], [batch, len(finals), hidden], perm=[1, 0, 2])
    return stacked


def _sequence_output(b: _Builder, ys, layout):
    """Y: [T, D, B, H] (layout 1: [B, T, D, H]) from each direction's per-step [B, H]."""
    batch, hidden = _shape(ys[0][0])
    per_direction = [_concat_all(b, [b.op("reshape", [y], [1, 1, batch, hidden]) for y in outputs], 0)
                     for outputs in ys]
    y = _concat_all(b, per_direction, 1)
    if layout:
        steps = len(ys[0])
        return b.op("transpose", [y], [batch, steps, len(ys), hidden], perm=[2, 0, 1, 3])
    return y


HANDLERS = {"RNN": _recurrent, "GRU": _recurrent, "LSTM": _recurrent}
