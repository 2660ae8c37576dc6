"""A network's structure as plain JSON, and the network rebuilt from it without running foreign code.

:func:`describe` turns a model into a *spec*, nested dicts of JSON values::

    {"type": "Sequential", "config": {}, "children": [
        {"type": "Linear", "config": {"in_features": 1, "out_features": 10, "bias": true, "dtype": "float64"}},
        {"type": "ReLU", "config": {}}, ...]}

:func:`build` reads a spec back. It only ever calls the constructors listed in a fixed
registry of module types, with JSON numbers and strings as arguments, so a file that
holds a spec can describe a network but cannot make Python do anything else. This is
the reason nnscratch does not pickle models: unpickling a file runs whatever code the
file names. Register your own module types with :func:`register_module`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .activations import ACTIVATIONS, LeakyReLU
from .errors import NNScratchError, SerializationError
from .init import Initializer
from .layers import MLP, Linear, Sequential
from .module import Module
from .rng import SeedLike

Spec = dict[str, Any]
MAX_DEPTH = 64  # a spec nested deeper than this is refused rather than recursed into


class Builder:
    """What a registry entry gets to rebuild its module: the initializer, the backend, and
    :meth:`build` for child specs (containers call it; an MLP builds its own layers)."""

    def __init__(self, weights: Initializer, backend: str | None = None) -> None:
        self.weights, self.backend, self.depth = weights, backend, 0

    def build(self, spec: Any) -> Module:
        """Rebuild a module from its spec; any problem raises SerializationError."""
        if self.depth > MAX_DEPTH:
            raise SerializationError(f"the architecture is nested more than {MAX_DEPTH} levels deep.")
        if not (
            isinstance(spec, dict)
            and isinstance(spec.get("type"), str)
            and isinstance(spec.get("config"), dict)
            and isinstance(spec.get("children", []), list)
        ):
            raise SerializationError(
                f"an architecture entry must be {{'type': str, 'config': dict, 'children': list}}, got {spec!r:.200}."
            )
        entry = _REGISTRY.get(spec["type"])
        if entry is None:
            raise SerializationError(
                f"the architecture names an unknown module type {spec['type']!r:.80}; known "
                f"types: {', '.join(sorted(_REGISTRY))}."
            )
        self.depth += 1
        try:
            module = entry.build(spec["config"], spec.get("children", []), self)
        except SerializationError:
            raise
        except (NNScratchError, TypeError, ValueError) as exc:
            raise SerializationError(
                f"cannot rebuild {spec['type']} from config {spec['config']!r:.200}: {exc}"
            ) from exc
        finally:
            self.depth -= 1
        # Catches extra keys, children listed under a leaf, an MLP whose layers are not what its sizes build.
        if describe(module) != spec:
            raise SerializationError(f"the stored {spec['type']} does not match the module its config builds.")
        return module


@dataclass(frozen=True)
class _Entry:
    cls: type[Module]
    get_config: Callable[[Any], dict[str, Any]]
    build: Callable[[dict[str, Any], list[Any], Builder], Module]  # (config, child specs, builder)
    container: bool = False  # its spec lists its children


_REGISTRY: dict[str, _Entry] = {}


def _register(entry: _Entry) -> None:
    _REGISTRY[entry.cls.__name__] = entry


def register_module(cls: type[Module], get_config: Callable[[Any], dict[str, Any]] | None = None) -> None:
    """Let :func:`~nnscratch.save` store modules of type ``cls`` (a leaf: no child modules).

    ``get_config(module)`` returns the JSON-able keyword arguments that rebuild the module as
    ``cls(**config)`` (default: none). Parameters are saved and restored separately.
    """
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise SerializationError(f"register_module needs a Module subclass, got {cls!r}.")
    if get_config is not None and not callable(get_config):
        raise SerializationError(
            f"register_module: get_config must be a function module -> dict of keyword arguments (or None), "
            f"got {get_config!r:.60} ({type(get_config).__name__})."
        )
    _register(_Entry(cls, get_config or (lambda m: {}), lambda config, children, builder: cls(**config)))


for _cls in ACTIVATIONS.values():
    register_module(_cls)
register_module(LeakyReLU, lambda m: {"negative_slope": m.negative_slope})
_register(
    _Entry(
        Linear,
        lambda m: {
            "in_features": m.in_features,
            "out_features": m.out_features,
            "bias": m.b is not None,
            "dtype": m.dtype.name,
        },
        lambda config, children, b: Linear(**config, init=b.weights, backend=b.backend),
    )
)
_register(
    _Entry(Sequential, lambda m: {}, lambda config, children, b: Sequential(*map(b.build, children)), container=True)
)
_register(
    _Entry(
        MLP,
        lambda m: {
            "sizes": list(m.sizes),
            "activation": m.activation,
            "final_activation": m.final_activation,
            "dtype": m.layers[0].dtype.name,
        },
        # The children are listed for readers and checked against what the sizes build, not built from.
        lambda config, children, b: MLP(**config, init=b.weights, backend=b.backend),
        container=True,
    )
)


def describe(module: Module, _within: tuple[int, ...] = ()) -> Spec:
    """The JSON spec of ``module`` (structure and hyper-parameters; no weights)."""
    if id(module) in _within:
        raise SerializationError(f"{type(module).__name__} contains itself (a container listed among its own layers).")
    if len(_within) > MAX_DEPTH:
        raise SerializationError(f"the model is nested more than {MAX_DEPTH} levels deep.")
    entry = _REGISTRY.get(type(module).__name__)
    if entry is None or entry.cls is not type(module):
        raise SerializationError(
            f"cannot save a module of type {type(module).__name__}: it is not in the registry of known types "
            f"({', '.join(sorted(_REGISTRY))}). Register it with nnscratch.architecture.register_module(cls, "
            "get_config)."
        )
    spec: Spec = {"type": type(module).__name__, "config": entry.get_config(module)}
    if entry.container:
        spec["children"] = [describe(child, (*_within, id(module))) for _, child in module.named_children()]
    return spec


class WeightBudget:
    """An initializer that makes zero weights, refusing to make more than ``limit`` numbers in all.

    Building from a spec only needs placeholders (the real weights are loaded next), and the
    limit stops a spec that declares a gigantic layer from exhausting memory before the
    mismatch with the stored arrays is noticed.
    """

    def __init__(self, limit: int) -> None:
        self.left = int(limit)

    def __call__(
        self, in_features: int, out_features: int, rng: SeedLike = None
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        self.left -= in_features * out_features  # W only: the bias may be dropped, and is never larger
        if self.left < 0:
            raise SerializationError("the architecture declares more weights than the file holds.")
        return np.zeros((in_features, out_features)), np.zeros(out_features)


def build(spec: Any, weights: Initializer, backend: str | None = None) -> Module:
    """Rebuild a module from its spec; parameters come from the initializer ``weights``.

    Any problem in the spec (unknown type, wrong keys or values) raises
    :class:`~nnscratch.errors.SerializationError`.
    """
    return Builder(weights, backend).build(spec)
