"""nnscratch: a neural-network engine written from scratch in NumPy, to read and to learn from.

Every layer has a hand-written ``forward`` and ``backward``; there is no autograd.

>>> import nnscratch as ns
>>> net = ns.Sequential(ns.Linear(1, 10), ns.ReLU(), ns.Linear(10, 1))
>>> loss_fn = ns.MSELoss()
"""

from __future__ import annotations

from . import architecture, data, gradcheck, init, interop, optim
from .activations import Exp, Identity, LeakyReLU, Log, ReLU, Sigmoid, SiLU, Softplus, Tanh
from .backend import available_backends, get_array_module, get_backend, set_backend, to_backend, to_numpy
from .callbacks import Callback, TrainingContext
from .clipping import clip_grad_norm_, clip_grad_value_
from .doctor import Doctor, diagnose
from .errors import (
    BackendError,
    BroadcastWarning,
    CallOrderError,
    ConfigError,
    DomainError,
    DTypeError,
    GradientError,
    MissingFileError,
    NNScratchError,
    NonFiniteError,
    PrecisionWarning,
    SerializationError,
    ShapeError,
)
from .explain import explain
from .gradcheck import GradcheckReport, check_loss, check_model, check_module, numerical_gradient
from .layers import MLP, Linear, Sequential
from .losses import HuberLoss, L1Loss, Loss, MSELoss
from .module import Module, Parameter
from .rng import manual_seed
from .serialization import Checkpoint, load, save
from .stopping import EarlyStopping, NonFiniteGuard
from .training import History, fit

__version__ = "0.1.0"

__all__ = [
    "BackendError",
    "BroadcastWarning",
    "CallOrderError",
    "Callback",
    "Checkpoint",
    "ConfigError",
    "DTypeError",
    "Doctor",
    "DomainError",
    "EarlyStopping",
    "Exp",
    "GradcheckReport",
    "GradientError",
    "History",
    "HuberLoss",
    "Identity",
    "L1Loss",
    "LeakyReLU",
    "Linear",
    "Log",
    "Loss",
    "MLP",
    "MSELoss",
    "MissingFileError",
    "Module",
    "NNScratchError",
    "NonFiniteError",
    "NonFiniteGuard",
    "Parameter",
    "PrecisionWarning",
    "ReLU",
    "Sequential",
    "SerializationError",
    "ShapeError",
    "SiLU",
    "Sigmoid",
    "Softplus",
    "Tanh",
    "TrainingContext",
    "architecture",
    "available_backends",
    "check_loss",
    "check_model",
    "check_module",
    "clip_grad_norm_",
    "clip_grad_value_",
    "data",
    "diagnose",
    "explain",
    "fit",
    "get_array_module",
    "get_backend",
    "gradcheck",
    "init",
    "interop",
    "load",
    "manual_seed",
    "numerical_gradient",
    "optim",
    "save",
    "set_backend",
    "to_backend",
    "to_numpy",
]
