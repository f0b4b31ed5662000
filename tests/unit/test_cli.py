"""The command-line shell: help, version, and that neither imports the kubernetes client."""

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from kubectl_harness_rollback import __version__, version_line
from kubectl_harness_rollback.cli.app import cli, connection_flags
from kubectl_harness_rollback.errors import UsageError


def all_commands():
    return sorted(cli.commands)


@pytest.mark.parametrize("name", all_commands())
def test_every_command_has_help_with_an_example(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output


def test_version_prints_the_package_version():
    result = CliRunner().invoke(cli, ["version"])
    assert result.exit_code == 0
    assert result.output.startswith(f"kubectl-harness_rollback v{__version__} ")


def test_connection_flags_are_accepted_before_and_after_the_command():
    result = CliRunner().invoke(cli, ["--context", "a", "version", "-n", "b", "--as", "me"])
    assert result.exit_code == 0


@pytest.mark.parametrize("argv", [["--help"], ["version"], [], ["help"], ["help", "plan"], ["options"]]
                         + [[name, "--help"] for name in all_commands()])
def test_help_and_version_do_not_import_the_kubernetes_client(argv):
    probe = (
        "import sys\n"
        "from kubectl_harness_rollback.cli.app import cli\n"
        f"cli.main(args={argv!r}, standalone_mode=False)\n"
        "print('LOADED' if 'kubernetes' in sys.modules else 'LAZY')\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "LAZY"


def test_console_script_and_module_entry_points_agree():
    via_module = subprocess.run([sys.executable, "-m", "kubectl_harness_rollback", "version"],
                                capture_output=True, text=True, check=True).stdout
    assert via_module.startswith(f"kubectl-harness_rollback v{__version__}")


def flags_from(**given):
    ctx = click.Context(cli, obj={"connection": given})
    return connection_flags(ctx)


def test_as_group_needs_as():
    with pytest.raises(UsageError, match="--as-group needs --as"):
        flags_from(impersonate_groups=("ops",))


def test_request_timeout_is_parsed_and_zero_means_none():
    assert flags_from(request_timeout="2m").request_timeout == 120.0
    assert flags_from(request_timeout="0").request_timeout == 0  # no timeout; not given (None): the default
    assert flags_from().request_timeout is None
    with pytest.raises(UsageError, match="--request-timeout"):
        flags_from(request_timeout="soon")


@pytest.mark.parametrize("argv, message", [
    (["plan", "deployment/"], "is not KIND/NAME"),
    (["plan", "cronjob/x"], "unsupported workload kind 'cronjob'"),
    (["plan", "r", "--to-release", "1", "--to-revision", "2"], "cannot be used together"),
    (["history", "r", "--request-timeout", "soon"], "--request-timeout"),
    (["history", "r", "--as-group", "ops"], "--as-group needs --as"),
    (["status", "r", "--timeout", "soon"], "--timeout: invalid duration 'soon'"),
    (["status", "sts/"], "is not KIND/NAME"),
])
def test_bad_command_lines_exit_2_before_any_request(argv, message, tmp_path):
    # A kubeconfig pointing at a port nothing listens on: reaching it would exit 1, not 2.
    env = {"KUBECONFIG": str(tmp_path / "absent")}
    done = subprocess.run([sys.executable, "-m", "kubectl_harness_rollback", *argv], capture_output=True,
                          text=True, env={**__import__("os").environ, **env})
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert done.stdout == ""


def test_no_kubeconfig_is_one_line_and_exit_1(tmp_path):
    import os
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_SERVICE_HOST"}
    env.update(KUBECONFIG=str(tmp_path / "absent"), HOME=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "kubectl_harness_rollback", "history", "r"],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert done.stderr.startswith("error: no kubeconfig found") and done.stderr.count("\n") == 1


def test_the_quick_top_level_help_is_clicks_own():
    """`--help` and `version` are answered before click is imported (fast_path.py): the text must stay
    click's. If this fails, paste click's help (below) into fast_path.HELP."""
    from kubectl_harness_rollback.cli import fast_path

    rendered = CliRunner().invoke(cli, ["--help"], prog_name="kubectl harness-rollback", terminal_width=80).output
    assert fast_path.HELP == rendered, rendered
    assert CliRunner().invoke(cli, ["version"]).output == version_line() + "\n"


def test_quick_answers_import_neither_click_nor_kubernetes():
    import subprocess
    import sys

    code = ("import sys\nfrom kubectl_harness_rollback.cli import fast_path\nfast_path.main(sys.argv[1:])\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'kubernetes', 'urllib3')))")
    for args in (["version"], ["--help"], [], ["help"]):
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60,
                              env={"COLUMNS": "100", "PATH": "/usr/bin:/bin"})
        assert done.returncode == 0 and done.stdout.splitlines()[-1] == "[]", done


def test_version_flag_prints_the_version_line_as_the_command_does():
    assert CliRunner().invoke(cli, ["--version"]).output == version_line() + "\n"
    done = subprocess.run([sys.executable, "-m", "kubectl_harness_rollback", "--version"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == version_line() + "\n"


@pytest.mark.parametrize("name", all_commands())
def test_help_lists_the_commands_own_flags_and_points_at_options_for_the_connection_flags(name):
    text = CliRunner().invoke(cli, [name, "--help"], terminal_width=100).output
    assert "--kubeconfig" not in text and "--request-timeout" not in text and "--help" in text
    assert text.endswith('\nUse "kubectl harness-rollback options" for a list of global command-line options '
                         "(applies to all commands).\n")


def test_options_lists_every_connection_flag_once():
    from kubectl_harness_rollback.cli.connection_flags import CONNECTION_OPTIONS

    text = CliRunner().invoke(cli, ["options"], terminal_width=100).output
    for declarations, _, _ in CONNECTION_OPTIONS:
        assert text.count(f"  {', '.join(declarations)} ") == 1, declarations
    assert "--help" not in text


def test_every_flag_is_described_and_no_click_range_leaks():
    commands = [cli] + [cli.commands[name] for name in all_commands()]
    for command in commands:
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{command.name} {param.opts} has no description"
    text = CliRunner().invoke(cli, ["rollback", "--help"]).output
    assert "x>=" not in text
