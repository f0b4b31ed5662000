"""One command run in many contexts at once (--max-parallel threads, --fail-fast), or in one.

Running one single-cluster command in many contexts at once: at most --max-parallel threads,
each context with its own connection (nothing shared but the output lock), one context's error
never stopping the others, --fail-fast starting nothing new after a failure, and Ctrl-C reaching
every context as it reaches one cluster's command. A single cluster is a fleet of one (`One`): the
same jobs, run in this thread, so that an error and Ctrl-C reach the command as they happen.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Callable, Sequence

from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.errors import Interrupted, PluginError, UsageError
from kubectl_harness_rollback.fleet import contexts as fleet
from kubectl_harness_rollback.fleet.contexts import DEFAULT_MAX_PARALLEL

if TYPE_CHECKING:
    from kubectl_harness_rollback.cluster.kubeconfig import ConnectionFlags

NOT_STARTED = "not started: --fail-fast, after an earlier context failed"
NOT_STARTED_INTERRUPTED = "not started: interrupted (Ctrl-C)"
INTERRUPTED = "interrupted (Ctrl-C)"
INTERRUPTED_BEFORE_WRITING = "interrupted (Ctrl-C) before anything was written"
# How often the main thread looks up from waiting for the contexts: Ctrl-C is seen at once.
JOIN_SECONDS = 0.1


@data_class
class ContextRun:
    """One context's part of the run: its result (`value`), or its error, or not started."""

    context: str
    value: Any = None
    error: PluginError | None = None
    exit_code: int = 0
    started: bool = True
    reason: str = ""  # why it was not started, when not by --fail-fast

    @property
    def message(self) -> str:
        """The one line of the row of a context that did not finish well ("" when it did)."""
        if not self.started:
            return self.reason or NOT_STARTED
        return str(self.error) if self.error is not None else ""


class Fleet:
    """The contexts of one run and how they run. `stop` is set by the first failure under
    --fail-fast and is shared by every phase (rollback's plan, then its writes); `interrupted` by
    Ctrl-C, and every connection made for the run carries it as its `cancel` (rest.py)."""

    many = True

    def __init__(self, contexts: Sequence[str], max_parallel: int = DEFAULT_MAX_PARALLEL, fail_fast: bool = False,
                 flags=None):
        self.contexts = list(contexts)
        self.flags = flags  # cluster.kubeconfig.ConnectionFlags: each context connects with them (-n included)
        self.max_parallel = max(1, max_parallel)
        self.fail_fast = fail_fast
        self.stop = threading.Event()
        self.interrupted = threading.Event()
        self.output_lock = threading.Lock()
        self._wake_on_interrupt: list[threading.Event] = []

    def connector(self) -> Callable[[str], Any]:
        """connect(context): each context its own connection, with the same flags (-n included),
        interrupted with the run (its `cancel`). The kubeconfig files are parsed once for all
        contexts (kubeconfig.load copies what it changes)."""
        import dataclasses
        import functools

        from kubectl_harness_rollback.cluster.client import _read_yaml_file, connect, import_client

        import_client()  # here, before the threads import at once
        read_yaml = functools.lru_cache(maxsize=None)(_read_yaml_file)

        def connected(name: str):
            kube = connect(dataclasses.replace(self.flags, context=name), read_yaml=read_yaml)
            kube.cancel = self.interrupted
            return kube
        return connected

    def wake_on_interrupt(self, event: threading.Event) -> None:
        """`event` is set on Ctrl-C: a context waiting on it (status --timeout) looks up at once."""
        self._wake_on_interrupt.append(event)

    def interrupt(self) -> None:
        self.stop.set()
        self.interrupted.set()
        for event in list(self._wake_on_interrupt):
            event.set()

    def run(self, job: Callable[[str], Any], error_of: Callable[[Any], PluginError | None] = lambda value: None,
            contexts: Sequence[str] | None = None, writes: bool = False) -> list[ContextRun]:
        """`job(context)` in each context (default: all), in parallel; results in context order.
        A PluginError (or any error, translated as cli.main does) becomes that context's row;
        `error_of(value)`: the error a finished job ends with, as the single-cluster command
        raises it after printing (a plan with nothing to roll back to, a rollback's timeout).

        Ctrl-C starts no other context and interrupts the running ones at their next request, as
        Ctrl-C interrupts one cluster's command (a rollback already written says so and exits
        130). With `writes`, the run waits for them to get there (a write in flight gets its
        answer; a second Ctrl-C does not wait); reads are not waited for."""
        names = self.contexts if contexts is None else list(contexts)
        results: dict[int, ContextRun] = {}
        pending = list(enumerate(names))
        take = threading.Lock()

        def one(name: str) -> ContextRun:
            if self.stop.is_set():
                interrupted = self.interrupted.is_set()
                return ContextRun(name, exit_code=130 if interrupted else 1, started=False,
                                  reason=NOT_STARTED_INTERRUPTED if interrupted else "")
            try:
                value = job(name)
                error = error_of(value)
                run = ContextRun(name, value, error, error.exit_code if error is not None else 0)
            except PluginError as exc:
                run = ContextRun(name, error=exc, exit_code=exc.exit_code)
            except KeyboardInterrupt:  # its connection's cancel, before a write (after one: Interrupted)
                run = ContextRun(name, error=Interrupted(INTERRUPTED_BEFORE_WRITING if writes else INTERRUPTED),
                                 exit_code=Interrupted.exit_code)
            except Exception as exc:
                from kubectl_harness_rollback.cluster.apierrors import translate

                error = translate(exc)
                run = ContextRun(name, error=error, exit_code=error.exit_code)
            if self.fail_fast and fleet.failed(run.exit_code):
                self.stop.set()
            return run

        def worker(done: threading.Event) -> None:
            try:
                while True:
                    with take:
                        if not pending:
                            return
                        index, name = pending.pop(0)
                    results[index] = one(name)
            finally:
                done.set()

        # Daemon threads, not a ThreadPoolExecutor: the interpreter joins its threads at exit, so
        # an interrupted read would hold the exit up for its whole --request-timeout. Waited for
        # by an Event each, not Thread.join: a join that Ctrl-C interrupts can mark a thread that
        # still runs as stopped (CPython 3.11's _wait_for_tstate_lock).
        finished: list[threading.Event] = []
        try:
            for n in range(min(self.max_parallel, len(names))):
                finished.append(threading.Event())
                threading.Thread(target=worker, args=(finished[-1],), daemon=True, name=f"contexts-{n}").start()
            _wait(finished)
        except KeyboardInterrupt:
            self.interrupt()
            with take:  # what no thread took yet is not started
                while pending:
                    index, name = pending.pop(0)
                    results[index] = one(name)
            if writes:
                _wait(finished)
        return [results.get(index) or ContextRun(name, error=Interrupted(INTERRUPTED), exit_code=Interrupted.exit_code)
                for index, name in enumerate(names)]

    def say(self, context: str, line: str, echo: Callable[[str], None]) -> None:
        """One output line of a context, prefixed `[context] `, never interleaved with another's."""
        with self.output_lock:
            echo(f"[{context}] {line}")


