"""Where the C header of the compiled-model ABI lives (for `cc -I`)."""

from pathlib import Path


def include_dir() -> Path:
    return Path(__file__).parent
