"""Open the configured store: SQLite for a path, PostgreSQL for a postgresql:// DSN."""

from __future__ import annotations

from wattnet.oracle.store_base import Store


def open_store(database: str, pg_schema: str | None = None) -> Store:
    """The store behind ``database``, migrated to the current schema."""
    store: Store
    if database.startswith(("postgresql://", "postgres://")):
        from wattnet.oracle.store_postgres import PostgresStore

        store = PostgresStore(database, schema=pg_schema)
    else:
        from wattnet.oracle.store_sqlite import SqliteStore

        store = SqliteStore(database)
    try:
        store.migrate()
    except BaseException:
        store.close()
        raise
    return store
