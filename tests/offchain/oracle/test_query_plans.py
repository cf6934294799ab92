"""The per-receipt lookups of ingest stay index ranges over what is near in time: a plan that
walks a connector's or a meter's whole history makes every insert slower as history grows
(the overlap check took a third of the pipeline's time when SQLite chose start_time)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wattnet.oracle.store_base import Tx
from wattnet.oracle.store_sqlite import SqliteStore


def _plans(store: SqliteStore, call: Any) -> list[str]:
    captured: list[tuple[str, Any]] = []
    real = Tx.query

    def capture(tx: Tx, sql: str, params: Any = ()) -> Any:
        captured.append((sql, params))
        return real(tx, sql, params)

    Tx.query = capture  # type: ignore[method-assign]
    try:
        with store.transaction() as tx:
            call(tx)
            return [" ".join(str(r[-1]) for r in real(tx, "EXPLAIN QUERY PLAN " + sql, params))
                    for sql, params in captured]
    finally:
        Tx.query = real  # type: ignore[method-assign]


def test_overlap_and_meter_lookups__range_over_recent_sessions(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "oracle.db")
    store.migrate()
    sid, skey = b"\x01" * 32, b"\x00" * 8
    [overlap] = _plans(store, lambda tx: tx.overlapping(sid, skey, 1, 100, 200))
    assert "receipts_connector" in overlap and "end_time>?" in overlap
    [after] = _plans(store, lambda tx: tx.meter_after(sid, skey, "M1", 200))
    assert "receipts_meter" in after and "end_time>?" in after
    [before] = _plans(store, lambda tx: tx.meter_before(sid, skey, "M1", 100))
    assert "receipts_meter" in before and "end_time<?" in before and "TEMP" not in before
    store.close()
