"""Projects: init, finding the project, database URL overrides, schema migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from qualcode import db
from qualcode.config import Settings
from qualcode.errors import ProjectNotFound, QualcodeError
from qualcode.project import find_project, init_project


def test_init_writes_documented_defaults_and_creates_the_schema(tmp_path: Path):
    project = init_project(tmp_path / "study")
    settings = (tmp_path / "study" / "qualcode.toml").read_text(encoding="utf-8")
    assert 'url = "sqlite:///qualcode.db"' in settings
    assert 'staff = "{role}, {school_phrase}, Ofsted {ofsted}"' in settings
    assert (tmp_path / "study" / "qualcode.db").exists()
    assert db.current_revision(project.engine) == db.head_revision() == db.SCHEMA_REVISION
    assert "qualcode.db*" in (tmp_path / "study" / ".gitignore").read_text()


def test_init_refuses_an_existing_project(tmp_path: Path):
    init_project(tmp_path)
    with pytest.raises(QualcodeError, match="already exists"):
        init_project(tmp_path)


def test_sqlite_runs_in_wal_mode_with_foreign_keys(project):
    with project.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_find_project_walks_up_and_honours_the_environment(tmp_path: Path, monkeypatch):
    init_project(tmp_path / "study")
    deep = tmp_path / "study" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_project(deep).root == (tmp_path / "study").resolve()
    monkeypatch.chdir(deep)
    assert find_project().root == (tmp_path / "study").resolve()
    monkeypatch.setenv("QUALCODE_PROJECT", str(tmp_path / "study"))
    monkeypatch.chdir(tmp_path)
    assert find_project().root == (tmp_path / "study").resolve()
    monkeypatch.setenv("QUALCODE_PROJECT", str(tmp_path / "elsewhere"))
    with pytest.raises(ProjectNotFound, match="has no qualcode.toml"):
        find_project()


def test_no_project_found(tmp_path: Path):
    with pytest.raises(ProjectNotFound, match="run 'qualcode init' or pass --project"):
        find_project(tmp_path)


def test_qualcode_db_overrides_the_settings(tmp_path: Path, monkeypatch):
    project = init_project(tmp_path / "study")
    other = tmp_path / "other.db"
    monkeypatch.setenv("QUALCODE_DB", f"sqlite:///{other}")
    assert find_project(tmp_path / "study").database_url == f"sqlite:///{other}"
    assert project.database_url == f"sqlite:///{other}"


def test_project_settings_are_merged_over_the_defaults(tmp_path: Path):
    path = tmp_path / "qualcode.toml"
    path.write_text('[vocabularies]\nlocality = ["Coastal", "Inland"]\n', encoding="utf-8")
    settings = Settings.load(path)
    assert settings.vocabularies.values["locality"] == ["Coastal", "Inland"]
    assert settings.vocabularies.resolve("ofsted", "ri") == "Requires Improvement"
    assert settings.database_url == "sqlite:///qualcode.db"


def test_broken_settings_file_names_itself(tmp_path: Path):
    path = tmp_path / "qualcode.toml"
    path.write_text("[database\n", encoding="utf-8")
    with pytest.raises(QualcodeError, match=str(path)):
        Settings.load(path)


def test_models_and_migrations_agree(project):
    """Autogenerate finds nothing to do: every model change came with its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from qualcode.models import Base

    with project.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_an_older_project_upgrades_and_counts_its_codings_into_the_tallies(tmp_path: Path, corpus: Path):
    """A project made before migration 0004 gets `code_tallies` filled from the codings it has."""
    from alembic import command

    from qualcode.project import Project
    from tests.coded_fixture import counted_spans, make_coded_project, tallies

    project = make_coded_project(tmp_path / "coded", corpus)
    expected = counted_spans(project)
    with project.engine.begin() as connection:
        command.downgrade(db._alembic_config(connection), "0003")
    assert db.current_revision(project.engine) == "0003"
    project.close()
    reopened = Project.open(tmp_path / "coded")
    assert db.current_revision(reopened.engine) == db.SCHEMA_REVISION
    assert tallies(reopened) == expected != {}
