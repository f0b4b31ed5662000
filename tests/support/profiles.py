"""Hypothesis profiles: about a hundred examples for a quick answer locally, many more under CI=true.

`dev` is the default, `ci` is chosen by CI=true, HYPOTHESIS_PROFILE names either. A property whose
examples are cheap inherits the profile's count; one whose examples cost more (a CLI run, a
request to the real cluster) says its own counts with `examples(dev=, ci=)`, so that CI still
answers in minutes. An environment variable (`KHR_FLAG_FUZZ_EXAMPLES`, ...) overrides both.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DEV_EXAMPLES = 100
CI_EXAMPLES = 2000
_QUIET = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]

settings.register_profile("dev", max_examples=DEV_EXAMPLES, deadline=None, suppress_health_check=_QUIET)
settings.register_profile("ci", max_examples=CI_EXAMPLES, deadline=None, suppress_health_check=_QUIET)


def name() -> str:
    """The profile this run uses."""
    return os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")


def load() -> None:
    settings.load_profile(name())


def examples(dev: int, ci: int, env: str | None = None) -> int:
    """How many examples a costly property runs: `env` if set, else its count for this profile."""
    if env and os.environ.get(env):
        return int(os.environ[env])
    return ci if name() == "ci" else dev
