"""Shared fixtures: real projects on real SQLite files, a small corpus in a temp folder,
and the installed `qualcode` script for end-to-end runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qualcode.project import Project, init_project

FIXTURES = Path(__file__).parent / "fixtures"

# Tests run every command in-process; tests/test_worker.py turns the background worker on where it tests it.
os.environ["QUALCODE_WORKER"] = "0"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A copy of the small fixture corpus (2 schools, 4 transcripts) that a test may edit."""
    target = tmp_path / "corpus"
    shutil.copytree(FIXTURES / "corpus", target)
    return target


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A new project with its SQLite database on disk."""
    return init_project(tmp_path / "project")


def table_rows(project: Project) -> dict[str, list[tuple]]:
    """Every row of every table, to compare a database before and after an operation."""
    from sqlalchemy import text

    from qualcode.models import Base

    with project.engine.connect() as connection:
        return {
            name: sorted(map(tuple, connection.execute(text(f"SELECT * FROM {name}"))), key=repr)
            for name in Base.metadata.tables
        }


def word_transcript(path: Path, meta: dict[str, str], paragraphs: list[str]) -> Path:
    """A Word transcript as a researcher writes one: a two-column metadata table (if any), then paragraphs."""
    import docx

    document = docx.Document()
    if meta:
        table = document.add_table(rows=0, cols=2)
        for key, value in meta.items():
            cells = table.add_row().cells
            cells[0].text, cells[1].text = key, value
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    document.save(path)
    return path


QUALCODE = Path(sys.executable).parent / "qualcode"


def run_script(script: Path, *args: str, cwd: Path, env: dict | None = None, input: str | None = None):
    """Run an installed script in a subprocess, without the caller's QUALCODE_* settings."""
    assert script.exists(), f"the script is not installed at {script}"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("QUALCODE_")}
    environment.update({"COLUMNS": "200", "QUALCODE_WORKER": "0", **(env or {})})
    return subprocess.run(
        [str(script), *args], cwd=cwd, env=environment, input=input, capture_output=True, text=True, timeout=600,
    )


@pytest.fixture
def run(tmp_path: Path):
    """Run the installed `qualcode` script in a subprocess, from `cwd` (default: tmp_path)."""

    def _run(*args: str, cwd: Path | None = None, env: dict | None = None, input: str | None = None):
        return run_script(QUALCODE, *args, cwd=cwd or tmp_path, env=env, input=input)

    return _run
