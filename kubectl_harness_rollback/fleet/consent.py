"""Which contexts of a rollback across contexts must be confirmed first, and the answer (pure).

Rolling back a release whose latest record Failed is the repair the command exists for: it runs
without a question, in one cluster or many, as `kubectl rollout undo` and `helm rollback` do. A
context whose latest release Succeeded is rolled back only when asked for (`--to-release N`,
`--from-release N`), and across contexts a glob easily takes in a healthy cluster with the broken
ones: such a run shows its combined plan and asks (y/N) on a terminal, and off a terminal needs
`--yes`. Either way the whole run is confirmed, or nothing is written in any context.
"""

from __future__ import annotations

from typing import Callable, Sequence

from kubectl_harness_rollback.data_class import data_class
from kubectl_harness_rollback.errors import NotConfirmed, UsageError


@data_class(frozen=True)
class Consent:
    """What the command line says about asking: `--yes`, whether a person can answer (stdin is
    a terminal), and how to ask (`ask(question) -> bool`, cli/reads.ask's prompt)."""

    yes: bool = False
    interactive: bool = False
    ask: Callable[[str], bool] = lambda question: False


def rolls_back_succeeded(view: dict) -> bool:
    """The plan (views.plan_view) writes, and the release it rolls back is recorded Succeeded."""
    return bool(view["eligible"] and view["changes"] and (view["current"] or {}).get("status") == "Succeeded")


def needing_confirmation(plans: Sequence) -> list[str]:
    """The contexts (in run order) whose plan rolls back a succeeded release. `plans`: the
    fleet.run.ContextRun of each context's plan; a context whose plan failed writes nothing."""
    return [run.context for run in plans
            if run.value is not None and run.error is None and rolls_back_succeeded(run.value.view)]


def _moves(plans: Sequence, contexts: Sequence[str]) -> str:
    views = {run.context: run.value.view for run in plans if run.value is not None}
    return ", ".join(f"{name}: {views[name]['current']['number']} → {views[name]['target']['number']}"
                     for name in contexts)


def _contexts(count: int) -> str:
    return f"{count} context{'' if count == 1 else 's'}"


def question(plans: Sequence, asked: Sequence[str], ready: Sequence[str]) -> str:
    """The y/N question after the combined plan; it counts the contexts that would be written."""
    writing = [run.context for run in plans if run.context in ready and run.value.view["changes"]]
    return (f"The latest release succeeded in {_contexts(len(asked))} and would be rolled back there "
            f"({_moves(plans, asked)}). Roll back in {_contexts(len(writing))}?")


def confirm(consent: Consent, plans: Sequence, ready: Sequence[str],
            show_plan: Callable[[], None] | None = None) -> None:
    """Return when the rollback in `ready` may start; else raise: NotConfirmed (answered no, exit 1)
    or, off a terminal without --yes, UsageError (exit 2). Nothing was written either way.
    `show_plan()` is called before asking, where the combined plan is not on the screen yet."""
    asked = [name for name in needing_confirmation(plans) if name in ready]
    if not asked or consent.yes:
        return
    if not consent.interactive:
        raise UsageError(f"the latest release succeeded in {_contexts(len(asked))} and would be rolled back there "
                         f"({_moves(plans, asked)}): confirm with --yes (stdin is not a terminal to ask on); "
                         "nothing was written")
    if show_plan is not None:
        show_plan()
    if not consent.ask(question(plans, asked, ready)):
        raise NotConfirmed("not confirmed: nothing was written in any context")
