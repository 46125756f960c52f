"""`qualcode codebook ...`: load, show, add, rename, move, merge, rm, export."""

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import CoderOption, JsonOption, ProjectOption, complete_code_name, default_coder, new_app, open_project

codebook_app = new_app(help="The codebook: load it, look at it, change it, export it.")

CodeArgument = Annotated[str, typer.Argument(help="Code path or unambiguous tail of it.", autocompletion=complete_code_name)]


@codebook_app.command("load")
def load_cli(
    file: Annotated[Path, typer.Argument(help="Codebook: YAML, REFI-QDA .qdc, or a .csv/.xlsx table with name or path, and definition columns.",
                                 exists=True, dir_okay=False)],
    coder: CoderOption = None,
    project: ProjectOption = None,
) -> None:
    """Load a codebook file: new codes are added, existing ones updated."""
    from qualcode.coding.codebook import load_codebook_file

    report = load_codebook_file(open_project(project), file, coder or default_coder())
    terminal.info(f"{len(report.added)} codes added, {len(report.updated)} updated, {len(report.unchanged)} unchanged")


@codebook_app.command("show")
def show_cli(as_json: JsonOption = False, project: ProjectOption = None) -> None:
    """The code tree with counts of codings, transcripts and schools per code."""
    from qualcode.coding.codebook import code_table

    table = code_table(open_project(project))
    if as_json:
        columns = ["path", "definition", "codings", "transcripts", "schools"]
        terminal.json(table[columns].to_dict(orient="records"))
        return
    rows = []
    for row in table.itertuples():
        depth = row.path.count("/")
        label = "  " * depth + row.path.rsplit("/", 1)[-1] + (" (inductive)" if row.origin == "inductive" else "")
        rows.append((label, row.codings, row.transcripts, row.schools, row.title or ""))
    terminal.table(f"{len(table)} codes", ["code", "codings", "transcripts", "schools", "title"], rows)


@codebook_app.command("add")
def add_cli(
    path: Annotated[str, typer.Argument(help="New code path, e.g. markets/competition/pupils.")],
    definition: Annotated[str | None, typer.Option("--definition", help="What the code means.")] = None,
    inductive: Annotated[bool, typer.Option("--inductive", help="Mark it as emerging from the data.")] = False,
    coder: CoderOption = None,
    project: ProjectOption = None,
) -> None:
    """Add a code (and any missing parents)."""
    from qualcode.coding.codebook import add_code

    origin = "inductive" if inductive else "deductive"
    terminal.info(f"added {add_code(open_project(project), path, coder or default_coder(), definition, origin)}")


@codebook_app.command("rename")
def rename_cli(
    code: CodeArgument,
    new_name: Annotated[str, typer.Argument(help="The new last part of its path.")],
    coder: CoderOption = None,
    project: ProjectOption = None,
) -> None:
    """Rename a code (its children and codings follow)."""
    from qualcode.coding.codebook import rename_code

    terminal.info(f"renamed to {rename_code(open_project(project), code, new_name, coder or default_coder())}")


@codebook_app.command("move")
def move_cli(
    code: CodeArgument,
    parent: Annotated[str, typer.Argument(help="New parent code, or '/' for the top level.", autocompletion=complete_code_name)],
    coder: CoderOption = None,
    project: ProjectOption = None,
) -> None:
    """Move a code (with its children) under another parent."""
    from qualcode.coding.codebook import move_code

    new_path = move_code(open_project(project), code, None if parent.strip("/") == "" else parent, coder or default_coder())
    terminal.info(f"moved to {new_path}")


@codebook_app.command("merge")
def merge_cli(source: CodeArgument, target: CodeArgument, coder: CoderOption = None, project: ProjectOption = None) -> None:
    """Merge SOURCE into TARGET: codings are recoded (no duplicates), memos and children kept."""
    from qualcode.coding.codebook import merge_codes

    opened = open_project(project)
    report = _snapshotted(opened, "codebook-merge", lambda: merge_codes(opened, source, target, coder or default_coder()))
    terminal.info(
        f"merged {report.source} into {report.target}: {report.recoded} codings recoded, "
        f"{report.duplicates_dropped} duplicates folded in, {report.memos_moved} memos moved"
    )


@codebook_app.command("rm")
def rm_cli(
    code: CodeArgument,
    recode_to: Annotated[str | None, typer.Option("--recode-to", help="Move its codings to this code first.", autocompletion=complete_code_name)] = None,
    force: Annotated[bool, typer.Option("--force", help="Delete its codings too.")] = False,
    coder: CoderOption = None,
    project: ProjectOption = None,
) -> None:
    """Remove a code; refused while it has codings unless --recode-to or --force."""
    from qualcode.coding.codebook import remove_code

    opened = open_project(project)
    removed, count = _snapshotted(opened, "codebook-rm", lambda: remove_code(opened, code, coder or default_coder(), recode_to, force))
    what = f"recoded to {recode_to}" if recode_to else "deleted"
    terminal.info(f"removed {removed}" + (f"; its {count} codings were {what}" if count else ""))


@codebook_app.command("export")
def export_cli(
    file: Annotated[Path, typer.Argument(help="Output file: .yaml or .qdc (REFI-QDA).")],
    project: ProjectOption = None,
) -> None:
    """Export the codebook as YAML or as a REFI-QDA .qdc file (validated against its schema)."""
    from qualcode.coding.codebook import export_codebook

    terminal.info(f"wrote {export_codebook(open_project(project), file)}")


def _snapshotted(project, reason: str, work):
    """Run a destructive codebook change after taking a snapshot of the database (dropped if the change is refused)."""
    from qualcode.snapshots import take

    snapshot = take(project, reason)
    try:
        result = work()
    except BaseException:
        if snapshot.path is not None:
            snapshot.path.unlink(missing_ok=True)
        raise
    terminal.info(snapshot.message)
    return result
