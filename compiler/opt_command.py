"""`mlc opt`: mlc's mlir-opt. Reads MLIR with the mlc dialect, runs passes by name, prints IR."""

import sys
from pathlib import Path

import click

from mlc.errors import InputError


@click.command()
@click.argument("input", type=click.Path(path_type=Path), default="-")
@click.option("-p", "--pipeline", default="", help="Comma-separated passes: mlc's and upstream's.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output file (default stdout).")
@click.option("--list-passes", is_flag=True, help="List mlc's passes and exit.")
def opt(input, pipeline, output, list_passes):
    """Run passes on an MLIR file (or stdin) and print the result."""
    from mlc.driver import print_module
    from mlc.mlir_context import make_context, parse_module
    from mlc.pass_pipeline import run_passes, split_pipeline
    from mlc.passes import PASSES

    if list_passes:
        for p in PASSES.values():
            click.echo(f"{p.name:32} {p.summary}")
        return
    text = sys.stdin.read() if str(input) == "-" else _read(input)
    context = make_context()
    module = parse_module(text, context, str(input))
    run_passes(module, split_pipeline(pipeline))
    rendered = print_module(module)
    if output:
        output.write_text(rendered)
    else:
        click.echo(rendered, nl=False)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
