"""Compile options, resolved once into a frozen (hashable) value before any stage runs."""

from dataclasses import dataclass

from .target import Target


@dataclass(frozen=True)
class CompileOptions:
    target: Target
    opt_level: int = 3
    verify_each: bool = True
    # Graph inputs whose dims are pinned at compile time: ((name, (d0, d1, ...)), ...).
    input_shapes: tuple[tuple[str, tuple[int, ...]], ...] = ()


def parse_input_shape(text: str) -> tuple[str, tuple[int, ...]]:
    """'data=1x3x224x224' -> ('data', (1, 3, 224, 224)); a scalar is 'name='."""
    from .errors import InputError

    name, sep, dims = text.rpartition("=")
    try:
        shape = tuple(int(d) for d in dims.split("x")) if dims else ()
    except ValueError:
        shape = None
    if not sep or not name or shape is None or any(d <= 0 for d in shape):
        raise InputError(f"--input-shape '{text}': expected NAME=D0xD1x... with positive dims, "
                         "e.g. data=1x3x224x224")
    return name, shape
