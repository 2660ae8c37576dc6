"""``python -m nnscratch.bench``: the same as ``nnscratch bench``."""

import sys

from .runner import main

sys.exit(main(prog="python -m nnscratch.bench"))
