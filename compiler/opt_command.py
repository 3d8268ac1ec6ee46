"""`mlc opt`: mlc's mlir-opt. Reads MLIR with the mlc dialect, runs passes by name, prints IR.

The pipeline mixes mlc's Python passes and upstream pass names (`mlc.pass_pipeline`). The
flags that make lit tests read like upstream's behave like mlir-opt's: `--split-input-file`
runs each `// -----` chunk on its own, `--verify-diagnostics` checks the errors the parser,
the verifier and the passes report against `// expected-error {{...}}` comments,
`--print-ir-after-all` and `--mlir-timing` trace the pipeline on stderr. An ONNX model
(`.onnx`, `.onnxtxt`) is imported first, so `--mlir-print-debuginfo` shows the importer's
node locations.
"""

import io
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click

from mlc.errors import CompilerBug, InputError

SPLIT_MARKER = "// -----"
ONNX_SUFFIXES = (".onnx", ".onnxtxt")


@click.command()
@click.argument("input", type=click.Path(path_type=Path), default="-")
@click.option("-p", "--pipeline", default="", help="Comma-separated passes: mlc's and upstream's.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output file (default stdout).")
@click.option("--list-passes", is_flag=True, help="List mlc's passes and exit.")
@click.option("--split-input-file", is_flag=True,
              help=f"Process each '{SPLIT_MARKER}'-separated chunk on its own; join the outputs "
                   "with the same marker.")
@click.option("--verify-diagnostics", is_flag=True,
              help="Check errors against '// expected-error @+1 {{text}}' comments in the input; "
                   "succeed when every expected diagnostic appears and no other.")
@click.option("--print-ir-after-all", is_flag=True,
              help="Print the IR after each pass (to stderr).")
@click.option("--mlir-timing", is_flag=True, help="Print each pass's wall time (to stderr).")
@click.option("--mlir-print-debuginfo", is_flag=True, help="Print locations (loc(...)) too.")
def opt(input, pipeline, output, list_passes, split_input_file, verify_diagnostics,
        print_ir_after_all, mlir_timing, mlir_print_debuginfo):
    """Run passes on an MLIR file (or stdin, or an ONNX model) and print the result."""
    from mlc.pass_pipeline import PassTiming, split_pipeline
    from mlc.passes import PASSES

    if list_passes:
        for p in PASSES.values():
            click.echo(f"{p.name:32} {p.summary}")
        return
    name = "<stdin>" if str(input) == "-" else str(input)
    runner = _Runner(name, split_pipeline(pipeline), PassTiming() if mlir_timing else None,
                     print_ir_after_all, mlir_print_debuginfo)
    if input.suffix in ONNX_SUFFIXES:
        if split_input_file or verify_diagnostics:
            raise InputError(f"{name}: --split-input-file and --verify-diagnostics need MLIR input")
        outputs, failures = [runner.run_onnx(input)], []
    else:
        text = sys.stdin.read() if str(input) == "-" else _read(input)
        chunks = _split(text) if split_input_file else [(text, 1)]
        outputs, failures = [], []
        for chunk, first_line in chunks:
            if verify_diagnostics:
                rendered, mismatches = runner.run_verifying(chunk, first_line)
                failures += mismatches
            else:
                rendered = runner.run_text(chunk, first_line)
            if rendered is not None:
                outputs.append(rendered)
    _write(output, f"{SPLIT_MARKER}\n".join(outputs))
    if runner.timing is not None:
        click.echo(runner.timing.report(), err=True)
    if failures:
        raise InputError(f"{name}: the diagnostics differ from the expected ones:\n"
                         + "\n".join(failures))


@dataclass(frozen=True)
class _Diagnostic:
    severity: str      # "error", "warning", "note" or "remark"
    message: str
    line: int | None   # line within the chunk; None when the location is not in the input
    col: int = 0


class _Runner:
    """Parses one chunk, runs the pipeline on it, renders the result."""

    def __init__(self, name: str, passes: list[str], timing, print_after_all: bool,
                 debuginfo: bool):
        self.name, self.passes, self.timing = name, passes, timing
        self.print_after_all, self.debuginfo = print_after_all, debuginfo

    def run_text(self, text: str, first_line: int) -> str:
        from mlir import ir

        try:
            module = self._parse(text)
        except ir.MLIRError as e:
            lines = [self._format(d, first_line) for d in _diagnostics(e)]
            raise InputError(f"{self.name}: invalid MLIR:\n" + "\n".join(lines)) from None
        return self._run(module)

    def run_verifying(self, text: str, first_line: int) -> tuple[str | None, list[str]]:
        """The output (None when the chunk failed) and the mismatches against expectations."""
        from mlir import ir

        produced, rendered = [], None
        try:
            rendered = self._run(self._parse(text))
        except ir.MLIRError as e:  # parse or verifier error
            produced = _diagnostics(e)
        except CompilerBug as bug:  # a pass failed
            cause = bug.__context__  # run_passes raises `from None` but keeps the MLIRError
            produced = (_diagnostics(cause) if isinstance(cause, ir.MLIRError)
                        else [_Diagnostic("error", bug.message, None)])
        expected = _expectations(text)
        return rendered, [f"{self.name}:{_at(line, first_line)}: {what}"
                          for line, what in _match(expected, produced)]

    def run_onnx(self, path: Path) -> str:
        from mlc.importer import import_onnx_file
        from mlc.mlir_context import make_context

        return self._run(import_onnx_file(path, make_context()).module)

    def _parse(self, text: str):
        from mlir import ir

        from mlc.mlir_context import make_context

        start = time.perf_counter()
        with make_context(), ir.Location.unknown():
            module = ir.Module.parse(text)
        self._time("(parse)", start)
        return module

    def _run(self, module) -> str:
        from mlc.pass_pipeline import run_passes

        def dump(name, module):
            header = f"// -----// IR Dump After {name} //----- //"
            click.echo(f"{header}\n{self._render(module)}", err=True)

        run_passes(module, self.passes, timing=self.timing,
                   print_after_all=dump if self.print_after_all else None)
        start = time.perf_counter()
        rendered = self._render(module)
        self._time("(print)", start)
        return rendered

    def _render(self, module) -> str:
        buffer = io.StringIO()
        # Weights are resource blobs: elide them, as `mlc compile` does.
        module.operation.print(file=buffer, large_resource_limit=64,
                               enable_debug_info=self.debuginfo)
        return buffer.getvalue()

    def _time(self, what: str, start: float) -> None:
        if self.timing is not None:
            self.timing.entries.append((what, time.perf_counter() - start))

    def _format(self, d: _Diagnostic, first_line: int) -> str:
        where = self.name if d.line is None else f"{self.name}:{_at(d.line, first_line)}:{d.col}"
        return f"{where}: {d.severity}: {d.message}"


