"""`python -m archive` is the `communis` command."""

from .cli import main

main()
