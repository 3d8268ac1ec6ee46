"""`python -m mlc` is the `mlc` command."""

from .cli import main

main()
