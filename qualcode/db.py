"""Opening a project database: engine settings, and schema migrations with alembic.

SQLite is the default (WAL mode, foreign keys on); any SQLAlchemy URL works,
PostgreSQL for a team. The schema is always brought to the newest alembic
revision when a project is opened, so an old project upgrades itself; but only
`qualcode init` creates a database, so a mistyped path or a lost file is an
error rather than a new empty project that answers every query with zeros.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, create_engine, event, insert, inspect, text
from sqlalchemy.engine import make_url

from qualcode.errors import CouldNotRun, NoDatabase, QualcodeError


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def connect(url: str, create: bool = False) -> Engine:
    """An engine on the database at `url`, its schema brought to the newest revision.

    Without `create`, a database that does not exist yet (no SQLite file, or no
    tables at all) raises `NoDatabase` instead of being made.
    """
    parsed = make_url(url)
    path = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if not create and path and path != ":memory:" and not parsed.query.get("uri") and _empty(Path(path)):
        raise NoDatabase(path)
    engine = make_engine(url)
    try:
        upgrade(engine, create)
    except BaseException:
        engine.dispose()
        raise
    return engine


def _empty(path: Path) -> bool:
    """No SQLite file, or an empty one (connecting would make it a database)."""
    return not path.exists() or path.stat().st_size == 0


def make_engine(url: str) -> Engine:
    from sqlalchemy.exc import NoSuchModuleError

    from qualcode.concurrency import SQLITE_TIMEOUT

    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    psycopg = parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("psycopg", "psycopg2")
    # psycopg: SQLAlchemy need not look up hstore's type on connecting (three more round trips on the first
    # connection of each command), a type qualcode never uses.
    options = {"connect_args": {"timeout": SQLITE_TIMEOUT}} if sqlite else {"use_native_hstore": False} if psycopg else {}
    try:
        engine = create_engine(url, **options)
    except NoSuchModuleError:
        raise QualcodeError(f"{_shown(url)}: unknown kind of database; use sqlite:/// or postgresql+psycopg://") from None
    except ImportError as exc:
        raise CouldNotRun(f"{_shown(url)}: the database driver is not installed ({exc.name}); install it with pip") from None
    if sqlite:
        event.listen(engine, "connect", _sqlite_pragmas)
    elif psycopg:
        # First, before SQLAlchemy's own checks on the first connection (server version, schema, isolation level),
        # which then run without a BEGIN and a ROLLBACK around them: two round trips fewer per command.
        event.listen(engine, "connect", _no_jit, insert=True)
        event.listen(engine, "connect", _transactions_on)
    return engine


def _no_jit(dbapi_connection, _record) -> None:
    """Turn PostgreSQL's JIT compiler off for the session: it compiles any query the planner costs high, and the
    planner overestimates qualcode's self-joins (co-occurrence within a turn: 1.6 s of compiling for a 0.1 s query
    on the bundled corpus). Set in autocommit, one round trip: a SET in a transaction later rolled back is undone.
    Not a startup `options` parameter, which connection poolers such as PgBouncer refuse. Autocommit stays on
    until `_transactions_on`, the last of the connection's set-up."""
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")


def _transactions_on(dbapi_connection, _record) -> None:
    dbapi_connection.autocommit = False


def _alembic_config(connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("qualcode").joinpath("migrations")))
    config.attributes["connection"] = connection
    return config


#: The newest migration in `qualcode/migrations/versions/` (a test keeps the two in step).
#: Knowing it lets an up-to-date database open without importing alembic.
SCHEMA_REVISION = "0012"


