"""The ``nnscratch`` command line: ``info``, ``repro``, ``demo``, ``gradcheck``, ``bench``, ``doctor``.

Conventions every subcommand follows (and :func:`run_command` enforces):

- exit status 0 when all went well, 1 when a check failed or the run could not finish,
  2 for a usage error (an unknown option or value, a missing input file, an ``--out``
  folder that cannot be written);
- an error the user can fix is one line on stderr, ``nnscratch: error: ...``, with no
  traceback unless ``--debug`` is given;
- every folder the command will write to is created and tried before any training starts;
- no colour is printed, so ``NO_COLOR`` has nothing to turn off.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

EXIT_CODES = """exit status:
  0  success
  1  a check failed (a gradient mismatch...) or the run could not finish (unreadable file...)
  2  usage error: unknown option or value, missing input file, --out not writable"""


class Parser(argparse.ArgumentParser):
    """argparse with the usage error on one line: ``nnscratch repro: error: ... (see ...)``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class UsageError(Exception):
    """A command line that cannot work as given (exit status 2), found after argparse accepted it."""


def writable_folder(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Create ``path`` if needed and write (then delete) a temporary file in it; return it as a Path.

    Done before any work starts, so that a run of many minutes does not fail at its last line.
    Raises :class:`UsageError` naming ``option`` when the folder cannot be created or written.
    """
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".nnscratch-write-test-"):
            pass
    except FileExistsError:
        raise UsageError(f"{option} {folder}: exists and is not a folder.") from None
    except OSError as exc:
        raise UsageError(f"{option} {folder}: cannot write there ({exc.strerror or exc}).") from None
    return folder


def _exit_status(exc: BaseException) -> int | None:
    """2 for usage errors, 1 for other errors a user can act on, None for bugs (shown with a traceback)."""
    from .errors import ConfigError, NNScratchError

    if isinstance(exc, (UsageError, ConfigError)):
        return 2
    if isinstance(exc, (NNScratchError, OSError)):
        return 1
    return None


def run_command(
    parser: argparse.ArgumentParser, func: Callable[[argparse.Namespace], int], argv: Sequence[str] | None = None
) -> int:
    """Parse ``argv``, run ``func`` and turn the errors a user can fix into one line and an exit status.

    An error that is not of nnscratch's kinds (nor an OSError) is a bug and keeps its traceback.
    """
    args = parser.parse_args(argv)
    try:
        return int(func(args))
    except KeyboardInterrupt:
        if getattr(args, "debug", False):
            raise
        print(f"{parser.prog}: interrupted", file=sys.stderr, flush=True)
        return 130
    except Exception as exc:
        status = _exit_status(exc)
        if status is None or getattr(args, "debug", False):
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"nnscratch: error: {message}", file=sys.stderr, flush=True)
        return status


def _info(args: argparse.Namespace) -> int:
    import numpy as np

    from . import __version__
    from .backend import _import_cupy, get_backend
    from .errors import BackendError

    print(f"nnscratch {__version__}")
    print(f"python    {platform.python_version()} ({platform.platform()})")
    print(f"numpy     {np.__version__}")
    try:
        cupy = _import_cupy()
    except BackendError as exc:
        print(f"cupy      unavailable: {exc}")
        backends = ["numpy"]
    else:
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
        print(f"cupy      {cupy.__version__}, GPU: {name}")
        backends = ["numpy", "cupy"]
    print(f"backends  {', '.join(backends)} (default: {get_backend()})")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    run_demo(args.out, steps=args.steps)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from .bench.runner import run_from_args

    return run_from_args(args)


def _gradcheck(args: argparse.Namespace) -> int:
    from .gradcheck.cases import check_random_mlp

    report = check_random_mlp(
        args.sizes,
        args.activation,
        args.loss,
        reduction=args.reduction,
        batch=args.batch,
        fast=args.fast,
        seed=args.seed,
    )
    print(report)
    return 0 if report.passed else 1


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(s) for s in text.split(",")]
    except ValueError:
        sizes = []
    if len(sizes) < 2 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected comma-separated positive layer sizes such as 1,10,1; got {text!r}")
    return sizes


def _input_file(path: str, option: str) -> Path:
    if not Path(path).is_file():
        raise UsageError(f"{option} {path}: no such file.")
    return Path(path)


def _doctor(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from .doctor import checkup
    from .errors import ConfigError
    from .layers import MLP
    from .losses import HuberLoss, L1Loss, MSELoss
    from .serialization import load

    if args.plot and args.epochs <= 0:
        raise UsageError("--plot needs --epochs above 0: the evidence plot shows what happened during training.")
    if args.plot:
        writable_folder(Path(args.plot).parent, "--plot")
    data_file = _input_file(args.data, "--data")
    model_file = _input_file(args.model, "--model") if args.model else None
    if model_file is None and not args.sizes:
        raise UsageError("nnscratch doctor needs --model FILE (written by nnscratch.save) or --sizes such as 1,10,1.")
    try:
        with np.load(data_file, allow_pickle=False) as data:
            if "X" not in data or "y" not in data:
                raise ConfigError(f"--data {args.data} must be an .npz file with arrays 'X' and 'y', has {list(data)}.")
            X, y = data["X"], data["y"]
    except (ValueError, OSError, EOFError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"--data {args.data} is not a readable .npz file of arrays ({exc}).") from exc
    model = load(model_file).model if model_file is not None else MLP(args.sizes, rng=args.seed)
    loss_fn = {"mse": MSELoss, "l1": L1Loss, "huber": HuberLoss}[args.loss]()
    before, during = checkup(model, X, y, loss_fn, args.epochs, args.lr, args.batch_size, seed=args.seed)
    if args.json:
        print(
            json.dumps(
                {"before_training": before.to_dict(), "training": during.to_dict() if during else None},
                indent=2,
                default=str,
            )
        )
        return 0
    print("Before training (diagnose):\n" + str(before))
    if during is not None:
        print(f"\nDuring {args.epochs} epoch(s) of Adam, lr {args.lr}:\n" + str(during))
        if args.plot:
            print(f"evidence plot written to {during.plot(args.plot)}")
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def make_parser(prog: str, description: str) -> Parser:
    """A parser for an nnscratch entry point (``python -m nnscratch.bench`` and the like)."""
    return Parser(prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter)


def finish_parser(parser: argparse.ArgumentParser, top: bool = False) -> None:
    """What every (sub)command shares: the exit codes in its help and ``--debug``."""
    parser.epilog = f"{parser.epilog}\n\n{EXIT_CODES}" if parser.epilog else EXIT_CODES
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--debug",
        action="store_true",
        # A subcommand's default must not overwrite ``nnscratch --debug`` given before it.
        default=False if top else argparse.SUPPRESS,
        help="on an error, show the full traceback instead of one line",
    )


def build_parser(prog: str = "nnscratch") -> argparse.ArgumentParser:
    """The ``nnscratch`` argument parser, with every subcommand."""
    from . import __version__
    from .activations import ACTIVATIONS
    from .gradcheck.cases import LOSSES
    from .losses import REDUCTIONS
    from .repro.command import add_parser as add_repro

    parser = Parser(
        prog=prog,
        description="A neural-network engine written from scratch in NumPy: reproductions of documented "
        "training failures, a gradient checker, a training doctor and benchmarks.",
    )
    parser.add_argument("--version", action="version", version=f"nnscratch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "info",
        help="print versions, available backends and the GPU name",
        description="Print the versions of nnscratch, Python and NumPy, whether CuPy and a GPU are usable, "
        "and the default backend.",
    )
    p.set_defaults(func=_info)
    add_repro(sub)
    p = sub.add_parser(
        "demo",
        help="train the 1-10-1 square-root network and write a figure",
        description="The first thing to run: a 1-10-1 ReLU network learns y = sqrt(x) by gradient descent; "
        "prints the loss and writes demo_sqrt.png.",
    )
    p.add_argument("--out", default="figures", metavar="DIR", help="folder for the figure (default: figures)")
    p.add_argument("--steps", type=_positive_int, default=5000, help="gradient-descent steps (default: 5000)")
    p.set_defaults(func=_demo)
    from .bench.runner import __doc__ as bench_doc
    from .bench.runner import add_arguments as add_bench_arguments

    p = sub.add_parser(
        "bench",
        help="speed and memory against hand-written NumPy and torch (also python -m nnscratch.bench)",
        description=bench_doc,
    )
    add_bench_arguments(p)
    p.set_defaults(func=_bench)
    p = sub.add_parser(
        "gradcheck",
        help="check an MLP's hand-written gradients against finite differences",
        description="Build a random MLP and a random batch, and compare every hand-written gradient with "
        "central finite differences (or, with --fast, with directional probes). Exit status 1 if any disagrees.",
    )
    p.add_argument("--sizes", type=_sizes, default=[1, 10, 1], help="layer sizes (default: 1,10,1)")
    p.add_argument("--activation", choices=list(ACTIVATIONS), default="relu", help="hidden activation (default: relu)")
    p.add_argument("--loss", choices=list(LOSSES), default="mse", help="loss function (default: mse)")
    p.add_argument(
        "--reduction", choices=list(REDUCTIONS), default="mean", help="how the loss reduces its batch (default: mean)"
    )
    p.add_argument("--batch", type=_positive_int, default=8, help="rows of the random batch (default: 8)")
    p.add_argument("--fast", action="store_true", help="directional checks with random probes per tensor")
    p.add_argument("--seed", type=int, default=0, help="seed of the network, the data and the probes (default: 0)")
    p.set_defaults(func=_gradcheck)
    p = sub.add_parser(
        "doctor",
        help="check a saved model on a data file: before training and while training",
        description="Diagnose a model on a data set before training (scale of inputs and targets, initial "
        "loss, dead units...), and with --epochs, watch it train with Adam and name the causes of what goes "
        "wrong.",
    )
    p.add_argument("--model", metavar="FILE", help="model file written by nnscratch.save")
    p.add_argument("--sizes", type=_sizes, help="instead of --model: a fresh MLP with these layer sizes, e.g. 1,10,1")
    p.add_argument("--data", required=True, metavar="FILE", help=".npz file with arrays X (N, D) and y")
    p.add_argument("--loss", choices=("mse", "l1", "huber"), default="mse", help="loss function (default: mse)")
    p.add_argument("--epochs", type=int, default=0, help="train this many epochs under the doctor (default: 0)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate for --epochs (default: 1e-3)")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="minibatch size for --epochs (default: 32)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fresh MLP, the shuffling and the probes")
    p.add_argument("--plot", metavar="PNG", help="with --epochs: write the evidence plot (PNG) here")
    p.add_argument("--json", action="store_true", help="print the reports as JSON")
    p.set_defaults(func=_doctor)
    for subparser in sub.choices.values():
        finish_parser(subparser)
    finish_parser(parser, top=True)
    return parser


def _check_outputs(args: argparse.Namespace) -> None:
    """Create and try every output folder before any work starts (``--out none`` writes nothing)."""
    out = getattr(args, "out", None)
    if out is None or str(out) == "none" or getattr(args, "name", None) == "list":
        return
    writable_folder(out, "--out")


def _dispatch(args: argparse.Namespace) -> int:
    _check_outputs(args)
    return int(args.func(args))


def main(argv: Sequence[str] | None = None, prog: str = "nnscratch") -> int:
    """Run the ``nnscratch`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    return run_command(build_parser(prog), _dispatch, argv)


if __name__ == "__main__":
    sys.exit(main())
