"""Every workload adapter implements the whole interface of workloads.base.WorkloadAdapter."""

import inspect

import pytest

from kubectl_harness_rollback import workloads
from kubectl_harness_rollback.errors import UsageError
from kubectl_harness_rollback.workloads.base import MEMBERS, WorkloadAdapter


def test_members_name_the_whole_protocol():
    declared = set(WorkloadAdapter.__annotations__) | {
        name for name, value in vars(WorkloadAdapter).items() if inspect.isfunction(value) and not name.startswith("_")}
    assert declared == set(MEMBERS)


@pytest.mark.parametrize("kind", sorted(workloads.ADAPTERS))
def test_every_adapter_has_every_member(kind):
    adapter = workloads.ADAPTERS[kind]
    assert adapter.kind == kind
    assert [m for m in MEMBERS if not hasattr(adapter, m)] == []
    for name in MEMBERS:
        protocol_member = getattr(WorkloadAdapter, name, None)
        if inspect.isfunction(protocol_member):
            wanted = [p for p in inspect.signature(protocol_member).parameters if p != "self"]
            assert list(inspect.signature(getattr(adapter, name)).parameters) == wanted, (kind, name)


def test_an_unknown_kind_is_a_sentence_not_a_key_error():
    with pytest.raises(UsageError, match="unsupported workload kind 'cronjob'"):
        workloads.adapter_for("cronjob")
