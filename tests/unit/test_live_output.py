"""Live progress on a terminal and the release timeline: golden frames, escape sequences and screens.

The frames are pure (output/live.py, output/timeline.py) and checked byte for byte against
tests/unit/golden/live.txt and timeline.txt (`KHR_UPDATE_GOLDEN=1` rewrites them; then read the
diff). What fleet/live.py writes is fed to a small terminal (tests/support/terminal.py) to check
what a person sees at the end. The real control plane under a pseudo-terminal is
tests/integration/test_live_progress.py.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kubectl_harness_rollback import views
from kubectl_harness_rollback.errors import NotSteady, RolloutFailed
from kubectl_harness_rollback.fleet import live as live_screen
from kubectl_harness_rollback.model import WorkloadRef
from kubectl_harness_rollback.output import live as frames
from kubectl_harness_rollback.output.timeline import short_image, timeline_text
from tests.support.terminal import Terminal
from tests.unit.test_golden_output import NOW, _history, _run, fake_cluster  # noqa: F401 (a fixture)

GOLDEN = Path(__file__).parent / "golden"
WEB, DB = WorkloadRef("Deployment", "web", "shop"), WorkloadRef("StatefulSet", "db", "shop")


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KHR_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()


def _visible(text: str) -> str:
    """Escape sequences spelt out, so that the golden file can be read."""
    return text.replace("\x1b", "ESC").replace("\r", "\\r")


def _deployment(ready: int, updated: int, replicas: int = 3) -> dict:
    return {"metadata": {"name": "web"}, "spec": {"replicas": replicas},
            "status": {"readyReplicas": ready, "updatedReplicas": updated}}


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _wait_script(monkeypatch) -> tuple[str, str]:
    """A rollback of two workloads, scripted: what is written, and the screen it leaves."""
    monkeypatch.setattr(live_screen, "TICK_SECONDS", 3600)  # the clock thread never draws here
    monkeypatch.setenv("COLUMNS", "100")
    clock, stream = FakeClock(), io.StringIO()
    pods = {WEB: {"pods": 3, "ready": 1, "reasons": [{"reason": "ContainersNotReady", "count": 2}],
                  "restarts": 0, "lastExit": None, "events": [], "logsPod": None},
            DB: {"pods": 2, "ready": 1, "reasons": [{"reason": "CrashLoopBackOff", "count": 1}], "restarts": 4,
                 "lastExit": "exit 1 (Error)", "events": [], "logsPod": "db-1"}}
    read = []
    progress = live_screen.LiveWait(stream, deadline=clock.now + 300, timeout=300,
                                    reasons=lambda ref, obj: read.append(ref) or pods[ref], monotonic=clock)
    progress("deployment/web restored to revision 1")
    progress.started([WEB, DB])
    clock.now += 3
    progress.seen(WEB, _deployment(0, 1), False, "Waiting for deployment \"web\" rollout to finish")
    progress.refresh()  # what the clock's thread does each second before it redraws
    progress("a line said during the wait")
    clock.now += 1  # within REASONS_EVERY_SECONDS: the pods are not read again
    progress.seen(WEB, _deployment(1, 3), False, "Waiting for deployment \"web\" rollout to finish")
    progress.refresh()
    clock.now += 10
    progress.seen(WEB, _deployment(3, 3), True, "deployment \"web\" successfully rolled out")
    clock.now += 2
    progress.seen(DB, {"metadata": {"name": "db"}, "spec": {"replicas": 2},
                       "status": {"readyReplicas": 1, "updatedReplicas": 1}}, False, "waiting for 1 pod")
    progress.refresh()
    progress.screen.draw()
    clock.now += 290
    progress.ended(NotSteady("statefulset/db not steady within the timeout"))
    progress.close()
    assert read == [WEB, DB], "the pods are read at most every REASONS_EVERY_SECONDS, and not once rolled out"
    written = stream.getvalue()
    return written, Terminal().feed(written).screen()


def test_wait_frames_are_the_golden_text(monkeypatch):
    rows = [frames.WorkloadLine("deployment/web"),
            frames.WorkloadLine("deployment/web", 1, 3, 2, "rolling out", "2× CrashLoopBackOff"),
            frames.WorkloadLine("statefulset/database", 2, 2, 2, "rolled out", took=14.2),
            frames.WorkloadLine("daemonset/agent", 0, 5, 5, "waiting for the controller", "1× FailedCreate")]
    text = ["--- wait_frame: waiting, rolling out, rolled out, waiting for the controller"]
    text += frames.wait_frame(rows, 75.6, 224.4)
    text += ["--- without --timeout"] + frames.wait_frame(rows[1:2], 3725, None)
    text += ["--- fit to 40 columns"] + frames.fit(frames.wait_frame(rows, 75.6, 224.4), 40)
    text += ["--- status_frame"] + frames.status_frame("Release:   r in namespace shop\nLive:      release 1\n", 5, 55)
    text += ["--- status_frame without --timeout"] + frames.status_frame("Release:   r\n", 61, None)
    text += ["--- redraw 3 lines with 2", _visible(frames.redraw(3, ["a", "b"]))]
    text += ["--- a line above a frame of 2", _visible(frames.above(2, "said", ["a", "b"]))]
    written, screen = _wait_script(monkeypatch)
    text += ["--- a rollback's wait, as written", _visible(written), "--- and as the screen shows it", screen]
    _golden("live.txt", "\n".join(text) + "\n")


def test_the_screen_ends_with_the_final_state(monkeypatch):
    _, screen = _wait_script(monkeypatch)
    assert screen == (
        "deployment/web restored to revision 1\n"
        "a line said during the wait\n"
        "deployment/web   3/3 ready              rolled out           took 14s\n"
        "statefulset/db   1/2 ready, 1 updated   not steady in time   took 5m6s   1× CrashLoopBackOff\n"), screen


def test_a_redraw_never_leaves_a_longer_frame_behind(monkeypatch):
    monkeypatch.setenv("COLUMNS", "30")
    stream, block = io.StringIO(), ["one"]
    screen = live_screen.Screen(stream, lambda: block)
    for lines in (["a" * 50, "b", "c"], ["short"]):
        block[:] = lines
        screen.draw()
    shown = Terminal().feed(stream.getvalue()).screen()
    assert shown == "short\n"
    written = re.sub(r"\x1b\[\d*[A-Za-z]|\r", "", stream.getvalue())
    assert max(len(line) for line in written.split("\n")) == 29, "a line as wide as the terminal wraps"


def test_status_watch_leaves_its_last_block_whole(monkeypatch):
    monkeypatch.setattr(live_screen, "TICK_SECONDS", 3600)
    monkeypatch.setenv("COLUMNS", "20")
    clock, stream = FakeClock(), io.StringIO()
    watching = live_screen.LiveStatus(stream, lambda view: view["text"], 60, monotonic=clock)
    watching.show({"text": "Release: r\nSTEADY  no\n"})
    clock.now += 5
    watching.show({"text": "Release: r\nSTEADY  yes, a long line past twenty columns\n"})
    shown_before = Terminal().feed(stream.getvalue()).screen()
    watching.close()
    assert shown_before == "Release: r\nSTEADY  yes, a lon…\n\nWatching:  5s elap…\n"
    assert Terminal().feed(stream.getvalue()).screen() == "Release: r\nSTEADY  yes, a long line past twenty columns\n"


@pytest.mark.parametrize("error, state", [
    (NotSteady("x"), "not steady in time"), (RolloutFailed('deployment "web" exceeded its progress deadline'),
                                            "gave up (progress deadline)"),
    (KeyboardInterrupt(), "interrupted"), (ValueError("x"), "stopped")])
def test_a_wait_cut_short_says_how_on_each_line_still_waiting(monkeypatch, error, state):
    monkeypatch.setattr(live_screen, "TICK_SECONDS", 3600)
    clock, stream = FakeClock(), io.StringIO()
    progress = live_screen.LiveWait(stream, deadline=clock.now + 60, timeout=60, monotonic=clock)
    progress.started([WEB])
    progress.seen(WEB, _deployment(1, 3), False, "Waiting")
    clock.now += 7
    progress.ended(error)
    progress.close()
    assert Terminal().feed(stream.getvalue()).screen() == f"deployment/web   1/3 ready   {state}   took 7s\n"


@pytest.mark.parametrize("term, tty, live", [("xterm-256color", True, True), ("dumb", True, False),
                                             ("", True, False), ("xterm", False, False)])
def test_only_a_terminal_that_moves_its_cursor_is_live(monkeypatch, term, tty, live):
    monkeypatch.setenv("TERM", term)
    stream = io.StringIO()
    stream.isatty = lambda: tty
    assert live_screen.is_live(stream) is live


def test_a_pipe_is_never_live():
    probe = "import sys; from kubectl_harness_rollback.fleet.live import is_live; print(is_live(sys.stdout))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**os.environ, "TERM": "xterm"}, check=True)
    assert done.stdout == "False\n"


# ---- the timeline --------------------------------------------------------------------------------

@pytest.mark.parametrize("image, short", [
    ("registry.example/team/web:1.27", "web:1.27"), ("web", "web"),
    ("r.example/web@sha256:0123456789abcdef0123", "web@sha256:0123456789ab"), ("localhost:5000/web:2", "web:2")])
def test_images_are_shortened_to_their_last_path_part(image, short):
    assert short_image(image) == short


def _timeline_rows() -> list[dict]:
    """3 Failed (rolled back from), 2 live and rolled back to, 1 with the same images as 0."""
    rolled = {"by": "alice", "at": "2026-01-02T11:55:00Z", "fromRelease": 3, "toRelease": 2}

    def release(number, status, images, live=False, **more):
        return {"number": number, "status": status, "live": live, "updated": f"2026-01-02T0{number}:00:00Z",
                "workloads": [{"kind": "Deployment", "name": "web", "images": images}], **more}
    return [release(3, "Failed", ["registry.example/web:3"]),
            release(2, "Succeeded", ["registry.example/web:2", "registry.example/sidecar:1"], live=True,
                    rolledBack=rolled),
            release(1, "Succeeded", ["registry.example/web:1"]),
            {"number": 0, "status": None, "live": False, "updated": None, "workloads": []}]


def test_timeline_is_the_golden_text(fake_cluster, capsys, monkeypatch):  # noqa: F811 (the fixture)
    monkeypatch.setenv("COLUMNS", "100")
    # The fake connection's model is its context's name: its history rows stand for the model's.
    monkeypatch.setattr(views, "history_view", _history)
    text = ["--- timeline_text: a rollback 3 → 2, the live release 2", timeline_text(_timeline_rows(), NOW)]
    text += ["--- the same images as the release before", timeline_text(
        [_timeline_rows()[2], {**_timeline_rows()[2], "number": 0}], NOW)]
    text += ["--- no release", timeline_text([], NOW)]
    for argv in (["history", "r", "--timeline"], ["status", "r", "--timeline"],
                 ["status", "r", "--timeline", "--context", "ctx-b"],
                 ["history", "r", "--timeline", "-o", "json"], ["status", "r", "--timeline", "--contexts", "ctx-a,ctx-b"]):
        text.append(_run(argv, capsys))
    _golden("timeline.txt", "\n".join(text))


def test_timeline_marks_the_live_release_and_both_ends_of_the_last_rollback():
    lines = timeline_text(_timeline_rows(), NOW).splitlines()
    assert lines[1].split()[:2] == ["3", "Failed"] and lines[1].endswith("rolled back from, by alice, 5m ago")
    assert lines[2].startswith("*") and lines[2].endswith("live: rolled back to, by alice, 5m ago")
    assert "web:2, sidecar:1" in lines[2] and "same images" not in lines[3]
    assert [line.startswith("*") for line in lines].count(True) == 1
