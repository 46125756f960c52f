"""The CLI reference (`docs/cli.md`), generated from the commands themselves so it cannot drift.

`make docs` writes it; `tests/test_docs.py` fails when the file is not what
this module would write, and when a command or option has no help text.
"""

from __future__ import annotations

import typer.main


def walk(command, prefix: str = "qualcode"):
    """Every command and sub-command as (full name, command), depth first, in registration order; a group that
    does something itself (`qualcode coders` lists them) is a command too."""
    if hasattr(command, "commands"):
        if command.invoke_without_command and prefix != "qualcode":
            yield prefix, command
        for name, sub in command.commands.items():
            yield from walk(sub, f"{prefix} {name}")
    else:
        yield prefix, command


def _param_row(param) -> str:
    if param.param_type_name == "argument":
        name = f"`{param.name.upper()}`"
    else:
        name = ", ".join(f"`{opt}`" for opt in (*param.opts, *param.secondary_opts))
    help_text = (getattr(param, "help", None) or "").replace("|", "\\|")
    return f"| {name} | {help_text} |"


def cli_reference() -> str:
    from qualcode.cli.root import app

    root = typer.main.get_command(app)
    sections = ["# qualcode command reference", "", "Generated from the commands by `make docs`; do not edit by hand.", ""]
    for name, command in walk(root):
        sections += [f"## `{name}`", "", (command.help or "").strip(), ""]
        params = [p for p in command.params if p.name != "help"]
        if params:
            sections += ["| argument or option | meaning |", "|---|---|", *map(_param_row, params), ""]
    return "\n".join(sections).rstrip() + "\n"


if __name__ == "__main__":
    print(cli_reference(), end="")
