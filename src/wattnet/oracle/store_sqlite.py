"""SQLite backend (default): WAL journal, synchronous=FULL, so a commit survives power loss."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wattnet.oracle.errors import StorageUnavailable
from wattnet.oracle.schema import SQLITE
from wattnet.oracle.store_base import Row, Store

log = logging.getLogger(__name__)


class SqliteStore(Store):
    dialect = SQLITE

    def __init__(self, path: str | Path, busy_timeout_s: float = 5.0) -> None:
        super().__init__()
        self.path = Path(path)
        try:
            if self.path.parent and not self.path.parent.exists():
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageUnavailable(
                    f"SQLite database {self.path} refused WAL mode ({mode}); use a local disk"
                )
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
        except (sqlite3.Error, OSError) as exc:
            raise self._storage_error(exc) or StorageUnavailable(str(exc)) from exc

    @property
    def description(self) -> str:
        return f"SQLite database {self.path}"

    def _begin(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def _commit(self) -> None:
        self._conn.execute("COMMIT")

    def _rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def _execute(self, sql: str, params: Sequence[Any]) -> int:
        return self._conn.execute(sql, params).rowcount

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, rows)

    def _query(self, sql: str, params: Sequence[Any]) -> list[Row]:
        return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        self._conn.close()

    def _storage_error(self, exc: Exception) -> StorageUnavailable | None:
        if isinstance(exc, StorageUnavailable):
            return exc
        if isinstance(exc, OSError):
            return StorageUnavailable(f"cannot open {self.description}: {exc}")
        if not isinstance(exc, sqlite3.Error):
            return None
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            what = "is locked by another process"
            hint = "stop the other writer (only one oracle per database) and retry"
        elif "full" in text:
            what = "is full (disk or size limit)"
            hint = "free disk space; the oracle answers 503 until it can write"
        elif "not a database" in text or "malformed" in text or "corrupt" in text:
            what = "is corrupt"
            hint = "restore it from a backup; the oracle will not run on a damaged file"
        elif "readonly" in text or "unable to open" in text:
            what = "cannot be written"
            hint = "check the path and its permissions"
        else:
            what, hint = "failed", "see the log for details"
        return StorageUnavailable(
            f"{self.description} {what} ({exc}); nothing was acknowledged: {hint}"
        )
