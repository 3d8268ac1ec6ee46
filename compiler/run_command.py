"""`mlc run`: run a compiled model from the shell on .npy inputs or seeded random data."""

from pathlib import Path

import click
import numpy as np

from mlc.errors import InputError


def _random_input(spec, rng: np.random.Generator, sizes: dict) -> np.ndarray:
    shape = tuple(sizes.get(d, 1) if isinstance(d, str) else d for d in spec.shape)
    if spec.dtype.kind == "f":
        return rng.standard_normal(shape).astype(spec.dtype)
    if spec.dtype.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    return rng.integers(0, 10, shape).astype(spec.dtype)


def _given_sizes(specs, feeds: dict) -> dict:
    """Symbol sizes the given inputs show; random inputs use them (and 1 for the others)."""
    sizes = {}
    for spec in specs:
        value = feeds.get(spec.name)
        if value is not None and value.ndim == len(spec.shape):
            for d, size in zip(spec.shape, value.shape):
                if isinstance(d, str):
                    sizes.setdefault(d, size)
    return sizes


@click.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-i", "--input", "inputs", multiple=True, metavar="NAME=FILE.npy",
              help="An input from a .npy file; inputs not given get seeded random data.")
@click.option("--output", type=click.Path(path_type=Path), help="Save outputs to this .npz file.")
@click.option("--seed", default=0, show_default=True, help="Seed for random inputs.")
@click.option("--threads", type=click.IntRange(min=0), default=0,
              help="Threads to run on (0: the physical cores, the default).")
def run(model, inputs, output, seed, threads):
    """Run a compiled model (.so) and print or save its outputs."""
    from mlc.runtime import RuntimeInputError, load

    if model.suffix == ".onnx":
        raise InputError(f"{model}: `mlc run` takes a compiled model (.so), not an ONNX file",
                         hint=f"compile it first: mlc compile {model} -o {model.with_suffix('.so')}")
    try:
        m = load(model, threads=threads)
        feeds = {}
        for item in inputs:
            name, sep, file = item.partition("=")
            if not sep:
                raise InputError(f"--input '{item}': expected NAME=FILE.npy")
            try:
                feeds[name] = np.load(file)
            except (OSError, ValueError) as e:
                raise InputError(f"--input {name}: cannot read {file}: {e}") from None
        rng = np.random.default_rng(seed)
        sizes = _given_sizes(m.inputs, feeds)
        for spec in m.inputs:
            feeds.setdefault(spec.name, _random_input(spec, rng, sizes))
        results = m.run(feeds)
    except RuntimeInputError as e:
        raise InputError(str(e)) from None
    if output:
        try:
            np.savez(output, **results)
        except OSError as e:
            raise InputError(f"cannot write {output}: {e.strerror}") from None
        click.echo(f"wrote {len(results)} output(s) to {output}")
        return
    for name, value in results.items():
        click.echo(f"{name}: {value.dtype}{list(value.shape)}")
        click.echo(np.array2string(value, threshold=20, edgeitems=3))
