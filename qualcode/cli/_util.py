"""Helpers the commands share: the `--project` option and error handling."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from qualcode.cli._console import terminal
from qualcode.config import default_coder  # noqa: F401 (the commands take it from here)
from qualcode.errors import CouldNotRun, QualcodeError

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
JsonlOption = Annotated[bool, typer.Option("--jsonl", help="Print one JSON object per line, as each is read.")]
NoPagerOption = Annotated[bool, typer.Option("--no-pager", help="On a terminal, print straight out rather than"
                                             " through the pager ($QUALCODE_PAGER, $PAGER, else less).")]


#: The projects commands opened, closed when the command ends.
_opened: list[Project] = []


def open_project(path: Path | None) -> Project:
    """The project a command works on. SQLAlchemy is imported here, not when the CLI starts."""
    from qualcode.project import find_project

    project = find_project(path)
    project.on_busy = terminal.info
    project.on_blind = terminal.warn
    _opened.append(project)
    return project


class QualcodeGroup(TyperGroup):
    """The one place errors meet the user: a `QualcodeError` from any command becomes its
    message and exit code, a database or file the command could not use becomes exit 2, and
    anything else an "internal error" line; the traceback only with --debug. The projects the
    command opened are closed whatever happened."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):  # usage errors and exits: typer reports them
            raise
        except Exception as exc:
            raise typer.Exit(report_error(exc, debug=_debugging(ctx))) from None
        finally:
            while _opened:
                _opened.pop().close()


def report_error(exc: Exception, debug: bool = False) -> int:
    """Print `exc` for the user (and its traceback if `debug`); return the exit code."""
    if debug:
        import traceback

        traceback.print_exception(exc)
    error = exc if isinstance(exc, QualcodeError) else _could_not_run(exc)
    if error is None:
        # The first line only: a database error goes on with the SQL and its values (interview text).
        detail = (str(exc).strip().splitlines() or [""])[0][:200]
        hint = "" if debug else "; run again with --debug for the details"
        terminal.error(f"internal error ({type(exc).__name__}: {detail}){hint}")
        return 2
    for problem in getattr(error, "problems", []):
        terminal.err.print(str(problem), markup=False, highlight=False)
    terminal.error(str(error))
    return error.exit_code


def _could_not_run(exc: Exception) -> QualcodeError | None:
    """A database or file the command could not use, as a `CouldNotRun`; None for qualcode's own bugs."""
    if isinstance(exc, OSError) and exc.strerror:
        where = f"{exc.filename}: " if exc.filename else ""
        return CouldNotRun(f"{where}{exc.strerror}")
    if "sqlalchemy" not in sys.modules and "sqlite3" not in sys.modules:
        return None
    from qualcode.db import trouble

    return trouble(exc, _opened[-1].database_url if _opened else None)


def _debugging(ctx) -> bool:
    """The root's `--debug` (which also reads QUALCODE_DEBUG), seen from any sub-command group."""
    return bool(ctx.find_root().params.get("debug"))


def new_app(**kwargs) -> typer.Typer:
    return typer.Typer(cls=QualcodeGroup, no_args_is_help=True, add_completion=False, **kwargs)


def warn_unread(project: Project, transcript_ids=None, what: str = "searched") -> None:
    """Say which transcripts a command passed over because no participant turn could be read in them."""
    from qualcode.ingest.turns import unread

    ids = unread(project, transcript_ids)
    if ids:
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        terminal.warn(
            f"{len(ids)} transcript{'s' if len(ids) != 1 else ''} with no participant turns, so not {what}: {shown};"
            " name their speakers under [speakers] in qualcode.toml and run 'qualcode import --reparse'"
        )


def warn_unplaced(project: Project, what: str = "counted") -> None:
    """Say how many unplaced codings a count or report left out (their words are gone), and where they are listed."""
    from qualcode.analysis.query import unplaced_count

    count = unplaced_count(project)
    if count:
        terminal.warn(
            f"{count} unplaced coding{'s' if count != 1 else ''} not {what}: {'their' if count != 1 else 'its'} words were"
            " not found when a transcript was re-imported; 'qualcode codings --unplaced' lists them to code again"
        )


CoderOption = Annotated[
    str | None,
    typer.Option("--coder", help="Who is coding (default: $QUALCODE_CODER, else git's user.name, else your login name).", show_default=False),
]


def complete_code_name(incomplete: str) -> list[str]:
    """Shell completion of code paths, fuzzy, from the project in the working directory."""
    from qualcode.coding.codebook import complete_code
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