def upgrade(engine: Engine, create: bool = True) -> None:
    """Bring the schema to the newest revision (creating it in an empty database only if `create`)."""
    revision = _stored_revision(engine)
    if revision == SCHEMA_REVISION:
        return
    if revision is None and not create:
        with engine.connect() as connection:
            if not inspect(connection).get_table_names():
                raise NoDatabase(_shown(engine.url))
    from alembic import command
    from alembic.util import CommandError

    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            _foreign_keys(connection, False)
        try:
            with connection.begin():
                command.upgrade(_alembic_config(connection), "head")
                if sqlite and (broken := connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise QualcodeError(f"the schema upgrade would break these references, so it was not made: {broken[:5]}")
        except CommandError as exc:  # a revision this qualcode does not know: a newer qualcode made it
            raise CouldNotRun(f"{_shown(engine.url)}: cannot upgrade the database ({exc}); is it from a newer qualcode?") from None
        finally:
            if sqlite:
                _foreign_keys(connection, True)


def _foreign_keys(connection, on: bool) -> None:
    """SQLite rebuilds a table (batch mode) by dropping it, which foreign keys on other tables forbid.

    The pragma only takes effect outside a transaction, hence the check.
    """
    connection.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    switched = connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == on
    connection.commit()
    if not switched:
        raise QualcodeError("could not switch SQLite's foreign keys for the schema upgrade; is the database in use?")


def _stored_revision(engine: Engine) -> str | None:
    """The revision alembic recorded, or None if it recorded none (a new database, or one older than alembic).

    Asked with one statement, as every command asks it: only when that fails does it look for the table."""
    from sqlalchemy.exc import DBAPIError

    with reading(engine) as connection:
        try:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            connection.rollback()  # PostgreSQL refuses any statement in a transaction that failed
            if inspect(connection).has_table("alembic_version"):
                raise
            return None


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reads that need no transaction of their own: on PostgreSQL in autocommit, so a read is one
    round trip rather than three (BEGIN, the query, ROLLBACK). For one statement, or a few that need not see one
    moment of the database: at PostgreSQL's default isolation (read committed) a transaction would not make them
    see one either, as each statement sees the database as it is when that statement starts."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()


def _shown(url) -> str:
    """A database URL fit to print: without its password."""
    return make_url(url).render_as_string(hide_password=True)


#: Words of SQLite's and PostgreSQL's messages, and what they mean for the user.
_DATABASE_TROUBLE = (
    ("disk is full", "the disk is full; free some space and run the command again"),
    ("no space left", "the disk is full; free some space and run the command again"),
    ("readonly database", "the database is read-only; let your user write the file and its folder"),
    ("read-only", "the database is read-only; let your user write the file and its folder"),
    ("database is locked", "the database is busy: another command or program is writing to it; run this one again when it ends"),
    ("not a database", "this is not a qualcode database, or it is damaged; restore it from a backup"),
    ("malformed", "the database file is damaged; restore it from a backup"),
    ("unable to open database file", "the database file cannot be opened; check its folder exists and may be written"),
    ("connection refused", "no database server answers there; start it, or check the host and port"),
    ("could not translate host name", "no such database server; check the host name"),
    ("password authentication failed", "the server refused the user name or password"),
    ("does not exist", "the server has no such database or user; create it, or check the URL"),
    ("timeout", "the database server did not answer in time; check it is running and reachable"),
)


def trouble(error: BaseException, url: str | None) -> CouldNotRun | None:
    """What a database error the user can do something about means, as a `CouldNotRun`, else None.

    SQLAlchemy wraps the driver's exception (`sqlite3.OperationalError`,
    `psycopg.OperationalError`); the driver's message says what happened. An
    `IntegrityError` or a programming error is qualcode's fault, not the
    user's, and stays an internal error.
    """
    import sqlite3

    from sqlalchemy import exc

    if isinstance(error, exc.DBAPIError):
        if isinstance(error, exc.IntegrityError | exc.ProgrammingError) or error.orig is None:
            return None
        error = error.orig
    elif not isinstance(error, sqlite3.Error):
        return None
    if isinstance(error, sqlite3.IntegrityError | sqlite3.ProgrammingError):
        return None
    detail = (str(error).strip().splitlines() or [type(error).__name__])[0]
    where = _shown(url) if url else "the database"
    for words, meaning in _DATABASE_TROUBLE:
        if words in detail.lower():
            return CouldNotRun(f"{where}: {meaning} ({detail})")
    return CouldNotRun(f"{where}: cannot use the database ({detail})")


def insert_rows(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Insert many rows (all with the same keys, values the driver takes as they are) in one executemany
    straight to the driver: SQLAlchemy's own executemany works out each row's parameters in Python, a third
    of the time of the 25,000 turns of the bundled corpus on SQLite, a quarter on PostgreSQL."""
    if not rows:
        return
    statement = insert(table).compile(dialect=connection.dialect, column_keys=list(rows[0]))
    if statement.positional:
        order = statement.positiontup
        connection.exec_driver_sql(str(statement), [tuple(row[name] for name in order) for row in rows])
    else:
        connection.exec_driver_sql(str(statement), rows)


def written_tables(connection: Connection) -> list[str]:
    """The tables (quoted, with their schema) the connection's open transaction has written rows to, on PostgreSQL;
    none elsewhere, without asking. PostgreSQL counts each transaction's rows per table as it writes them."""
    if connection.dialect.name != "postgresql":
        return []
    return list(connection.exec_driver_sql(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(relname) FROM pg_stat_xact_user_tables"
        " WHERE n_tup_ins + n_tup_upd + n_tup_del > 0 ORDER BY 1").scalars())


def analyse(connection: Connection, tables: list[str]) -> None:
    """Renew the planner's statistics of `tables` (from `written_tables`); the caller runs it in a transaction of its
    own once the writes are committed. After a bulk write (an import) PostgreSQL would plan with none, or old ones,
    until its autovacuum comes by, up to a minute later; with them the queries after an import pick their plans at
    once. SKIP_LOCKED: a table someone is analysing already (autovacuum) is left to them rather than waited for."""
    if tables:
        connection.exec_driver_sql(f"ANALYZE (SKIP_LOCKED) {', '.join(tables)}")
