"""`qualcode round start|close`, `qualcode rounds` and `qualcode coders`: blind coding rounds and the team."""

from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import CoderOption, JsonOption, ProjectOption, QualcodeGroup, default_coder, new_app, open_project
from qualcode.cli.query import WhereOption

round_app = new_app(help="Blind coding rounds: coders code the same transcripts without seeing each other's codings.")
coders_app = typer.Typer(cls=QualcodeGroup, invoke_without_command=True, add_completion=False,
                         help="The project's coders: their names and initials, and how many codings each has made.")

NameArgument = Annotated[str, typer.Argument(help="The round's name, e.g. round1.")]


@round_app.command("start")
def start_cli(
    name: NameArgument,
    coders: Annotated[str, typer.Option("--coders", help="The round's coders, comma-separated (two or more).")],
    transcripts: Annotated[str | None, typer.Option("--transcripts", help="The round's transcripts: ids, comma-separated.")] = None,
    where: WhereOption = None,
    coder: CoderOption = None,
    project: ProjectOption = None,
) -> None:
    """Open a blind round: until it is closed, each of its coders sees only their own codings on its
    transcripts (in show, codings, tag, the queries, reports and agreement); anyone else sees everything."""
    from qualcode.analysis.query_where import parse_where
    from qualcode.coding.rounds import start_round

    summary = start_round(open_project(project), name, coders.split(","), coder or default_coder(),
                          transcripts.split(",") if transcripts is not None else None,
                          parse_where(where) if where else None)
    terminal.info(f"blind round {summary.name} open: {', '.join(summary.coders)} on {len(summary.transcripts)}"
                  f" transcript{'s' if len(summary.transcripts) != 1 else ''} ({_ids(summary.transcripts)});"
                  f" close it with 'qualcode round close {summary.name}'")


@round_app.command("close")
def close_cli(name: NameArgument, coder: CoderOption = None, project: ProjectOption = None) -> None:
    """Close a blind round: its coders see everyone's codings again; compare them with 'qualcode agreement --round NAME'."""
    from qualcode.coding.rounds import close_round

    summary = close_round(open_project(project), name, coder or default_coder())
    terminal.info(f"blind round {summary.name} closed; compare its coders with 'qualcode agreement --round {summary.name}'")


def rounds_cli(as_json: JsonOption = False, project: ProjectOption = None) -> None:
    """List the blind rounds, open and closed: their coders and transcripts, and how many of the round's
    transcripts each coder has coded."""
    from qualcode.coding.rounds import list_rounds

    found = list_rounds(open_project(project))
    if as_json:
        terminal.json([summary.as_json() for summary in found])
        return
    rows = [[s.name, "open" if s.open else f"closed {s.closed_at}", s.opened_at, _ids(s.transcripts),
             ", ".join(f"{coder} {done}/{len(s.transcripts)}" for coder, done in s.coded.items())] for s in found]
    terminal.table(f"{len(rows)} round{'s' if len(rows) != 1 else ''}",
                   ["round", "status", "opened", "transcripts", "coders (transcripts coded)"], rows)


def _ids(ids: list[str]) -> str:
    return ", ".join(ids[:6]) + (f" and {len(ids) - 6} more" if len(ids) > 6 else "")


@coders_app.callback()
def coders_cli(ctx: typer.Context, as_json: JsonOption = False, project: ProjectOption = None) -> None:
    """List the project's coders: everyone named on a coding or added with 'qualcode coders add'."""
    if ctx.invoked_subcommand is not None:
        return
    from qualcode.coding.rounds import coder_table

    found = coder_table(open_project(project))
    if as_json:
        terminal.json(found)
        return
    terminal.table(f"{len(found)} coder{'s' if len(found) != 1 else ''}", ["name", "initials", "codings"],
                   [[c["name"], c["initials"], c["codings"]] for c in found])


@coders_app.command("add")
def add_cli(
    name: Annotated[str, typer.Argument(help="The coder's name, as their codings will carry it (--coder, $QUALCODE_CODER or git's user.name).")],
    initials: Annotated[str | None, typer.Option("--initials", help="Their initials (default: from the name).")] = None,
    coder: CoderOption = None,
    project: ProjectOption = None,
) -> None:
    """Add a coder to the team (before they code, so a round can include them), or set a coder's initials."""
    from qualcode.coding.rounds import add_coder

    added = add_coder(open_project(project), name, initials, coder or default_coder())
    terminal.info(f"coder {added.name} ({added.initials})")