def _at(line: int | None, first_line: int) -> str:
    return "?" if line is None else str(first_line + line - 1)


def _split(text: str) -> list[tuple[str, int]]:
    """The chunks between marker lines, each with the file line it starts on."""
    chunks, current, start = [], [], 1
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if line.rstrip() == SPLIT_MARKER:
            chunks.append(("".join(current), start))
            current, start = [], number + 1
        else:
            current.append(line)
    chunks.append(("".join(current), start))
    return chunks


# -- diagnostics ---------------------------------------------------------------------------

def _diagnostics(error) -> list[_Diagnostic]:
    """MLIR's diagnostics, notes flattened after their error, as line-numbered records."""
    found = []
    for info in error.error_diagnostics:
        for d in [info, *info.notes]:
            if d.message.startswith("see current operation"):
                continue  # mlir-opt drops this note under --verify-diagnostics; the bindings can't
            line, col = _position(d.location)
            found.append(_Diagnostic(d.severity.name.lower(), d.message, line, col))
    return found or [_Diagnostic("error", str(error), None)]


def _position(loc) -> tuple[int | None, int]:
    """The line and column in the input buffer (which MLIR names "-") that `loc` points at."""
    for _ in range(32):  # locations nest; unwrap to the file position inside
        if loc.is_a_file():
            return (loc.start_line, loc.start_col) if loc.filename == "-" else (None, 0)
        if loc.is_a_name():
            loc = loc.child_loc
        elif loc.is_a_callsite():
            loc = loc.callee
        elif loc.is_a_fused() and loc.locations:
            loc = loc.locations[0]
        else:
            break
    return None, 0


@dataclass
class _Expected:
    severity: str
    message: str
    line: int | None  # None: @unknown, a diagnostic without a location in the input
    seen: bool = False


# Upstream's syntax: `expected-error @+1 {{text}}`; the offset is @+N, @-N, @above, @below
# or @unknown, and without one the diagnostic is expected on the comment's own line.
_DIRECTIVE = re.compile(r"expected-(error|warning|note|remark)(-re)?\s*"
                        r"(?:@([+-]\d+|above|below|unknown))?\s*\{\{(.*?)\}\}")


def _expectations(text: str) -> list[_Expected]:
    expected, last_plain, pending_below = [], 0, []
    for number, line in enumerate(text.splitlines(), 1):
        directives = list(_DIRECTIVE.finditer(line))
        if not directives:
            last_plain = number
            for e in pending_below:
                e.line = number
            pending_below = []
            continue
        for m in directives:
            severity, regex, offset, message = m.groups()
            if regex:
                raise InputError(f"line {number}: expected-{severity}-re is not supported; "
                                 "write a plain substring")
            e = _Expected(severity, message.strip(), number)
            if offset == "unknown":
                e.line = None
            elif offset == "above":
                e.line = last_plain
            elif offset == "below":
                pending_below.append(e)
            elif offset:
                e.line = number + int(offset)
            expected.append(e)
    return expected


def _match(expected: list[_Expected],
           produced: list[_Diagnostic]) -> list[tuple[int | None, str]]:
    """(line, complaint) for each unexpected diagnostic and each expectation not met."""
    complaints = []
    for d in produced:
        for e in expected:
            if (not e.seen and e.severity == d.severity and e.line == d.line
                    and e.message in d.message):
                e.seen = True
                break
        else:
            complaints.append((d.line, f"unexpected {d.severity}: {d.message}"))
    for e in expected:
        if not e.seen:
            complaints.append((e.line, f'expected {e.severity} "{e.message}" was not produced'))
    return complaints


# -- files -------------------------------------------------------------------------------

def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not an MLIR text file (it is not UTF-8)",
                         hint="`mlc opt` reads .mlir text, or an ONNX model named .onnx") from None


def _write(output: Path | None, text: str) -> None:
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text)
    except OSError as e:
        raise InputError(f"cannot write the output file {output}: {e.strerror}") from None
