"""Opening a project database: engine settings, and schema migrations with alembic.

SQLite is the default (WAL mode, foreign keys on); any SQLAlchemy URL works,
PostgreSQL for a team. The schema is always brought to the newest alembic
revision when a project is opened, so an old project upgrades itself.
"""

from __future__ import annotations

from importlib import resources

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    engine = create_engine(url)
    if make_url(url).get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _alembic_config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("qualcode").joinpath("migrations")))
    config.attributes["connection"] = connection
    return config


#: The newest migration in `qualcode/migrations/versions/` (a test keeps the two in step).
#: Knowing it lets an up-to-date database open without importing alembic.
SCHEMA_REVISION = "0007"


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (creating it in an empty database)."""
    if _stored_revision(engine) == SCHEMA_REVISION:
        return
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(_alembic_config(connection), "head")


def _stored_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()
