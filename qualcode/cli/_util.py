"""Helpers the commands share: the `--project` option and error handling."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

from qualcode.cli._console import terminal
from qualcode.errors import QualcodeError

if TYPE_CHECKING:
    from qualcode.project import Project

ProjectOption = Annotated[
    Path | None,
    typer.Option(
        "--project",
        "-p",
        envvar="QUALCODE_PROJECT",
        help="Project folder (default: the nearest folder upwards holding qualcode.toml).",
        show_default=False,
    ),
]

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


#: The projects commands opened, closed when the command ends.
_opened: list[Project] = []


def open_project(path: Path | None) -> Project:
    """The project a command works on. SQLAlchemy is imported here, not when the CLI starts."""
    from qualcode.project import find_project

    project = find_project(path)
    _opened.append(project)
    return project


class QualcodeGroup(TyperGroup):
    """Turns a `QualcodeError` from any command into an error message and exit code 1,
    and closes the projects the command opened, whatever happened."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except QualcodeError as exc:
            for problem in getattr(exc, "problems", []):
                terminal.err.print(str(problem), markup=False, highlight=False)
            terminal.error(str(exc))
            raise typer.Exit(1) from None
        finally:
            while _opened:
                _opened.pop().close()


def new_app(**kwargs) -> typer.Typer:
    return typer.Typer(cls=QualcodeGroup, no_args_is_help=True, add_completion=False, **kwargs)


def warn_unread(project: Project, transcript_ids=None, what: str = "searched") -> None:
    """Say which transcripts a command passed over because no participant turn could be read in them."""
    from qualcode.turns import unread

    ids = unread(project, transcript_ids)
    if ids:
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        terminal.warn(
            f"{len(ids)} transcript{'s' if len(ids) != 1 else ''} with no participant turns, so not {what}: {shown};"
            " name their speakers under [speakers] in qualcode.toml and run 'qualcode import --reparse'"
        )


def default_coder() -> str:
    import getpass

    return os.environ.get("QUALCODE_CODER") or getpass.getuser()


CoderOption = Annotated[
    str | None,
    typer.Option("--coder", help="Who is coding (default: $QUALCODE_CODER, else your login name).", show_default=False),
]


def complete_code_name(incomplete: str) -> list[str]:
    """Shell completion of code paths, fuzzy, from the project in the working directory."""
    from qualcode.codebook import complete_code
    from qualcode.project import find_project

    try:
        project = find_project(None)
    except QualcodeError:
        return []
    try:
        with project.session() as session:
            return complete_code(session, incomplete)
    except QualcodeError:
        return []
    finally:
        project.close()
