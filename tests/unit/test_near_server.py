"""A near API server (rest.NEAR_SECONDS) gets the rights check's reviews one after another on the
kept connection; a far one gets them at once. Either way every review is asked, in the order of
the rights, and the first right missing stops the rollback."""

from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace

import pytest

from kubectl_harness_rollback.cluster.rest import NAMESPACES, NEAR_SECONDS, Rest
from kubectl_harness_rollback.permissions import MissingPermission, check_rights

RIGHTS = [("patch", "apps", "deployments", "to restore"), ("get", "apps", "deployments", "to wait"),
          ("patch", "", "configmaps", "to record"), ("create", "", "events", "to leave the Event")]


class Reviews:
    """Answers SelfSubjectAccessReviews (allowed but for `denied` verbs) after `delay` seconds,
    and counts how many were in flight at once."""

    def __init__(self, delay: float = 0.0, denied: tuple[str, ...] = ()):
        self.delay, self.denied = delay, denied
        self.asked: list[str] = []
        self.in_flight = self.most_in_flight = 0
        self.lock = threading.Lock()

    def __call__(self, method, url, body, headers, timeout, stream):
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        time.sleep(self.delay)
        with self.lock:
            self.in_flight -= 1
        if body is None:  # a GET: the namespace
            return SimpleNamespace(status=200, data=b'{"metadata": {"name": "shop"}}')
        attributes = json.loads(body)["spec"]["resourceAttributes"]
        with self.lock:
            self.asked.append(attributes["verb"] + " " + attributes["resource"])
        allowed = attributes["verb"] not in self.denied
        return SimpleNamespace(status=201, data=json.dumps({"status": {"allowed": allowed}}).encode())


def test_no_server_is_near_before_it_answered_once():
    kube = Rest("https://127.0.0.1:6443", Reviews())
    assert not kube.near
    kube.get(NAMESPACES, "shop")
    assert kube.near and kube.fastest < NEAR_SECONDS


def test_a_server_that_answers_late_is_far():
    kube = Rest("https://127.0.0.1:6443", Reviews(delay=NEAR_SECONDS * 2))
    kube.get(NAMESPACES, "shop")
    kube.get(NAMESPACES, "shop")
    assert not kube.near and kube.fastest >= NEAR_SECONDS * 2


def test_the_quickest_answer_decides():
    server = Reviews(delay=NEAR_SECONDS * 2)
    kube = Rest("https://127.0.0.1:6443", server)
    kube.get(NAMESPACES, "shop")
    server.delay = 0.0
    kube.get(NAMESPACES, "shop")
    assert kube.near


@pytest.mark.parametrize("near", [True, False])
def test_every_review_is_asked_one_after_another_when_near_and_at_once_when_far(near):
    server = Reviews(delay=0.05)
    kube = Rest("https://127.0.0.1:6443", server)
    kube.fastest = NEAR_SECONDS / 2 if near else NEAR_SECONDS * 10
    check_rights(kube, "shop", RIGHTS, "a rollback")
    assert sorted(server.asked) == sorted(f"{verb} {resource}" for verb, _, resource, _ in RIGHTS)
    assert (server.most_in_flight == 1) if near else (server.most_in_flight > 1)
    if near:
        assert server.asked == [f"{verb} {resource}" for verb, _, resource, _ in RIGHTS]


@pytest.mark.parametrize("near", [True, False])
def test_the_first_right_missing_stops_it_either_way(near):
    server = Reviews(denied=("patch",))
    kube = Rest("https://127.0.0.1:6443", server)
    kube.fastest = NEAR_SECONDS / 2 if near else NEAR_SECONDS * 10
    with pytest.raises(MissingPermission, match="cannot patch deployments.apps in namespace shop"):
        check_rights(kube, "shop", RIGHTS, "a rollback")
    assert len(server.asked) == len(RIGHTS)  # all asked, as before: the same requests either way
