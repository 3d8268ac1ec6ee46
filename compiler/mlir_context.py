"""Creates MLIR contexts with every dialect mlc uses, the mlc dialect included."""

from mlir import ir

from mlc.dialects import load_mlc_dialect


def make_context() -> ir.Context:
    context = ir.Context()
    # The IRDL-defined dialect must be loaded before any mlc op is parsed or built.
    load_mlc_dialect(context)
    context.allow_unregistered_dialects = False
    return context


def parse_module(text: str, context: ir.Context, filename: str = "<input>") -> ir.Module:
    from .errors import InputError

    with context, ir.Location.unknown():
        try:
            return ir.Module.parse(text)
        except ir.MLIRError as e:
            raise InputError(f"{filename}: cannot parse MLIR:\n{_diagnostics(e)}") from None


def _diagnostics(error) -> str:
    lines = [str(d) for d in getattr(error, "error_diagnostics", [])]
    return "\n".join(lines) or str(error)


def diagnostics_text(error) -> str:
    return _diagnostics(error)
