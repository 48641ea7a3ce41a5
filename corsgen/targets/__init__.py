"""The registry of targets: every module of this package that defines ``TARGET``.

Adding a target means adding one module here (see :mod:`corsgen.targets.target` for what
it declares) and one template folder; the command line's ``--target`` choices, render,
check and ``corsgen targets`` all read this registry.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from corsgen.targets.target import (
    EVERY_FEATURE,
    POLICY_FEATURES,
    CannotExpress,
    OutputFile,
    Target,
)


def _discover() -> dict[str, Target[Any]]:
    found: dict[str, Target[Any]] = {}
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda module: module.name):
        target = getattr(importlib.import_module(f"{__name__}.{module.name}"), "TARGET", None)
        if isinstance(target, Target):
            if target.name in found:
                raise ValueError(f"two modules declare the target {target.name!r}")
            found[target.name] = target
    return found


REGISTRY: dict[str, Target[Any]] = _discover()
# The --target values, in the registry's (alphabetical) order.
TARGETS: tuple[str, ...] = tuple(REGISTRY)


def get_target(name: str) -> Target[Any]:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown target {name!r}; known: {', '.join(TARGETS)}") from None


__all__ = [
    "EVERY_FEATURE",
    "POLICY_FEATURES",
    "REGISTRY",
    "TARGETS",
    "CannotExpress",
    "OutputFile",
    "Target",
    "get_target",
]
