"""Running one single-cluster command in many contexts at once: a thread pool of at most
--max-parallel, each context with its own connection (nothing shared but the output lock), one
context's error never stopping the others, and --fail-fast starting nothing new after a failure.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from kubectl_harness_rollback import fleet
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.fleet import DEFAULT_MAX_PARALLEL

NOT_STARTED = "not started: --fail-fast, after an earlier context failed"


@dataclass
class ContextRun:
    """One context's part of the run: its result (`value`), or its error, or not started."""

    context: str
    value: Any = None
    error: PluginError | None = None
    exit_code: int = 0
    started: bool = True

    @property
    def message(self) -> str:
        """The one line of the row of a context that did not finish well ("" when it did)."""
        if not self.started:
            return NOT_STARTED
        return str(self.error) if self.error is not None else ""


class Fleet:
    """The contexts of one run and how they run. `stop` is set by the first failure under
    --fail-fast and is shared by every phase (rollback's plan, then its writes)."""

    def __init__(self, contexts: Sequence[str], max_parallel: int = DEFAULT_MAX_PARALLEL, fail_fast: bool = False):
        self.contexts = list(contexts)
        self.max_parallel = max(1, max_parallel)
        self.fail_fast = fail_fast
        self.stop = threading.Event()
        self.output_lock = threading.Lock()

    def run(self, job: Callable[[str], Any], error_of: Callable[[Any], PluginError | None] = lambda value: None,
            contexts: Sequence[str] | None = None) -> list[ContextRun]:
        """`job(context)` in each context (default: all), in parallel; results in context order.
        A PluginError (or any error, translated as cli.main does) becomes that context's row;
        `error_of(value)`: the error a finished job ends with, as the single-cluster command
        raises it after printing (a plan with nothing to roll back to, a rollback's timeout)."""
        names = self.contexts if contexts is None else list(contexts)

        def one(name: str) -> ContextRun:
            if self.stop.is_set():
                return ContextRun(name, exit_code=1, started=False)
            try:
                value = job(name)
                error = error_of(value)
                run = ContextRun(name, value, error, error.exit_code if error is not None else 0)
            except PluginError as exc:
                run = ContextRun(name, error=exc, exit_code=exc.exit_code)
            except KeyboardInterrupt:
                self.stop.set()
                raise
            except Exception as exc:  # noqa: BLE001 - one context's failure is its row, not the run's end
                from kubectl_harness_rollback.apierrors import translate

                error = translate(exc)
                run = ContextRun(name, error=error, exit_code=error.exit_code)
            if self.fail_fast and fleet.failed(run.exit_code):
                self.stop.set()
            return run

        if not names:
            return []
        with ThreadPoolExecutor(max_workers=min(self.max_parallel, len(names))) as pool:
            futures = [pool.submit(one, name) for name in names]
            try:
                return [future.result() for future in futures]
            except KeyboardInterrupt:
                # Ctrl-C: start no other context; the ones running finish (a rollback half-written
                # helps nobody) within their --timeout, then the run ends with 130.
                self.stop.set()
                for future in futures:
                    future.cancel()
                raise

    def say(self, context: str, line: str, echo: Callable[[str], None]) -> None:
        """One output line of a context, prefixed `[context] `, never interleaved with another's."""
        with self.output_lock:
            echo(f"[{context}] {line}")


def exit_code(runs: Sequence[ContextRun]) -> int:
    return fleet.worst(run.exit_code for run in runs)
