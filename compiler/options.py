"""Compile options, resolved once into a frozen (hashable) value before any stage runs."""

from dataclasses import dataclass

from .target import Target


@dataclass(frozen=True)
class CompileOptions:
    target: Target
    opt_level: int = 3
    verify_each: bool = True
