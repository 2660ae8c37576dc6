"""``python -m nnscratch`` is the same as the ``nnscratch`` command."""

from .cli import main

raise SystemExit(main(prog="python -m nnscratch"))
