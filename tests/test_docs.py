"""The docs are checked against the code: every command and option has help, and docs/cli.md is current."""

from __future__ import annotations

import typer.main

from qualcode.cli.root import app
from qualcode.cli.reference import cli_reference, walk
from tests.conftest import REPO


def test_every_command_and_parameter_has_help():
    for name, command in walk(typer.main.get_command(app)):
        assert (command.help or "").strip(), f"{name} has no help text"
        for param in command.params:
            assert getattr(param, "help", None), f"{name}: {param.name} has no help text"


def test_cli_reference_is_current():
    written = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert written == cli_reference(), "docs/cli.md is out of date: run 'make docs'"


def test_readme_names_every_top_level_command():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, _ in walk(typer.main.get_command(app)):
        top = name.split()[1]
        assert f"qualcode {top}" in readme, f"README.md does not mention 'qualcode {top}'"
