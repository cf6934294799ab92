"""Issue 18 on anvil: the batcher with its web3 adapter and a real store against the contracts.

Low traffic on fresh state (lone receipts, with and without referrer) settles with the first
transaction in both gas modes; an out-of-gas revert is decoded and followed by a corrected
transaction; a paused contract's revert is decoded and waited out without sending; a receipt
held back past its settlement window is a recorded, visible loss. SQLite always; PostgreSQL
too when WATTNET_TEST_PG_DSN is set (``eval "$(tools/ci_postgres.sh)"``).
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wattnet.chain.deployments import load_abi
from wattnet.chain.eip712 import receipt_struct_hash, sign_receipt
from wattnet.cli.oracle import oracle as oracle_cli
from wattnet.domain import ZERO_ADDRESS, SignedReceipt
from wattnet.oracle import chain_web3
from wattnet.oracle.batcher import Batcher
from wattnet.oracle.chain_web3 import Web3SettlementChain, oracle_chain
from wattnet.oracle.config import BatcherConfig, OracleConfig
from wattnet.oracle.metrics import Metrics
from wattnet.oracle.reverts import error_table
from wattnet.oracle.schema import Status
from wattnet.oracle.store_base import Store, session_key
from wattnet.oracle.store_postgres import PostgresStore
from wattnet.oracle.store_sqlite import SqliteStore

CFG = BatcherConfig(min_batch=1, max_batch=10, max_age_s=0, confirmations=1,
                    resubmit_after_s=30, revert_backoff_s=5, max_revert_backoff_s=40)


@dataclass
class Clock:
    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Db:
    store: Store
    cli_args: list[str]  # how `wattnet oracle status` finds it


# PostgreSQL as in the off-chain suite: `make test-anvil` starts one; WATTNET_TEST_PG=off opts out.
BACKENDS = ["sqlite"] if os.environ.get("WATTNET_TEST_PG") == "off" else ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Db]:
    if request.param == "sqlite":
        path = tmp_path / "oracle.db"
        sqlite = SqliteStore(path)
        sqlite.migrate()
        yield Db(sqlite, ["--database", str(path)])
        sqlite.close()
        return
    dsn = os.environ.get("WATTNET_TEST_PG_DSN")
    if not dsn:
        pytest.fail('PostgreSQL: set WATTNET_TEST_PG_DSN (eval "$(tools/ci_postgres.sh)") or '
                    "WATTNET_TEST_PG=off")
    schema = f"e2e_{uuid.uuid4().hex[:12]}"
    pg = PostgresStore(dsn, schema=schema)
    pg.migrate()
    yield Db(pg, ["--database", dsn, "--pg-schema", schema])
    pg.drop_schema()
    pg.close()


@pytest.fixture(scope="module")
def fresh(accounts: Any, governor: Any) -> Callable[[], Any]:
    """An account nobody used: its storage slots are written for the first time."""

    def make() -> Any:
        acct = accounts.generate_test_account()
        governor.transfer(acct, 10 * 10**18)
        return acct

    return make


@pytest.fixture(scope="module")
def pending(domain: Any, make_receipt: Any, create_station: Any, create_driver: Any,
            credits: Any, chain: Any, fresh: Callable[[], Any]) -> Callable[..., SignedReceipt]:
    """A signed receipt of a fresh station, operator and driver (and referrer), stored pending
    as the oracle's ingest leaves it."""

    def make(store: Store, *, referrer: bool = True) -> SignedReceipt:
        station, driver = create_station(fresh()), fresh()
        create_driver(driver)
        chosen = ZERO_ADDRESS
        if referrer:
            chosen = fresh().address
            credits.setReferrer(chosen, sender=driver)
        chain.pending_timestamp += 3_600 + 120
        r = make_receipt(station, driver, referrer=chosen)
        signed = SignedReceipt(r, sign_receipt(station.key, domain, r))
        with store.transaction() as tx:
            assert tx.insert_receipt((
                r.station_id, session_key(r.session_id), r.connector_id,
                bytes.fromhex(r.driver[2:]), str(r.credit_id), r.energy_wh, r.start_time,
                r.end_time, str(r.cost), bytes.fromhex(r.referrer[2:]), signed.signature, None,
                receipt_struct_hash(r), bytes.fromhex(station.signer[2:]),
                bytes.fromhex(station.operator.address[2:]), Status.PENDING, None, None, 0, 0,
                None, None, None, None, r.readings))
        return signed

    return make


def run(b: Batcher, sc: Web3SettlementChain, clock: Clock, until: Callable[[], bool],
        rounds: int = 30, tick: float = 1.0) -> None:
    for _ in range(rounds):
        if until():
            return
        b.step()
        for h in sent(b.store):  # anvil answers the send before it mines
            sc.w3.eth.wait_for_transaction_receipt(h, timeout=10)  # type: ignore[arg-type]
        clock.now += tick
    assert until(), "the batcher did not get there"


def sent(store: Store) -> list[bytes]:
    with store.transaction() as tx:
        return [bytes(h) for (h,) in tx.query("SELECT tx_hash FROM txs ORDER BY id")]


def tx_rows(store: Store) -> list[tuple[str, str | None]]:
    with store.transaction() as tx:
        return [(str(s), c) for s, c in tx.query("SELECT status, cause FROM txs ORDER BY id")]


def status_of(store: Store, s: SignedReceipt) -> tuple[str, str | None]:
    with store.transaction() as tx:
        row = tx.one("SELECT status, reason FROM receipts WHERE station_id = ? AND "
                     "session_key = ?", (s.receipt.station_id, session_key(s.receipt.session_id)))
    assert row is not None
    return str(row[0]), row[1]


