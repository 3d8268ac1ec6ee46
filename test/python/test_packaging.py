"""What an installed mlc holds, checked on a freshly built wheel, and what the repo keeps in step.

An editable install imports any sub-package found on disk, so a package missing from
pyproject's explicit list goes unnoticed until someone installs the wheel; these tests build
the wheel and look inside. They also keep the checked-in IRDL file equal to its generator and
every registered pass paired with its lit test folder.
"""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# The design's top-level folders and where each lands in the `mlc` import namespace
# (pyproject's package-dir).
NAMESPACE = {"compiler": "mlc", "dialects": "mlc/dialects", "passes": "mlc/passes",
             "tools": "mlc/tools"}

# Data files the package reads at run time.
DATA_FILES = ["mlc/dialects/mlc.irdl.mlir", "mlc/runtime/mlc_runtime.h", "mlc/runtime/threads.c"]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> set[str]:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                           str(REPO)], capture_output=True, text=True)
    assert done.returncode == 0, f"pip wheel failed:\n{done.stdout}\n{done.stderr}"
    [wheel] = out.glob("mlc-*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def _source_modules() -> list[str]:
    """Every .py file under the package folders, as its path inside the wheel."""
    modules = []
    for folder, prefix in NAMESPACE.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            if "__pycache__" not in path.parts:
                modules.append(f"{prefix}/{path.relative_to(REPO / folder).as_posix()}")
    return modules


def test_wheel_has_every_module(wheel_names):
    modules = _source_modules()
    assert "mlc/passes/__init__.py" in modules  # the walk itself found the tree
    missing = [m for m in modules if m not in wheel_names]
    assert not missing, ("modules absent from the wheel (add their package to "
                         f"[tool.setuptools] packages in pyproject.toml): {missing}")


def test_wheel_has_data_files(wheel_names):
    missing = [f for f in DATA_FILES if f not in wheel_names]
    assert not missing, f"data files absent from the wheel (package-data): {missing}"


def test_checked_in_irdl_matches_generator():
    generated = subprocess.run([sys.executable, "-m", "mlc.dialects"], capture_output=True,
                               text=True, check=True).stdout
    checked_in = (REPO / "dialects" / "mlc.irdl.mlir").read_text()
    assert generated == checked_in, \
        "dialects/mlc.irdl.mlir is stale: python -m mlc.dialects > dialects/mlc.irdl.mlir"


def test_every_pass_has_a_lit_folder():
    from mlc.passes import PASSES

    lit = REPO / "test" / "lit"
    suffixes = {".mlir", ".onnxtxt", ".test"}
    untested = [name for name in PASSES
                if not any(p.suffix in suffixes for p in (lit / name).glob("*"))]
    assert not untested, f"passes without tests in test/lit/<pass-name>/: {untested}"
