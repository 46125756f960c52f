"""`qualcode export qdpx|codings|codebook`, `qualcode import FILE.qdpx` / `import --codings FILE` and
`qualcode merge`: whole projects to and from other QDA tools and other copies, codings and the codebook as tables."""

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import CoderOption, JsonOption, ProjectOption, default_coder, new_app, open_project
from qualcode.cli.query import CodesOption, RawOption, WhereOption

export_app = new_app(help="Write the project for other tools.")


@export_app.command("qdpx")
def export_qdpx_cli(
    file: Annotated[Path, typer.Argument(help="The .qdpx file to write.", dir_okay=False)],
    project: ProjectOption = None,
) -> None:
    """A REFI-QDA project for NVivo, ATLAS.ti, MAXQDA and QualCoder: transcripts, codes, codings, cases, memos
    (a coder in an open blind round: only the codings they may see)."""
    from qualcode.exchange.qdpx.writer import export_qdpx

    if file.suffix.lower() != ".qdpx":
        raise typer.BadParameter("the file name must end in .qdpx", param_hint="FILE")
    counts = export_qdpx(open_project(project), file)
    terminal.info(f"wrote {file}: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


TableArgument = Annotated[Path, typer.Argument(help="The .csv or .xlsx file to write.", dir_okay=False)]


@export_app.command("codings")
def export_codings_cli(
    file: TableArgument,
    where: WhereOption = None,
    codes: CodesOption = None,
    raw: RawOption = False,
    project: ProjectOption = None,
) -> None:
    """One row per coding: id, transcript, participant, lines, offsets, words, code, coder, origin, date, memo, metadata."""
    from qualcode.exchange.coding_tables import export_codings
    from qualcode.analysis.query_where import parse_where

    if raw:
        terminal.warn("--raw: names are not pseudonymised; do not share this file")
    counts = export_codings(open_project(project), file, parse_where(where or []), codes, raw)
    terminal.info(f"wrote {file}: {counts['codings']} codings")
    if counts["unplaced left out"]:
        terminal.warn(f"{counts['unplaced left out']} unplaced codings left out (their words are gone);"
                      " 'qualcode codings --unplaced' lists them")


@export_app.command("codebook")
def export_codebook_cli(file: TableArgument, project: ProjectOption = None) -> None:
    """The codebook as a table: path, name, title, definition, include, exclude, example, colour (what 'codebook load' reads)."""
    from qualcode.coding.codebook import export_codebook
    from qualcode.exchange.workbooks import table_format

    table_format(file)
    terminal.info(f"wrote {export_codebook(open_project(project), file)}")


@export_app.command("memos")
def export_memos_cli(
    file: TableArgument,
    on: Annotated[str | None, typer.Option("--on", help="Only memos on: coding, code, transcript, school, locality or project.")] = None,
    author: Annotated[str | None, typer.Option("--author", help="Only this author's memos.")] = None,
    project: ProjectOption = None,
) -> None:
    """Memos as a table: id, what they annotate, author, date, text (as 'qualcode memos' lists them)."""
    from qualcode.coding.memos import export_memos
    from qualcode.exchange.workbooks import table_format

    table_format(file)
    terminal.info(f"wrote {file}: {export_memos(open_project(project), file, on, author)} memos")


def import_codings_file(files: list[str], coder: str, skip_unmatched: bool, dry_run: bool, as_json: bool, project) -> None:
    """The `import --codings` command: a codings table, all or nothing, one change `undo` takes back."""
    from qualcode.exchange.coding_tables import import_codings

    if len(files) != 1:
        raise terminal.abort("import --codings takes one .csv or .xlsx file", 2)
    result = import_codings(open_project(project), Path(files[0]), coder, skip_unmatched=skip_unmatched, dry_run=dry_run)
    if as_json:
        terminal.json(result.as_json())
        return
    for note in result.notes:
        terminal.warn(note)
    if result.unmatched:
        terminal.table(f"{len(result.unmatched)} rows left out: no such transcript or code", ["row", "column", "why"],
                       [(p.line, p.field, p.message) for p in result.unmatched])
    verb = "would import" if dry_run else "imported"
    terminal.info(f"{verb} {result.added} codings from {files[0]}; {result.already} already stored")


def import_qdpx_files(files: list[str], defaults: Path | None, coder: str, dry_run: bool, as_json: bool, project) -> None:
    """The `import` command for `.qdpx` files: one project at a time, with what was read, mapped and left out."""
    from qualcode.exchange.qdpx.importer import import_qdpx

    if len(files) != 1:
        raise terminal.abort("import one .qdpx project at a time, without other files", 2)
    result = import_qdpx(open_project(project), Path(files[0]), coder, defaults, dry_run)
    if as_json:
        terminal.json(result.as_json())
        return
    terminal.info(f"positions read as {result.convention}")
    terminal.table(f"{files[0]}", ["", "read", "imported", "left out", "why"], result.rows)
    for note in result.notes:
        terminal.warn(note)
    verb = "would import" if dry_run else "imported"
    terminal.info(f"{verb} {len(result.transcripts)} transcripts from {files[0]}")


def merge_cli(
    other: Annotated[Path, typer.Argument(
        help="Another copy: a qualcode project's folder, its SQLite database, a 'qualcode backup' file (.db or .zip),"
             " or a REFI-QDA project (.qdpx).", show_default=False, metavar="OTHER")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Match and count only; write nothing.")] = False,
    coder: CoderOption = None,
    as_json: JsonOption = False,
    project: ProjectOption = None,
) -> None:
    """Bring another copy's codings, memos, new codes and review decisions in; one change.

    Transcripts are matched by text, codes by path, codings and decisions by transcript, span, code and coder(s)."""
    from qualcode.exchange.merging import merge

    report = merge(open_project(project), other, coder or default_coder(), dry_run)
    if as_json:
        terminal.json(report.as_json())
        return
    odd = [(t["there"], t["here"] or "-", t["how"]) for t in report.transcripts if t["here"] != t["there"]]
    if odd:
        terminal.table("transcripts not matched by id and text", ["there", "here", "how"], odd)
    terminal.table(report.source, ["", "read", "merged", "already present", "unmatched", "why"], report.rows())
    terminal.table("coders (names as given: the same name is one coder)",
                   ["coder", "merged", "already present", "unmatched", "coder here before"],
                   [(name, c["merged"], c["already_present"], c["unmatched"], "yes" if c["here_before"] else "new")
                    for name, c in sorted(report.coders.items())])
    for note in report.notes:
        terminal.warn(note)
    codings = report.kinds["codings"]
    verb = "would merge" if dry_run else "merged"
    terminal.info(f"{verb} {codings.merged} codings from {other}; {codings.already} already present,"
                  f" {sum(codings.unmatched.values())} unmatched" + ("" if dry_run else "; 'qualcode undo' takes the merge back"))
