"""The one error hierarchy. The CLI catches `MlcError` only; anything else is a bug.

- `InputError`: the user's model, file or option is wrong (exit 1, no traceback).
- `ToolError`: an external tool (llc, cc) failed; says which, how it was run, what it printed.
- `CompilerBug`: a stage failed on valid input; keeps the IR before the failing stage and the
  `mlc opt` command that replays it (exit 2).
"""


class MlcError(Exception):
    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f"\nhint: {self.hint}" if self.hint else "")


class InputError(MlcError):
    """Bad model, file or option."""


class UnsupportedError(InputError):
    """A valid ONNX construct that mlc does not compile yet."""


class ToolError(MlcError):
    exit_code = 2


class CompilerBug(MlcError):
    exit_code = 2
