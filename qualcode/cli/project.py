"""`qualcode init`, `backup`, `restore`, `snapshots`: making a project, and keeping it safe."""

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal
from qualcode.cli._util import JsonOption, ProjectOption, open_project


def init_cli(
    directory: Annotated[Path, typer.Argument(help="Folder for the project (created if missing).")] = Path("."),
    database: Annotated[
        str | None, typer.Option("--database", help="SQLAlchemy URL (default: SQLite file qualcode.db).")
    ] = None,
) -> None:
    """Create a project: qualcode.toml with the default vocabularies, and its database."""
    from qualcode.project import init_project

    project = init_project(directory, database)
    project.close()
    terminal.info(f"created {project.root / 'qualcode.toml'} and the database {project.database_url}")


def backup_cli(
    file: Annotated[Path, typer.Argument(help="The backup to write: FILE.db (a SQLite copy) or FILE.zip (a portable dump, any database).", dir_okay=False)],
    project: ProjectOption = None,
) -> None:
    """Back up the whole database, consistently while others work: SQLite's backup API, or a portable dump (.zip)."""
    from qualcode.backups import backup

    made = backup(open_project(project), file)
    total = sum(made.rows.values())
    terminal.info(f"wrote {made.path} ({made.kind}): {total} rows, {made.rows.get('codings', 0)} codings;"
                  " the identity key is not in it, back it up on its own")


def restore_cli(
    file: Annotated[Path, typer.Argument(help="A backup written by 'qualcode backup' (.zip or a SQLite .db), or a snapshot.", dir_okay=False)],
    project: ProjectOption = None,
) -> None:
    """Restore a backup into this project, which must be empty (run 'qualcode init' in a new folder first)."""
    from qualcode.backups import restore

    counts = restore(open_project(project), file)
    terminal.info(f"restored {file}: {sum(counts.values())} rows, {counts.get('transcripts', 0)} transcripts,"
                  f" {counts.get('codings', 0)} codings")


def snapshots_cli(as_json: JsonOption = False, project: ProjectOption = None) -> None:
    """List the snapshots taken before an import --update, codebook merge or rm, newest first."""
    from qualcode.snapshots import listing

    found = listing(open_project(project))
    if as_json:
        terminal.json(found)
        return
    columns = ["taken", "before", "size_mb", "file"]
    terminal.table(f"{len(found)} snapshots ('qualcode restore FILE' into a new project, or copy one over the database)",
                   columns, [[item[c] for c in columns] for item in found])
