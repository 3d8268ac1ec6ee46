"""Import of Resize (opsets 10 to 19+) and the older Upsample into `mlc.resize`.

Scales, sizes and roi may be run-time inputs (the backend suite feeds them so): the result shape
must then be static from shape inference, and the lowering computes the sampling positions at
run time. Axes whose scale is known to be 1 (and whose size stays) are left out of the op, so a
model that resizes H and W with constant scales does two passes over the data, not four.
"""

import numpy as np

from .node import NodeImport

HANDLERS = {}

_COORDINATE_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                     "asymmetric", "tf_crop_and_resize")
_NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


def _resize(n: NodeImport):
    shape, out = n.in_shape(0), n.out_shape()
    rank = len(shape)
    mode = n.attr("mode", "nearest")
    if n.op_type == "Upsample" or n.opset < 11:
        # Upsample and Resize-10: out[i] = in[floor(i / scale)], linear on the same grid.
        coordinate, nearest, roi, factors, from_sizes = "asymmetric", "floor", None, 1, False
        if n.op_type == "Upsample" and n.opset < 9:
            factors = n.constant(np.array(n.attr("scales"), np.float32))
    else:
        coordinate = n.attr("coordinate_transformation_mode", "half_pixel")
        nearest = n.attr("nearest_mode", "round_prefer_floor")
        roi = 1 if n.has_input(1) and coordinate == "tf_crop_and_resize" else None
        from_sizes = n.has_input(3)
        factors = 3 if from_sizes else 2
        if not from_sizes and not n.has_input(2):
            raise n.unsupported("neither scales nor sizes is given")
    if mode == "bilinear":
        mode = "linear"  # Upsample-7's name for it
    if mode not in ("nearest", "linear", "cubic"):
        raise n.unsupported(f"mode '{mode}' is not supported")
    if coordinate not in _COORDINATE_MODES:
        raise n.unsupported(f"coordinate_transformation_mode '{coordinate}' is not supported")
    if nearest not in _NEAREST_MODES:
        raise n.unsupported(f"nearest_mode '{nearest}' is not supported")
    if mode != "nearest" and not n.out_dtype().is_float:
        raise n.unsupported(f"{mode} resizing of {n.out_dtype().name} is not supported")
    if coordinate == "tf_crop_and_resize" and roi is None:
        raise n.unsupported("tf_crop_and_resize without a roi")
    axes = [a + rank if a < 0 else a for a in (n.attr("axes") or range(rank))]
    policy = n.attr("keep_aspect_ratio_policy", "stretch")
    if policy not in ("stretch", "not_larger", "not_smaller"):
        raise n.unsupported(f"keep_aspect_ratio_policy '{policy}' is not supported")
    if not from_sizes:
        policy = "stretch"
    factor_value = factors if not isinstance(factors, int) else n.input(factors)
    known = _known_scales(n, factors, from_sizes, policy, axes, shape, out)
    resized = [j for j, a in enumerate(axes)
               if not (known is not None and known[j] == 1.0 and shape[a] == out[a]
                       and coordinate != "tf_crop_and_resize")]
    if not resized:
        return n.input(0)
    operands = [n.input(0), factor_value] + ([n.input(roi)] if roi is not None else [])
    return n.op("resize", operands, axes=axes, resized=resized, from_sizes=int(from_sizes),
                policy=policy, mode=mode, coordinate_mode=coordinate, nearest_mode=nearest,
                cubic_a=float(n.attr("cubic_coeff_a", -0.75)),
                exclude_outside=n.attr("exclude_outside", 0),
                extrapolation=float(n.attr("extrapolation_value", 0.0)),
                antialias=n.attr("antialias", 0))


def _known_scales(n, factors, from_sizes, policy, axes, shape, out) -> list[float] | None:
    """The per-axis scales when they are known at compile time, else None."""
    value = n.const(factors) if isinstance(factors, int) else None
    if not from_sizes:
        return None if value is None else [float(v) for v in value]
    if policy == "stretch":  # the sizes are the static output dims
        return [out[a] / shape[a] for a in axes]
    if value is None:
        return None
    ratios = [float(s) / shape[a] for s, a in zip(value, axes)]
    pick = min(ratios) if policy == "not_larger" else max(ratios)
    return [pick] * len(axes)


HANDLERS.update({"Resize": _resize, "Upsample": _resize})
