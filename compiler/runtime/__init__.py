"""mlc.runtime: load a compiled model (.so) and run it on numpy arrays.

Needs only numpy and ctypes. `load(path)` reads the model's own metadata (mlc_runtime.h), so
nothing else is needed to call it; `Model.run` checks names, shapes and dtypes before any native
code runs (binding each symbolic dim from the inputs and sizing the outputs from those sizes),
and keeps every array it hands to native code alive for the whole call.
"""

from .model import Model, RuntimeInputError, load

__all__ = ["Model", "RuntimeInputError", "load"]
