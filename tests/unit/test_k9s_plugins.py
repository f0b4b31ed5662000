"""The README's k9s plugins.yaml: valid for k9s (its schema's required keys and types), and every
command it runs is one the plugin accepts, for every view it is offered in."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import yaml

from kubectl_harness_rollback.cli.app import cli
from kubectl_harness_rollback.reader import Target

README = Path(__file__).resolve().parents[2] / "README.md"
# What k9s puts in a plugin's args for a Deployment selected in namespace shop (its env, k9s's
# internal/view/table.go: RESOURCE_NAME is the view's resource, its plural).
K9S_ENV = {"NAME": "web", "NAMESPACE": "shop", "CONTEXT": "prod", "USER": "alice"}
KEYS = {"shortCut": str, "description": str, "scopes": list, "command": str, "background": bool, "confirm": bool,
        "dangerous": bool, "args": list, "override": bool, "overwriteOutput": bool}


def snippet() -> dict:
    text = README.read_text()
    block = re.search(r"<!-- k9s plugins: [^>]*-->\n```yaml\n(.*?)```", text, re.S)
    assert block, "README: the k9s plugins.yaml snippet is gone"
    return yaml.safe_load(block.group(1))


def test_the_snippet_is_a_k9s_plugins_file():
    plugins = snippet()["plugins"]
    assert len(plugins) == 4
    for name, plugin in plugins.items():
        assert {"shortCut", "description", "scopes", "command"} <= set(plugin), name
        assert all(isinstance(plugin[key], KEYS[key]) for key in plugin), name
    assert len({plugin["shortCut"] for plugin in plugins.values()}) == len(plugins)
    assert plugins["harness-rollback"]["confirm"] is True and plugins["harness-rollback"]["dangerous"] is True


def test_every_command_of_the_snippet_parses_in_every_view():
    for name, plugin in snippet()["plugins"].items():
        for scope in plugin["scopes"]:
            env = {**K9S_ENV, "RESOURCE_NAME": scope}
            line = re.sub(r"\$([A-Z_]+)", lambda m: env[m.group(1)], plugin["args"][1])
            words = shlex.split(line.split(" 2>&1 |")[0])
            assert words[:2] == ["kubectl", "harness-rollback"], name
            command = cli.get_command(click.Context(cli), words[2])
            context = command.make_context(words[2], words[3:])  # raises on an unknown flag or value
            assert Target.parse(context.params["target"]).name == "web", (name, scope)
