"""`qualcode export qdpx` and `qualcode import FILE.qdpx`: whole projects to and from other QDA tools."""

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import ProjectOption, new_app, open_project

export_app = new_app(help="Write the project for other tools.")


@export_app.command("qdpx")
def export_qdpx_cli(
    file: Annotated[Path, typer.Argument(help="The .qdpx file to write.", dir_okay=False)],
    project: ProjectOption = None,
) -> None:
    """A REFI-QDA project for NVivo, ATLAS.ti, MAXQDA and QualCoder: transcripts, codes, codings, cases, memos."""
    from qualcode.qdpx.writer import export_qdpx

    if file.suffix.lower() != ".qdpx":
        raise typer.BadParameter("the file name must end in .qdpx", param_hint="FILE")
    counts = export_qdpx(open_project(project), file)
    terminal.info(f"wrote {file}: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


def import_qdpx_files(files: list[str], defaults: Path | None, coder: str, dry_run: bool, as_json: bool, project) -> None:
    """The `import` command for `.qdpx` files: one project at a time, with what was read, mapped and left out."""
    from qualcode.qdpx.importer import import_qdpx

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
