"""LLVM IR -> object code with llc: one object, or a large module's pieces side by side.

llc compiles a module on one core. A model's module is many outlined kernel functions, so
`llvm-split` cuts a large one into about equal parts (functions dealt round-robin; internal
symbols made hidden globals so the parts link back together), and one llc per core compiles
them at once. The shared object's version script keeps those symbols local again.
"""

import os
import subprocess
from pathlib import Path

from .errors import ToolError
from .toolchain import run_tool, tool

# Below this much IR text a second llc process costs more than it saves.
MIN_SPLIT_BYTES = 1 << 20
MAX_JOBS = 4


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def compile_objects(llc: list[str], llvm_ir: str, work: Path, stem: str) -> list[Path]:
    """Object files for `llvm_ir`; `llc`: the llc command line up to its output options."""
    jobs = min(MAX_JOBS, _cores(), max(1, len(llvm_ir) // MIN_SPLIT_BYTES))
    if jobs < 2:
        obj = work / f"{stem}.o"
        run_tool(llc + ["-filetype=obj", "-o", str(obj), "-"], stdin=llvm_ir.encode())
        return [obj]
    prefix = work / f"{stem}.part"
    run_tool([tool("llvm-split"), f"-j{jobs}", "--round-robin", "-o", str(prefix), "-"],
             stdin=llvm_ir.encode())
    parts = [Path(f"{prefix}{i}") for i in range(jobs)]
    objects = [part.with_suffix(f".{i}.o") for i, part in enumerate(parts)]
    running = [subprocess.Popen(llc + ["-filetype=obj", "-o", str(obj), str(part)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
               for part, obj in zip(parts, objects)]
    failures = []
    for process in running:
        _, err = process.communicate()
        if process.returncode != 0:
            failures.append(f"exit {process.returncode}: {err.decode(errors='replace')}")
    if failures:
        raise ToolError(f"llc failed on a part of the module\ncommand: {' '.join(llc)}\n"
                        + "\n".join(failures))
    return objects
