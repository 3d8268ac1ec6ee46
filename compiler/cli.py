"""The `mlc` command: compile, opt, run.

User mistakes surface as one clear paragraph and exit 1; external tool failures and compiler
bugs exit 2 with what is needed to reproduce them. Only `MlcError` is caught: any other
exception is a bug in mlc and keeps its traceback.
"""

import sys
from pathlib import Path

import click

from mlc import stages
from mlc.errors import MlcError


def _fail(error: MlcError) -> None:
    click.echo(f"mlc: error: {error}", err=True)
    sys.exit(error.exit_code)


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except MlcError as e:
            _fail(e)


class _StageProgress:
    """One self-overwriting status line on a terminal: which stage is running."""

    def __init__(self, label: str):
        self.label = label

    def __call__(self, stage: str) -> None:
        click.echo(f"\r\033[K{self.label}: {stage}...", err=True, nl=False)

    def done(self) -> None:
        click.echo("\r\033[K", err=True, nl=False)


@click.group(cls=_Group)
@click.version_option(package_name="mlc")
def main():
    """mlc: compile ONNX models to native shared objects through MLIR."""


@main.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Output file (default: stdout for text stages, MODEL.so for --emit=so).")
@click.option("--target", default="native", show_default=True,
              help="x86, x86-64-v2, x86-64-v3, x86-64-v4 or native (the host CPU).")
@click.option("--emit", type=click.Choice(stages.NAMES), default="so", show_default=True,
              help="Stop after this stage: " + "; ".join(f"{s.name}: {s.summary}" for s in stages.STAGES))
@click.option("-O", "opt_level", type=click.IntRange(0, 3), default=3, show_default=True,
              help="LLVM optimization level.")
@click.option("--dump-dir", type=click.Path(path_type=Path), help="Keep every intermediate form here.")
@click.option("--input-shape", "input_shapes", multiple=True, metavar="NAME=D0xD1x...",
              help="Pin a graph input's dims at compile time (repeatable), e.g. data=1x3x224x224.")
@click.option("--time-stages", is_flag=True, help="Print the time each stage took (to stderr).")
@click.option("--report", is_flag=True,
              help="Print what was folded, fused and scheduled, and what was not and why (to stderr).")
def compile(model, output, target, emit, opt_level, dump_dir, input_shapes, time_stages, report):
    """Compile MODEL (.onnx, or .mlir at any MLIR stage) to a shared object or an intermediate."""
    from mlc.driver import compile_model
    from mlc.options import CompileOptions, parse_input_shape
    from mlc.target import resolve

    options = CompileOptions(resolve(target), opt_level,
                             input_shapes=tuple(parse_input_shape(s) for s in input_shapes))
    if output is None and emit in ("obj", "so"):
        output = model.with_suffix(stages.BY_NAME[emit].suffix)
    progress = _StageProgress(model.name) if sys.stderr.isatty() else None
    try:
        result = compile_model(model, options, emit, output, dump_dir, on_stage=progress)
    finally:
        if progress:
            progress.done()
    if report and result.report is not None:
        from mlc.report import format_report

        click.echo(format_report(result.report), err=True, nl=False)
    if time_stages:
        for name, seconds in result.stage_seconds.items():
            click.echo(f"{name:>8}: {seconds:.3f} s", err=True)


from mlc.opt_command import opt  # noqa: E402  (registered on the group)
from mlc.run_command import run  # noqa: E402

main.add_command(opt)
main.add_command(run)
