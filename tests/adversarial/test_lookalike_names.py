"""A history that names `wеb` (Cyrillic е) next to a live `web`, on the real control plane: the
messages and tables show the name escaped (`w\\u0435b`), so nobody reads it as `web`."""

from tests.adversarial.test_interrupted import RELEASE, good_good_bad
from tests.support.harness import Release, write_history

LOOKALIKE = "w\u0435b"


def lookalike_history(apps, core, namespace):
    """Releases 1 to 3 of `web`, but the history says release 2 deployed `wеb`."""
    deployer = good_good_bad(apps, core, namespace)
    releases = [Release(r.number, r.status, [(kind, LOOKALIKE if r.number == 2 else name, revision)
                                             for kind, name, revision in r.workloads], r.namespace)
                for r in deployer.releases]
    write_history(core, namespace, RELEASE, releases)


def test_a_lookalike_name_is_shown_escaped_in_errors_and_tables(apps, core, namespace, plugin):
    lookalike_history(apps, core, namespace)

    planned = plugin("plan", RELEASE, "-n", namespace, check_exit=1)
    assert LOOKALIKE not in planned.stderr and "deployment/w\\u0435b" in planned.stderr, planned.stderr
    assert len(planned.stderr.strip().splitlines()) == 1

    shown = plugin("history", RELEASE, "-n", namespace, check_exit=0)
    assert LOOKALIKE not in shown.stdout and "deployment/w\\u0435b" in shown.stdout, shown.stdout
