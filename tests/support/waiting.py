"""Wait for the cluster to reach a state: the controllers work asynchronously."""

from __future__ import annotations

import time


def eventually(check, timeout: float = 60, interval: float = 0.25):
    """Call `check` until it returns something truthy, and return that; fail the test, naming the
    condition (its docstring), when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"not reached in {timeout}s: {check.__doc__ or check}"
        time.sleep(interval)
