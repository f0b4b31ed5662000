"""Look-alike names are shown escaped (display.shown), in error lines and in tables, so that a
history naming `wеb` (Cyrillic е) never reads as `web`; our own arrows and dashes are kept."""

import pytest

from kubectl_harness_rollback.cli import app as cli
from kubectl_harness_rollback.display import shown, shown_lines
from kubectl_harness_rollback.errors import PluginError
from kubectl_harness_rollback.output import render

LOOKALIKE = "w\u0435b"


@pytest.mark.parametrize("text, expected", [
    ("web", "web"),
    (LOOKALIKE, "w\\u0435b"),
    ("a\u200bb", "a\\u200bb"),  # zero-width space
    ("x\ny", "x\\x0ay"),  # a name stays on one line
    ("3 → 2 — done…", "3 → 2 — done…"),  # symbols and punctuation of our own output
    ("\U0001d5ea", "\\U0001d5ea"),  # mathematical sans-serif small w
])
def test_shown(text, expected):
    assert shown(text) == expected


def test_shown_cuts_long_text():
    assert shown("9" * 400, limit=10) == "9999999999..."


def test_tables_escape_lookalikes_and_stay_aligned():
    rows = [{"number": n, "status": "Succeeded", "workflowId": "w1", "infraMapping": None,
             "workloads": [{"kind": "Deployment", "name": name, "revision": n, "currentRevision": n, "images": [],
                            "live": False}], "source": "configmap/r", "updated": None, "live": False}
            for n, name in ((2, "web"), (1, LOOKALIKE))]
    lines = render.history_table(rows, wide=False).splitlines()
    assert lines[1].split()[2] == "deployment/web" and lines[2].split()[2] == "deployment/w\\u0435b"
    assert lines[1].index("2   ") == lines[2].index("1   ") == 0
    assert [line.index(" w1 ") for line in lines[1:]] == [lines[1].index(" w1 ")] * 2


def test_error_lines_escape_lookalikes(monkeypatch, capsys):
    def fail(*args, **kwargs):
        raise PluginError(f"deployment/{LOOKALIKE} of release r no longer exists in namespace shop;\nnothing...")

    monkeypatch.setattr(cli.cli, "main", fail)  # the command group, its error funnel (cli.main) kept
    with pytest.raises(SystemExit) as exited:
        cli.main(["list"])
    assert exited.value.code == 1
    assert capsys.readouterr().err == ("error: deployment/w\\u0435b of release r no longer exists in namespace "
                                       "shop;\\x0anothing...\n")


def test_shown_lines_keeps_lines():
    assert shown_lines(f"a\n{LOOKALIKE}\n") == "a\nw\\u0435b\n"
