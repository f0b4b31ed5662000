import pytest

from kubectl_harness_rollback.cli.durations import parse_duration


@pytest.mark.parametrize("text, seconds", [
    ("5m", 300.0), ("30s", 30.0), ("1h2m3s", 3723.0), ("300ms", 0.3), ("1.5s", 1.5), ("0", 0.0), ("45", 45.0),
    ("1µs", 1e-6), ("1us", 1e-6), (".5s", 0.5), (" 2m ", 120.0),
])
def test_parses_go_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "5x", "m", "1m30", "-1s", "+1s", "-0s", "five minutes", "1e3s", "1.2.3s"])
def test_rejects_what_kubectl_rejects(text):
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)
