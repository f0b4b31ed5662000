"""Recording a rollback that is written is not cut short by the command's deadline."""

import time
from types import SimpleNamespace

from kubectl_harness_rollback import execution


def test_requests_inside_the_grace_get_time_after_the_deadline_passed():
    kube = SimpleNamespace(deadline=time.monotonic() - 1)  # --timeout ran out during the wait
    with execution.grace(kube):
        assert kube.deadline >= time.monotonic() + execution.GRACE_SECONDS - 1
    assert kube.deadline < time.monotonic()  # the wait's deadline again afterwards


def test_a_later_deadline_is_kept_and_no_deadline_stays_none():
    later = time.monotonic() + 600
    kube = SimpleNamespace(deadline=later)
    with execution.grace(kube):
        assert kube.deadline == later
    unbounded = SimpleNamespace(deadline=None)
    with execution.grace(unbounded):
        assert unbounded.deadline is None
