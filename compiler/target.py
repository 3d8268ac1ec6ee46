"""Target descriptions: what `--target` means for code generation.

A `Target` fixes the LLVM triple, CPU and features handed to llc, and describes the vector
unit and caches that schedules size their tiles from. `x86`, `x86-64-v2/v3/v4` are fixed
descriptions; `native` reads the host.
"""

import platform
from dataclasses import dataclass

from .errors import InputError


@dataclass(frozen=True)
class Target:
    name: str
    triple: str
    cpu: str
    features: str = ""
    vector_bits: int = 128
    vector_registers: int = 16
    has_fma: bool = False
    l1_bytes: int = 32 * 1024
    l2_bytes: int = 1024 * 1024

    @property
    def f32_lanes(self) -> int:
        return self.vector_bits // 32


_X86_TRIPLE = "x86_64-unknown-linux-gnu"

TARGETS = {
    "x86": Target("x86", _X86_TRIPLE, "x86-64"),
    "x86-64-v2": Target("x86-64-v2", _X86_TRIPLE, "x86-64-v2"),
    "x86-64-v3": Target("x86-64-v3", _X86_TRIPLE, "x86-64-v3", vector_bits=256, has_fma=True),
    "x86-64-v4": Target("x86-64-v4", _X86_TRIPLE, "x86-64-v4", vector_bits=512,
                        vector_registers=32, has_fma=True),
}


def _host_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _host_cache(level: str, default: int) -> int:
    path = f"/sys/devices/system/cpu/cpu0/cache/index{level}/size"
    try:
        text = open(path).read().strip()
    except OSError:
        return default
    scale = {"K": 1024, "M": 1024 * 1024}.get(text[-1], 1)
    return int(text.rstrip("KM")) * scale


def native() -> Target:
    if platform.machine() not in ("x86_64", "AMD64"):
        raise InputError(f"--target native: host architecture {platform.machine()} is not supported",
                         hint="mlc generates x86-64 code; pick one of " + ", ".join(TARGETS))
    flags = _host_flags()
    wide = "avx512f" in flags
    return Target("native", _X86_TRIPLE, "native",
                  vector_bits=512 if wide else 256 if "avx2" in flags else 128,
                  vector_registers=32 if wide else 16, has_fma="fma" in flags,
                  l1_bytes=_host_cache("0", 32 * 1024), l2_bytes=_host_cache("2", 1024 * 1024))


def target_names() -> list[str]:
    return ["native", *TARGETS]


def resolve(name: str) -> Target:
    if name == "native":
        return native()
    if name in TARGETS:
        return TARGETS[name]
    raise InputError(f"unknown target '{name}'", hint="choose one of: " + ", ".join(target_names()))


def of_module(module_op) -> Target:
    """The target a module is compiled for: its `mlc.target` attribute (the driver sets it
    from --target), or the host."""
    from mlir import ir

    if "mlc.target" in module_op.attributes:
        return resolve(ir.StringAttr(module_op.attributes["mlc.target"]).value)
    return native()
