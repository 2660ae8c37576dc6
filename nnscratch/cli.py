"""The ``nnscratch`` command line: ``info``, ``repro``, ``demo``, ``gradcheck``, ``bench``, ``doctor``."""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from collections.abc import Sequence
from pathlib import Path


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
    # The suite lives in the source checkout next to the package (it is not installed with it).
    root = Path(__file__).resolve().parent.parent
    if (root / "benchmarks" / "runner.py").exists() and str(root) not in sys.path:
        sys.path.insert(0, str(root))
    try:
        runner = importlib.import_module("benchmarks.runner")
    except ImportError as exc:
        print(
            f"nnscratch bench needs the benchmarks/ folder of a source checkout ({exc}); "
            "run `python -m benchmarks` from the repository root.",
            file=sys.stderr,
        )
        return 2
    argv = ["--out", args.out] if args.out else []
    argv += ["--threads", str(args.threads)] if args.threads is not None else []
    return int(runner.main(argv + (["--quick"] if args.quick else [])))


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


def _doctor(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from .doctor import checkup
    from .errors import ConfigError
    from .layers import MLP
    from .losses import HuberLoss, L1Loss, MSELoss
    from .serialization import load

    with np.load(args.data, allow_pickle=False) as data:
        if "X" not in data or "y" not in data:
            raise ConfigError(f"--data {args.data} must be an .npz file with arrays 'X' and 'y', has {list(data)}.")
        X, y = data["X"], data["y"]
    if args.model:
        model = load(args.model).model
    elif args.sizes:
        model = MLP([int(s) for s in args.sizes.split(",")], rng=args.seed)
    else:
        raise ConfigError("nnscratch doctor needs --model FILE (written by nnscratch.save) or --sizes such as 1,10,1.")
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


def build_parser() -> argparse.ArgumentParser:
    from .activations import ACTIVATIONS
    from .gradcheck.cases import LOSSES
    from .losses import REDUCTIONS
    from .repro.command import add_parser as add_repro

    parser = argparse.ArgumentParser(prog="nnscratch", description="A from-scratch NumPy neural-network engine.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("info", help="print versions, available backends and the GPU name")
    p.set_defaults(func=_info)
    add_repro(sub)
    p = sub.add_parser("demo", help="train the 1-10-1 square-root network and write a figure")
    p.add_argument("--out", default="figures", help="folder for the figure (default: figures)")
    p.add_argument("--steps", type=int, default=5000, help="gradient-descent steps (default: 5000)")
    p.set_defaults(func=_demo)
    p = sub.add_parser("bench", help="speed and memory against hand-written NumPy and torch (python -m benchmarks)")
    p.add_argument("--quick", action="store_true", help="a fast smoke run")
    p.add_argument("--out", default=None, help="output folder (default: benchmarks/results)")
    p.add_argument("--threads", type=int, default=None, help="BLAS threads for NumPy and torch")
    p.set_defaults(func=_bench)
    p = sub.add_parser("gradcheck", help="check an MLP's hand-written gradients against finite differences")
    p.add_argument("--sizes", type=_sizes, default=[1, 10, 1], help="layer sizes (default: 1,10,1)")
    p.add_argument("--activation", choices=list(ACTIVATIONS), default="relu")
    p.add_argument("--loss", choices=list(LOSSES), default="mse")
    p.add_argument("--reduction", choices=list(REDUCTIONS), default="mean")
    p.add_argument("--batch", type=int, default=8, help="rows of the random batch (default: 8)")
    p.add_argument("--fast", action="store_true", help="directional checks with random probes per tensor")
    p.add_argument("--seed", type=int, default=0, help="seed of the network, the data and the probes")
    p.set_defaults(func=_gradcheck)
    p = sub.add_parser("doctor", help="check a saved model on a data file: before training and while training")
    p.add_argument("--model", help="model file written by nnscratch.save")
    p.add_argument("--sizes", help="instead of --model: a fresh MLP with these layer sizes, e.g. 1,10,1")
    p.add_argument("--data", required=True, help=".npz file with arrays X (N, D) and y")
    p.add_argument("--loss", choices=("mse", "l1", "huber"), default="mse")
    p.add_argument("--epochs", type=int, default=0, help="train this many epochs under the doctor (default: 0)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate for --epochs (default: 1e-3)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", help="with --epochs: write the evidence plot (PNG) here")
    p.add_argument("--json", action="store_true", help="print the reports as JSON")
    p.set_defaults(func=_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