class One:
    """One cluster, as a fleet of one: the context --context names (or the kubeconfig's), reached as
    the command line says (`connect()`). Its job runs in this thread: an error is raised where it
    happens and Ctrl-C reaches the command itself, as before any thread existed; only an error the
    job's result ends with (`error_of`) becomes its run's error."""

    many = False

    def __init__(self, connect: Callable[[], Any], context: str = ""):
        self.contexts = [context]
        self._connect = connect
        self.output_lock = threading.Lock()

    def connector(self) -> Callable[[str], Any]:
        return lambda name: self._connect()

    def connected(self, kube) -> None:
        """The connection is made already (a read was started on it: reader.read_ahead): the
        job gets that one."""
        self._connect = lambda: kube

    def wake_on_interrupt(self, event: threading.Event) -> None:
        """Ctrl-C interrupts this thread's wait itself."""

    def run(self, job: Callable[[str], Any], error_of: Callable[[Any], PluginError | None] = lambda value: None,
            contexts: Sequence[str] | None = None, writes: bool = False) -> list[ContextRun]:
        runs = []
        for name in self.contexts if contexts is None else contexts:
            value = job(name)
            error = error_of(value)
            runs.append(ContextRun(name, value, error, error.exit_code if error is not None else 0))
        return runs

    def say(self, context: str, line: str, echo: Callable[[str], None]) -> None:
        echo(line)


def _wait(finished: Sequence[threading.Event]) -> None:
    """Wait until every worker is done, looking up often enough to see Ctrl-C at once."""
    for done in finished:
        while not done.wait(JOIN_SECONDS):
            pass


def exit_code(runs: Sequence[ContextRun]) -> int:
    return fleet.worst(run.exit_code for run in runs)


def chosen(flags: ConnectionFlags, contexts: tuple[str, ...], all_contexts: bool, max_parallel: int | None,
           fail_fast: bool, connect_one: Callable[[], Any]) -> One | Fleet:
    """Where to run (Fleet, or One: the cluster `connect_one()` reaches, as without these flags),
    from the kubeconfig's files alone: an unknown name is a usage error before any request."""
    if not contexts and not all_contexts:
        if max_parallel is not None or fail_fast:
            raise UsageError("--max-parallel and --fail-fast need --contexts or --all-contexts")
        return One(connect_one, flags.context or "")
    from kubectl_harness_rollback.cluster import kubeconfig
    from kubectl_harness_rollback.cluster.client import _read_yaml_file

    if flags.context:
        raise UsageError("--context names one context, --contexts/--all-contexts several: give one of them")
    known = kubeconfig.context_names(flags, os.environ, os.path.expanduser("~"), _read_yaml_file)
    names = fleet.expand(contexts, all_contexts, known)
    return Fleet(names, max_parallel or DEFAULT_MAX_PARALLEL, fail_fast, flags)