# ---------------------------------------------------------------- low traffic, fresh state
@pytest.mark.parametrize("estimate", [False, True], ids=["bound", "estimate"])
@pytest.mark.parametrize("referrer", [False, True], ids=["alone", "referrer"])
def test_low_traffic__a_lone_receipt_on_fresh_state_settles_with_the_first_tx(
        db: Db, oracle_config: OracleConfig, pending: Any, estimate: bool,
        referrer: bool) -> None:
    s = pending(db.store, referrer=referrer)
    sc = oracle_chain(replace(oracle_config, estimate_gas=estimate))
    clock = Clock()
    b = Batcher(db.store, sc, CFG, Metrics(), clock)
    run(b, sc, clock, lambda: status_of(db.store, s)[0] == Status.SETTLED)
    assert tx_rows(db.store) == [("confirmed", None)]
    assert sc.is_settled(s.receipt.station_id, s.receipt.session_id)
    assert (b.metrics.counter("txs_reverted"), b.metrics.counter("settle_refused")) == (0, 0)


# ---------------------------------------------------------------- reverts
def test_revert_reasons__the_settlement_abi_names_the_errors_the_batcher_tells_apart() -> None:
    names = {e.name for e in error_table(load_abi("EnergyCredits")).values()}
    assert {"SettlementPaused", "ReceiptBadEncoding", "AccessControlUnauthorizedAccount"} <= names


def test_out_of_gas__the_revert_is_decoded_and_followed_by_a_corrected_tx(
        db: Db, oracle_config: OracleConfig, pending: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chain_web3, "BASE_GAS", 60_000)  # a bound far below the real need
    monkeypatch.setattr(chain_web3, "GAS_PER_RECEIPT", 20_000)
    s = pending(db.store)
    sc = oracle_chain(replace(oracle_config, estimate_gas=False))
    clock = Clock()
    b = Batcher(db.store, sc, CFG, Metrics(), clock)
    run(b, sc, clock, lambda: b.metrics.counter("txs_reverted") == 1)
    [(st, cause)] = tx_rows(db.store)
    assert st == "reverted" and cause is not None and cause.startswith("out of gas (80,000 of")
    run(b, sc, clock, lambda: status_of(db.store, s)[0] == Status.SETTLED,
        tick=CFG.revert_backoff_s)
    first, second = (sc.w3.eth.get_transaction(h) for h in sent(db.store))  # type: ignore[arg-type]
    assert first["gas"] == 80_000 and second["gas"] >= 160_000  # corrected: more gas ...
    assert first["input"] == second["input"]  # ... for the same receipt
    assert sc.w3.eth.get_transaction_receipt(second["hash"])["status"] == 1
    assert [st for st, _ in tx_rows(db.store)] == ["reverted", "confirmed"]


def test_paused__the_revert_is_decoded_and_nothing_is_sent_until_unpaused(
        db: Db, oracle_config: OracleConfig, pending: Any, credits: Any, guardian: Any,
        governor: Any) -> None:
    s = pending(db.store)
    sc = oracle_chain(replace(oracle_config, estimate_gas=False))
    clock = Clock()
    b = Batcher(db.store, sc, CFG, Metrics(), clock)
    credits.pause(sender=guardian)
    try:
        run(b, sc, clock, lambda: b.metrics.counter("txs_reverted") == 1)
        [(_, cause)] = tx_rows(db.store)
        assert cause is not None and cause.startswith("SettlementPaused()")
        # The retry is re-estimated: refused while paused, nothing sent, the receipt not blamed.
        run(b, sc, clock, lambda: b.metrics.counter("settle_refused") == 2, rounds=60)
        assert len(sent(db.store)) == 1 and status_of(db.store, s)[0] == Status.BATCHED
    finally:
        credits.unpause(sender=governor)
    run(b, sc, clock, lambda: status_of(db.store, s)[0] == Status.SETTLED, rounds=60)
    assert [st for st, _ in tx_rows(db.store)] == ["reverted", "confirmed"]


# ---------------------------------------------------------------- expiry (warps 3 days: last)
def test_expiry__a_receipt_held_past_its_window_shows_in_status_and_metrics(
        db: Db, oracle_config: OracleConfig, pending: Any, credits: Any, chain: Any) -> None:
    s = pending(db.store)
    window = int(credits.timing().maxSettlementDelay)
    chain.pending_timestamp += window + 600  # the oracle was held back (down, chain unreachable)
    chain.mine()
    sc = oracle_chain(replace(oracle_config, estimate_gas=False))
    clock = Clock()
    b = Batcher(db.store, sc, CFG, Metrics(), clock)
    run(b, sc, clock, lambda: status_of(db.store, s)[0] == Status.QUARANTINED)
    reason = status_of(db.store, s)[1]
    assert reason is not None and reason.startswith("expired: ") and "STALE" in reason
    assert f"closed at {s.receipt.end_time + window}" in reason
    assert not sc.is_settled(s.receipt.station_id, s.receipt.session_id)
    assert b.metrics.counter("expired") == 1
    assert "wattnet_oracle_expired_total 1\n" in b.metrics.render()
    out = CliRunner().invoke(oracle_cli, ["status", *db.cli_args, "--json"])
    assert out.exit_code == 0, out.output
    status = json.loads(out.output)
    assert status["values"]["expired"] == 1
    assert any("expired unpaid" in w for w in status["warnings"])
