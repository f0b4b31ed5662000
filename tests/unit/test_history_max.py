"""`history --max N`: the newest N releases, as `helm history --max` (default 256), and a note
saying how many were left out."""

from __future__ import annotations

from types import SimpleNamespace

from kubectl_harness_rollback import commands, reader
from tests.unit.test_planner import model


def _history(monkeypatch, releases: int, max_releases):
    decided = model([(n, None, "w1", n) for n in range(1, releases + 1)])
    monkeypatch.setattr(reader, "read_release", lambda kube, namespace, target: decided)
    return commands.read_history(SimpleNamespace(namespace="shop"), None, max_releases)


def test_the_newest_n_releases_and_a_note(monkeypatch):
    rows, notes = _history(monkeypatch, 300, 256)
    assert [row["number"] for row in rows] == list(range(300, 44, -1))
    assert notes == ["showing the newest 256 of 300 releases (--max N shows more)"]


def test_no_note_when_every_release_is_shown(monkeypatch):
    rows, notes = _history(monkeypatch, 3, 3)
    assert [row["number"] for row in rows] == [3, 2, 1] and notes == []
    rows, notes = _history(monkeypatch, 3, None)
    assert len(rows) == 3 and notes == []
