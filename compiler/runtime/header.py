"""Where the C sources of the compiled-model ABI live: the header (for `cc -I`) and the
thread pool every .so links (threads.c)."""

from pathlib import Path


def include_dir() -> Path:
    return Path(__file__).parent


def threads_source() -> Path:
    return Path(__file__).parent / "threads.c"
