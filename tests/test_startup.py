"""Start-up: real runs of the commands that need no NLP load neither spaCy nor anything else they can do without.

How long they take is measured in `benchmarks/autocode.py`, not here; these tests
keep the heavy imports from creeping back.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from qualcode.coding.codebook import load_codebook_file
from qualcode.coding.manual import apply_codes
from qualcode.ingest.corpus import import_paths
from tests.conftest import REPO


@pytest.fixture
def coded(project, corpus):
    import_paths(project, [corpus])
    load_codebook_file(project, REPO / "codebooks" / "hierarchy-markets-networks.yaml", "setup")
    apply_codes(project, "EAS-S01-HT", ["markets"], "setup", lines="3")
    return project


def imported(project, *args: str) -> set[str]:
    """The modules a `qualcode` run imports, read from ``-X importtime``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "qualcode", *args, "--project", str(project.root)],
        capture_output=True, text=True, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return set(re.findall(r"^import time:.*\|\s+([\w.]+)$", result.stderr, re.MULTILINE))


@pytest.mark.parametrize("args", [["show", "EAS-S01-HT"], ["codebook", "show"], ["query", "matrix"]])
def test_reading_commands_do_not_import_spacy(coded, args) -> None:
    modules = imported(coded, *args)
    assert "qualcode.analysis.overview" in modules and "spacy" not in modules


def test_coding_by_hand_imports_only_what_it_needs(coded) -> None:
    modules = imported(coded, "code", "EAS-S01-HT", "8", "networks", "--coder", "ann")
    assert "qualcode.coding.manual" in modules
    # No pandas, no fuzzy matching (the code is typed right), no YAML, no alembic (the schema is current).
    assert not {"spacy", "pandas", "rapidfuzz", "yaml", "alembic"} & modules


def test_a_command_leaves_the_sqlite_database_closed(coded) -> None:
    """Commands close their project, so SQLite folds its write-ahead log into the database file."""
    folder = coded.root
    coded.close()
    imported(coded, "code", "EAS-S01-HT", "8", "networks", "--coder", "ann")
    assert not (folder / "qualcode.db-wal").exists()
    failed = subprocess.run(
        [sys.executable, "-m", "qualcode", "code", "EAS-S01-HT", "99", "networks", "--project", str(folder)],
        capture_output=True, text=True, cwd=REPO,
    )
    assert failed.returncode == 1 and "there is no line 99" in failed.stderr
    assert not (folder / "qualcode.db-wal").exists()


def test_a_piped_import_loads_no_table_renderer_or_progress_bar(project, corpus) -> None:
    """Into a pipe, the speakers read are plain rows and there is no progress bar to draw."""
    modules = imported(project, "import", str(corpus))
    assert "qualcode.ingest.corpus" in modules
    assert not {"rich.table", "rich.progress"} & modules
