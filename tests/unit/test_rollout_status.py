"""A Deployment's rollout status, as the wait reads it after a rollback of a stalled rollout."""

import pytest

from kubectl_harness_rollback.errors import RolloutFailed
from kubectl_harness_rollback.workloads import deployment


def stalled(message: str, updated: int = 0) -> dict:
    """Status as the controller writes it in its first sync after a rollback: new generation
    observed, and the Progressing condition it keeps from before."""
    return {
        "metadata": {"name": "web", "namespace": "shop", "generation": 4},
        "spec": {"replicas": 2},
        "status": {"observedGeneration": 4, "replicas": 2, "updatedReplicas": updated, "availableReplicas": 0,
                   "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                   "message": message}]},
    }


def test_a_deadline_condition_left_over_from_the_failed_replicaset_keeps_the_wait_going():
    done, message = deployment.rollout_status(stalled('ReplicaSet "web-bad" has timed out progressing.'),
                                              restored_from="web-good")
    assert not done
    assert message == 'Waiting for deployment "web" rollout to finish: 0 out of 2 new replicas have been updated...'


@pytest.mark.parametrize("message, restored_from", [
    ('ReplicaSet "web-good" has timed out progressing.', "web-good"),  # the restored one stalls too
    ('Deployment "web" has timed out progressing.', "web-good"),       # names no ReplicaSet
    ('ReplicaSet "web-bad" has timed out progressing.', None),         # not after a rollback
])
def test_a_deadline_condition_about_this_rollout_fails_it(message, restored_from):
    with pytest.raises(RolloutFailed, match='deployment "web" exceeded its progress deadline'):
        deployment.rollout_status(stalled(message, updated=2), restored_from=restored_from)
