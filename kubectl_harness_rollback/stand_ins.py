"""Stand-ins for modules while another module is imported, each imported for real when first used.

A module imported for one rarely used feature still costs every command its import. Two such:
dataclasses imports inspect (with ast, dis and tokenize: about 6 ms of each command's start on a
small machine) only to write the signature of a class without a docstring into its `__doc__`,
which data_class never asks for (it gives each class one); and the kubernetes client's kubeconfig
loader imports oauthlib and requests for OIDC tokens, which kubectl itself dropped
(cluster/client.py). While the importing module is imported, a StandIn takes the rare module's
place in sys.modules; the stand-in is removed afterwards, so any later `import` gets the real
module, and the importing module's own use of the name imports it then.
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import types
from typing import Iterator


class StandIn(types.ModuleType):
    """A module's place holder: any name asked of it imports the real module (or its submodule of
    that name) and answers from it."""

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]  # used while still standing in: the real one, now
        try:
            return importlib.import_module(f"{self.__name__}.{name}")
        except ModuleNotFoundError:
            return getattr(importlib.import_module(self.__name__), name)


@contextlib.contextmanager
def standing_in(*names: str) -> Iterator[list[str]]:
    """StandIns in sys.modules for those of `names` not imported yet (the list given), for the
    time of the block."""
    placed = [name for name in names if name not in sys.modules]
    for name in placed:
        sys.modules[name] = StandIn(name)
    try:
        yield placed
    finally:
        for name in placed:
            if isinstance(sys.modules.get(name), StandIn):
                del sys.modules[name]


def import_dataclasses() -> None:
    """Import dataclasses without inspect, unless either is imported already (the console
    scripts call this first; a program that imports the package as a library is left alone)."""
    if "dataclasses" in sys.modules:
        return
    with standing_in("inspect"):
        import dataclasses  # noqa: F401  (registered in sys.modules: the package's imports find it)
