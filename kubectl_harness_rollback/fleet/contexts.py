"""Which contexts --contexts/--all-contexts name, and the whole run's exit code (pure).

Many clusters, decided without any request: which contexts `--contexts`/`--all-contexts`
name, and what the whole run's exit code is. Pure (fleet/run.py runs the commands per context).

Exit codes are ordered by how much the operator still has to do in that cluster, best first;
the run exits with the worst of its contexts' (README: Many clusters).
"""

from __future__ import annotations

import fnmatch
from typing import Iterable, Sequence

from kubectl_harness_rollback.errors import ConfigError, PluginError, UsageError

DEFAULT_MAX_PARALLEL = 8  # --max-parallel

# Best first. 0 done or nothing to do; 3 nothing to roll back to (nothing changed); 4 rolled back,
# not steady yet; 6 rolled back, then changed by someone else; 5 not rolled back, a rerun re-plans;
# 1 an error (the cluster's state is not known to be right); 2 usage; 130 interrupted.
EXIT_ORDER = (0, 3, 4, 6, 5, 1, 2, 130)
# The codes that are not a failure of the context (--fail-fast keeps going after them).
NOT_FAILED = frozenset({0, 3})
_GLOB_CHARACTERS = set("*?[")


def badness(code: int) -> int:
    """The rank of an exit code in EXIT_ORDER; an unknown code counts as an error (1)."""
    return EXIT_ORDER.index(code if code in EXIT_ORDER else 1)


def worst(codes: Iterable[int]) -> int:
    """The whole run's exit code: the worst of the contexts' (0 for none)."""
    return max(codes, key=badness, default=0)


def failed(code: int) -> bool:
    return code not in NOT_FAILED


def is_glob(pattern: str) -> bool:
    return bool(_GLOB_CHARACTERS & set(pattern))


def split(values: Iterable[str]) -> list[str]:
    """Repeated --contexts values, each a comma list, as one list of names and globs."""
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def expand(given: Sequence[str], all_contexts: bool, known: Sequence[str]) -> list[str]:
    """The contexts to run in, in the order given (a glob's matches sorted), each once.

    `given`: the --contexts values; `known`: the kubeconfig's context names. An unknown name or a
    glob that matches nothing is a usage error, raised before any request."""
    patterns = split(given)
    if all_contexts and patterns:
        raise UsageError("--contexts and --all-contexts: give one of them")
    if given and not patterns:
        raise UsageError("--contexts: name at least one context")
    if all_contexts:
        if not known:
            raise ConfigError("--all-contexts: the kubeconfig has no contexts")
        return sorted(known)
    chosen: list[str] = []
    for pattern in patterns:
        if is_glob(pattern):
            matches = sorted(name for name in known if fnmatch.fnmatchcase(name, pattern))
            if not matches:
                raise UsageError(f"--contexts: no context matches '{pattern}' ({_known_text(known)})")
        elif pattern in known:
            matches = [pattern]
        else:
            raise UsageError(f"--contexts: context \"{pattern}\" does not exist in kubeconfig ({_known_text(known)})")
        chosen += [name for name in matches if name not in chosen]
    return chosen


def _known_text(known: Sequence[str]) -> str:
    if not known:
        return "it has no contexts"
    shown = ", ".join(sorted(known)[:10])
    return f"contexts: {shown}" + (f" and {len(known) - 10} more" if len(known) > 10 else "")


class FleetFailed(PluginError):
    """Some contexts did not end well; each has its row. The exit code is the worst of theirs."""

    def __init__(self, codes: dict[str, int]):
        bad = {name: code for name, code in codes.items() if code != 0}
        super().__init__(f"{len(bad)} of {len(codes)} contexts did not end with exit 0: "
                         + ", ".join(f"{name} ({code})" for name, code in bad.items()))
        self.exit_code = worst(codes.values())
