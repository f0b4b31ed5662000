"""A single cluster is a fleet of one (fleet.run.One): the same jobs as many contexts, but run in the
command's own thread, so an error and Ctrl-C reach the command where they happen, as on one cluster."""

import threading

import pytest

from kubectl_harness_rollback.errors import ClusterUnreachable, NoEligibleRelease
from kubectl_harness_rollback.fleet.run import One


def test_the_job_runs_in_this_thread_and_connects_as_the_command_line_says():
    connected = []
    one = One(lambda: connected.append("kube") or "kube", "prod")
    runs = one.run(lambda name: (name, one.connector()(name), threading.current_thread()))
    assert [(run.context, run.value, run.exit_code) for run in runs] == [
        ("prod", ("prod", "kube", threading.main_thread()), 0)]
    assert connected == ["kube"]


@pytest.mark.parametrize("raised", [ClusterUnreachable("down"), KeyboardInterrupt()])
def test_an_error_or_ctrl_c_is_raised_not_turned_into_a_row(raised):
    def job(name):
        raise raised

    with pytest.raises(type(raised)):
        One(lambda: None).run(job)


def test_the_error_a_result_ends_with_is_the_runs_error():
    runs = One(lambda: None).run(lambda name: "planned", error_of=lambda value: NoEligibleRelease("none"))
    assert (runs[0].value, str(runs[0].error), runs[0].exit_code) == ("planned", "none", 3)
    assert One(lambda: None).run(lambda name: 1 / 0, contexts=[]) == []  # a later phase with none ready
