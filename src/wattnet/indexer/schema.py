"""The index's tables, beside the oracle's in the same store, versioned under their own key
(``meta.index_version``) so the oracle's migrations and the index's never interfere.

Every row written from a log is keyed by its position on chain, ``(block, log_index)`` (a
session by ``(station_id, session_id)``, which the ledger settles once): re-indexing a range
after a restart or a reorg inserts nothing twice. ``index_cursor`` holds the last indexed block
and its hash (a different hash there later means a reorg reached it).

- ``index_events``: the logs the app shows (registry, ledger, rewards, governor), decoded, their
  arguments as JSON (big integers as decimal text, bytes as 0x hex).
- ``index_batches``: each ``BatchSettled``: its block time, epoch, counts and total cost, and
  whether its transaction's calldata was decoded into sessions (``decoded``).
- ``index_sessions``: each settled session of a decoded batch: station, operator, driver,
  credit, energy, cost and its split (operator, referrer, treasury), the epoch it counts in.
- ``index_epoch_totals`` (version 2): the sessions' count, energy and split summed per epoch
  and credit id, kept with the rows (:mod:`wattnet.indexer.totals`).
"""

from __future__ import annotations

from wattnet.indexer import totals
from wattnet.oracle.store_base import Store

VERSION_KEY = "index_version"

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE index_cursor (
            name TEXT PRIMARY KEY,
            block {int} NOT NULL,
            block_hash {blob} NOT NULL,
            updated_at {int} NOT NULL
        )""",
        """CREATE TABLE index_events (
            block {int} NOT NULL,
            log_index INTEGER NOT NULL,
            tx_hash {blob} NOT NULL,
            contract TEXT NOT NULL,
            event TEXT NOT NULL,
            subject TEXT,
            args TEXT NOT NULL,
            PRIMARY KEY (block, log_index)
        )""",
        "CREATE INDEX index_events_event ON index_events (event, subject)",
        """CREATE TABLE index_batches (
            block {int} NOT NULL,
            log_index INTEGER NOT NULL,
            tx_hash {blob} NOT NULL,
            block_time {int} NOT NULL,
            epoch {int} NOT NULL,
            settled INTEGER NOT NULL,
            rejected INTEGER NOT NULL,
            total_cost TEXT NOT NULL,
            decoded INTEGER NOT NULL,
            PRIMARY KEY (block, log_index)
        )""",
        "CREATE INDEX index_batches_epoch ON index_batches (epoch)",
        """CREATE TABLE index_sessions (
            station_id {blob} NOT NULL,
            session_id {int} NOT NULL,
            block {int} NOT NULL,
            log_index INTEGER NOT NULL,
            epoch {int} NOT NULL,
            operator {blob} NOT NULL,
            driver {blob} NOT NULL,
            credit_id INTEGER NOT NULL,
            energy_wh {int} NOT NULL,
            cost TEXT NOT NULL,
            to_operator TEXT NOT NULL,
            to_referrer TEXT NOT NULL,
            to_treasury TEXT NOT NULL,
            PRIMARY KEY (station_id, session_id)
        )""",
        "CREATE INDEX index_sessions_epoch ON index_sessions (epoch)",
        "CREATE INDEX index_sessions_operator ON index_sessions (operator, epoch)",
        "CREATE INDEX index_sessions_block ON index_sessions (block)",
    ),
    (
        """CREATE TABLE index_epoch_totals (
            epoch {int} NOT NULL,
            credit_id INTEGER NOT NULL,
            sessions {int} NOT NULL,
            energy_wh {int} NOT NULL,
            cost TEXT NOT NULL,
            to_operator TEXT NOT NULL,
            to_referrer TEXT NOT NULL,
            to_treasury TEXT NOT NULL,
            PRIMARY KEY (epoch, credit_id)
        )""",
    ),
)

TABLES = ("index_events", "index_batches", "index_sessions")


def create(store: Store) -> None:
    """Create or upgrade the index's tables (idempotent; the oracle's are left as they are).
    An index from before the per-epoch totals gets them summed from its sessions."""
    found = store.apply_migrations(VERSION_KEY, MIGRATIONS, "this indexer")
    if 0 < found < 2:
        with store.transaction() as tx:
            totals.rebuild(tx)
