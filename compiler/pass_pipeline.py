"""Runs a list of pass names on a module: mlc's Python passes and upstream passes mixed.

Used by the stage table and by `mlc opt`. Consecutive upstream names are grouped into one
textual pipeline; an mlc pass name becomes a Python pass. Failures come back as one error
that names the pass and carries MLIR's diagnostics.
"""

import time
from dataclasses import dataclass, field

from mlir import ir
from mlir.passmanager import PassManager

from mlc.errors import CompilerBug, MlcError
from mlc.passes import PASSES


@dataclass
class PassTiming:
    entries: list[tuple[str, float]] = field(default_factory=list)

    def report(self) -> str:
        total = sum(t for _, t in self.entries) or 1e-9
        lines = ["===- mlc pass timing -===", f"  total: {total:.4f} s"]
        lines += [f"  {t:9.4f} s  {100 * t / total:5.1f}%  {name}" for name, t in self.entries]
        return "\n".join(lines)


def format_diagnostics(error: ir.MLIRError) -> str:
    """MLIR's diagnostics, each with its location and notes, one per line."""
    lines = []
    for d in error.error_diagnostics:
        lines.append(f"{d.location}: {d.message}")
        lines += [f"  {n.location}: note: {n.message}" for n in d.notes]
    return "\n".join(lines) or str(error)


def split_pipeline(text: str) -> list[str]:
    """Splits 'a,b{x=1,y=2},func.func(c,d)' at top-level commas."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def run_passes(module: ir.Module, names: list[str], *, timing: PassTiming | None = None,
               print_after_all=None, verify: bool = True) -> None:
    """Runs `names` in order. `print_after_all(name, module)` is called after each pass."""
    for name in names:
        start = time.perf_counter()
        pm = PassManager("builtin.module", context=module.context)
        pm.enable_verifier(verify)
        if name in PASSES:
            pm.add(PASSES[name].run, name)
        else:
            try:
                pm.add(name)
            except (ValueError, ir.MLIRError) as e:
                raise MlcError(f"unknown pass or bad pipeline element '{name}': {e}",
                               hint="`mlc opt --list-passes` lists mlc's passes; "
                                    "any mlir-opt pass name works too") from None
        try:
            with module.context, ir.Location.unknown():
                pm.run(module.operation)
        except ir.MLIRError as e:
            raise CompilerBug(f"pass '{name}' failed:\n{format_diagnostics(e)}") from None
        if timing is not None:
            timing.entries.append((name, time.perf_counter() - start))
        if print_after_all:
            print_after_all(name, module)
