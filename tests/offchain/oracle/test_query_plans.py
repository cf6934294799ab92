"""The per-receipt lookups of ingest stay index ranges over what is near in time: a plan that
walks a connector's or a meter's whole history makes every insert slower as history grows
(the overlap check took a third of the pipeline's time when SQLite chose start_time)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from wattnet.oracle import store_postgres
from wattnet.oracle.schema import RECEIPT_COLUMNS, Status
from wattnet.oracle.store_base import InsertRow, Tx
from wattnet.oracle.store_postgres import PostgresStore
from wattnet.oracle.store_sqlite import SqliteStore
from wattnet.oracle.store_starts import unsettled_costs

from .oracle_helpers import BACKENDS, pg_dsn


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


def _insert_row(station: bytes, session: int, start: int, end: int) -> InsertRow:
    row: dict[str, Any] = dict.fromkeys(RECEIPT_COLUMNS)
    skey = session.to_bytes(8, "big")
    row.update(station_id=station, session_key=skey, connector_id=1, driver=bytes(20),
               credit_id="1", energy_wh=1_000, start_time=start, end_time=end, cost="1",
               referrer=bytes(20), signature=bytes(65), struct_hash=bytes(32), signer=bytes(20),
               operator=bytes(20), status="pending", received_at=end, updated_at=end)
    return ([row[c] for c in RECEIPT_COLUMNS], station, skey, 1, start, end)


@pytest.mark.skipif("postgres" not in BACKENDS, reason="WATTNET_TEST_PG=off: SQLite only")
def test_postgres_batch_overlap__ranges_over_sessions_ending_after_the_start() -> None:
    """The batch insert's overlap subquery on PostgreSQL: with a connector's history stored, it
    walks receipts_connector (end_time after the new start), not receipts_start (every earlier
    start: 27 of 52 ms per 1,000 receipts at 20,000 stored)."""
    store = PostgresStore(pg_dsn(), schema=f"t_{uuid.uuid4().hex[:16]}")
    try:
        store.migrate()
        stations = [bytes([s]) * 32 for s in range(1, 201)]
        sid = stations[0]
        with store.transaction() as tx:  # 200 stations, 20 sessions each
            tx.insert_receipts_and_overlaps([_insert_row(s, i, 1_000 * i, 1_000 * i + 900)
                                             for s in stations for i in range(20)])
            tx.execute("ANALYZE receipts")
        new = _insert_row(sid, 5_000, 20_000, 20_900)
        columns = [[v] for v in new[0]]
        with store.transaction():
            plan = "\n".join(r[0] for r in store._c().execute(
                "EXPLAIN " + store_postgres._INSERT_MANY_AND_OVERLAP,
                [*columns, Status.QUARANTINED]).fetchall())
        subplan = plan[plan.index("SubPlan"):]
        assert "receipts_connector" in subplan and "receipts_start" not in subplan, plan
        with store.transaction() as tx:  # and the check still finds an overlap
            assert tx.insert_receipts_and_overlaps(
                [_insert_row(sid, 6_000, 19_500, 19_950)]) == [(True, (19).to_bytes(8, "big"))]
    finally:
        store.drop_schema()
        store.close()


def test_unsettled_costs__reads_the_drivers_rows_through_receipts_driver(tmp_path: Path) -> None:
    """Every start notice sums the driver's unsettled receipts: an index range over that
    driver's rows, not a walk over every unsettled receipt (12 % of a node's CPU)."""
    store = SqliteStore(tmp_path / "oracle.db")
    store.migrate()
    [plan] = _plans(store, lambda tx: unsettled_costs(tx, b"\x05" * 20, 1))
    assert "receipts_driver" in plan and "driver=?" in plan, plan
    store.close()


@pytest.mark.skipif("postgres" not in BACKENDS, reason="WATTNET_TEST_PG=off: SQLite only")
def test_unsettled_costs__postgres_uses_receipts_driver() -> None:
    store = PostgresStore(pg_dsn(), schema=f"t_{uuid.uuid4().hex[:16]}")
    try:
        store.migrate()
        with store.transaction() as tx:
            tx.execute("SET LOCAL enable_seqscan = off")  # an empty table: ask for the index
            captured: list[tuple[str, Any]] = []
            real = Tx.query

            def capture(t: Tx, sql: str, params: Any = ()) -> Any:
                captured.append((sql, params))
                return real(t, sql, params)

            Tx.query = capture  # type: ignore[method-assign]
            try:
                unsettled_costs(tx, b"\x05" * 20, 1)
            finally:
                Tx.query = real  # type: ignore[method-assign]
            [(sql, params)] = captured
            plan = "\n".join(str(r[0]) for r in real(tx, "EXPLAIN " + sql, params))
        assert "receipts_driver" in plan, plan
    finally:
        store.drop_schema()
        store.close()
