"""`qualcode init`: make a folder a project."""

from pathlib import Path
from typing import Annotated

import typer

from qualcode.cli._console import terminal


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
