"""Issue 18 against the fake chain, on both backends: a reverted settlement is never sent again
as it was (more gas, halves, or waiting out a pause, after a growing backoff), a receipt that
keeps failing alone is quarantined with its cause, receipts near their window go first, and one
that expires anyway is a recorded loss (quarantine reason, /metrics, ``oracle status``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from wattnet.oracle.batcher import Batcher
from wattnet.oracle.config import BatcherConfig
from wattnet.oracle.fakechain import BASE_GAS, GAS_PER_RECEIPT, FakeSettlementChain
from wattnet.oracle.ingest import Ingestor
from wattnet.oracle.losses import losses
from wattnet.oracle.store_base import Store, session_key

from .oracle_helpers import T0, Clock, Station, rows
from .test_batcher import CFG, by_status, make_batcher, settled_once

Make = Callable[..., dict[str, Any]]
Key = tuple[bytes, int]


@pytest.fixture
def chain(tmp_path: Path) -> FakeSettlementChain:
    return FakeSettlementChain(tmp_path / "chain.db")


@pytest.fixture
def receipts(ingestor: Ingestor, create_station: Callable[..., Station], create_receipt: Make,
             ) -> Callable[..., list[Key]]:
    """Ingest receipts ending at the given times (a station each, session ids from 1)."""
    made = iter(range(1, 10**6))

    def _make(*ends: int) -> list[Key]:
        keys = []
        for end in ends:
            n = next(made)
            st = create_station(f"CP-R{n}")
            body = create_receipt(st, n, start_time=end - 50, end_time=end, energy_wh=10)
            assert ingestor.process([body])[0].status == "accepted"
            keys.append((st.info.station_id, n))
        return keys

    return _make


def run(b: Batcher, chain: FakeSettlementChain, clock: Clock, rounds: int = 40,
        tick: float = 11) -> None:
    """Batcher rounds with blocks mined and time passing (beyond CFG's first backoff)."""
    for _ in range(rounds):
        b.step()
        chain.mine(3)
        clock.now += tick


def strikes(store: Store, key: Key) -> int:
    found = rows(store, "SELECT reverts FROM receipts WHERE station_id = ? AND session_key = ?",
                 (key[0], session_key(key[1])))
    return int(found[0][0])


# ---------------------------------------------------------------- out of gas
@pytest.mark.parametrize("n", [1, 3])
def test_revert__out_of_gas_is_followed_by_more_gas_never_the_same_tx(
    store: Store, chain: FakeSettlementChain, clock: Clock, receipts: Callable[..., list[Key]],
    n: int,
) -> None:
    keys = receipts(*[T0 - 600 + i for i in range(n)])
    bound = BASE_GAS + GAS_PER_RECEIPT * n
    chain.need_gas(bound + 50_000, 0)  # the no-estimate bound falls short
    b = make_batcher(store, chain, clock)
    b.step()
    chain.mine(3)
    b.step()  # reverted: decoded as out of gas
    assert b.metrics.counter("txs_reverted") == 1 and by_status(store) == {"batched": n}
    b.step()
    assert chain.tx_count() == 1  # backing off
    clock.now += CFG.revert_backoff_s
    run(b, chain, clock, rounds=3)
    sent = chain.sent_txs()
    assert [(g, st) for g, _, st in sent] == [(bound, "reverted"), (2 * bound, "mined")]
    assert sent[0][1] == sent[1][1] == sorted(keys)  # the same receipts, twice the gas
    assert chain.resent_unchanged() == 0
    assert by_status(store) == {"settled": n} and settled_once(chain, keys)
    assert all(strikes(store, k) == (1 if n == 1 else 0) for k in keys)


def test_revert__out_of_gas_beyond_max_tx_gas_halves_the_batch(
    store: Store, chain: FakeSettlementChain, clock: Clock, receipts: Callable[..., list[Key]],
) -> None:
    keys = receipts(*[T0 - 600 + i for i in range(4)])
    chain.need_gas(0, 140_000)  # 4 need 560,000 > 500,000; twice that > max_tx_gas
    b = make_batcher(store, chain, clock, replace(CFG, max_tx_gas=700_000))
    run(b, chain, clock, rounds=8)
    sizes = [(len(k), st) for _, k, st in chain.sent_txs()]
    assert sizes == [(4, "reverted"), (2, "mined"), (2, "mined")]
    assert by_status(store) == {"settled": 4} and settled_once(chain, keys)


# ---------------------------------------------------------------- a receipt that fails
def test_revert__a_failing_receipt_is_isolated_by_halving_then_quarantined_with_its_cause(
    store: Store, chain: FakeSettlementChain, clock: Clock, receipts: Callable[..., list[Key]],
) -> None:
    keys = receipts(*[T0 - 600 + i for i in range(5)])
    bad = sorted(keys)[3]
    chain.poison(*bad, "ReceiptBadEncoding(offset=512)")
    b = make_batcher(store, chain, clock)
    run(b, chain, clock)
    assert by_status(store) == {"settled": 4, "quarantined": 1}
    assert settled_once(chain, [k for k in keys if k != bad])
    (reason,) = rows(store, "SELECT reason FROM receipts WHERE status = 'quarantined'")[0]
    assert reason.startswith("reverted: ") and "ReceiptBadEncoding(offset=512)" in reason
    assert f"alone {CFG.max_reverts} times" in reason and strikes(store, bad) == CFG.max_reverts
    # One tx reverted on chain; every retry holding the bad receipt was re-estimated and refused
    # before sending: the half of 2 with it, then the receipt alone max_reverts times.
    assert [(len(k), st) for _, k, st in chain.sent_txs()] == [
        (5, "reverted"), (3, "mined"), (1, "mined")]
    assert chain.resent_unchanged() == 0
    assert b.metrics.counter("revert_quarantined") == 1
    assert b.metrics.counter("settle_refused") == 1 + CFG.max_reverts
    assert losses(store) == {"expired": 0, "reverted": 1, "held": 0}
    sent = chain.tx_count()
    run(b, chain, clock, rounds=10)
    assert chain.tx_count() == sent  # nothing more is tried for it


def test_revert__while_paused_waits_with_growing_backoff_and_blames_no_receipt(
    store: Store, chain: FakeSettlementChain, clock: Clock, receipts: Callable[..., list[Key]],
) -> None:
    keys = receipts(T0 - 600, T0 - 500)
    chain.pause()
    cfg = replace(CFG, revert_backoff_s=10, max_revert_backoff_s=80)
    b = make_batcher(store, chain, clock, cfg)
    waits = []
    for _ in range(400):  # 400 s
        before = b._not_before
        b.step()
        chain.mine()
        if b._not_before != before:
            waits.append(round(b._not_before - clock.now))
        clock.now += 1
    assert waits[:6] == [10, 20, 40, 80, 80, 80]
    assert b.metrics.counter("txs_reverted") == 1  # then only refused estimates: nothing sent
    assert b.metrics.counter("settle_refused") == len(waits) - 1
    assert chain.tx_count() == 1 and by_status(store) == {"batched": 2}
    chain.pause(False)
    run(b, chain, clock, rounds=12)
    assert by_status(store) == {"settled": 2} and settled_once(chain, keys)
    assert [strikes(store, k) for k in keys] == [0, 0] and losses(store)["reverted"] == 0


def test_revert__unknown_revert_of_a_batch_halves_it_and_both_halves_settle(
    store: Store, chain: FakeSettlementChain, clock: Clock, receipts: Callable[..., list[Key]],
) -> None:
    keys = receipts(T0 - 600, T0 - 500, T0 - 400)
    chain.revert_next()
    b = make_batcher(store, chain, clock)
    run(b, chain, clock, rounds=6)
    assert [(len(k), st) for _, k, st in chain.sent_txs()] == [
        (3, "reverted"), (2, "mined"), (1, "mined")]
    assert by_status(store) == {"settled": 3} and settled_once(chain, keys)


def test_revert__retry_batches_survive_a_restart(
    make_store: Callable[[], Store], store: Store, chain: FakeSettlementChain, clock: Clock,
    receipts: Callable[..., list[Key]],
) -> None:
    keys = receipts(T0 - 600, T0 - 500)
    chain.need_gas(0, 160_000)
    b = make_batcher(store, chain, clock)
    b.step()
    chain.mine(3)
    b.step()  # reverted; the corrected batch is durable before anything else happens
    restarted = make_batcher(make_store(), chain, clock)
    run(restarted, chain, clock, rounds=3)
    bound = BASE_GAS + 2 * GAS_PER_RECEIPT
    assert [(g, st) for g, _, st in chain.sent_txs()] == [(bound, "reverted"),
                                                          (2 * bound, "mined")]
    assert by_status(store) == {"settled": 2} and settled_once(chain, keys)
    assert chain.resent_unchanged() == 0


# ---------------------------------------------------------------- deadlines
WINDOW = 3_600


def test_urgency__receipts_near_the_end_of_their_window_go_first(
    store: Store, chain: FakeSettlementChain, clock: Clock, receipts: Callable[..., list[Key]],
) -> None:
    chain.set_clock(T0, window=WINDOW)
    fresh = receipts(T0 - 300, T0 - 200, T0 - 100)
    late = receipts(T0 - WINDOW + 600)  # arrived last, 10 minutes left
    b = make_batcher(store, chain, clock, replace(CFG, max_batch=2))
    b.step()
    first = chain.sent_txs()[0][1]
    assert late[0] in first and fresh[0] in first
    run(b, chain, clock, rounds=6)
    assert by_status(store) == {"settled": 4}


def test_expiry__a_receipt_held_back_past_its_window_is_a_visible_loss(
    store: Store, chain: FakeSettlementChain, clock: Clock, receipts: Callable[..., list[Key]],
) -> None:
    chain.set_clock(T0, window=WINDOW)
    [old] = receipts(T0 - WINDOW + 60)
    [ok] = receipts(T0 - 60)
    b = make_batcher(store, chain, clock)
    chain.set_clock(T0 + 120)  # the oracle was held back (down, or the chain unreachable)
    clock.now += 120
    run(b, chain, clock, rounds=3)
    assert by_status(store) == {"settled": 1, "quarantined": 1} and settled_once(chain, [ok])
    (reason,) = rows(store, "SELECT reason FROM receipts WHERE session_key = ?",
                     (session_key(old[1]),))[0]
    assert reason.startswith("expired: ") and "STALE" in reason
    assert f"closed at {T0 + 60}" in reason
    assert b.metrics.counter("expired") == 1
    assert "wattnet_oracle_expired_total 1\n" in b.metrics.render()
    assert losses(store) == {"expired": 1, "reverted": 0, "held": 0}


def test_batcher__config_refuses_backoffs_out_of_order() -> None:
    from wattnet.oracle.errors import OracleConfigError

    with pytest.raises(OracleConfigError, match="revert_backoff_s"):
        BatcherConfig(revert_backoff_s=700, max_revert_backoff_s=600)
    with pytest.raises(OracleConfigError, match="max_reverts"):
        BatcherConfig(max_reverts=0)


def test_schema__a_database_from_before_gains_the_revert_columns_and_settles_on(
    make_store: Callable[[], Store], chain: FakeSettlementChain, clock: Clock,
    ingestor_for: Callable[..., Ingestor], create_station: Callable[..., Station],
    create_receipt: Make, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from wattnet.oracle import store_base
    from wattnet.oracle.schema import SCHEMA_VERSION

    monkeypatch.setattr(store_base, "SCHEMA_VERSION", 2)  # the oracle before issue 18
    old = make_store()
    st = create_station("CP-OLD")
    body = create_receipt(st, 1, start_time=T0 - 650, end_time=T0 - 600, energy_wh=10)
    assert ingestor_for(old).process([body])[0].status == "accepted"
    with pytest.raises(Exception, match="reverts"):  # no such column yet
        rows(old, "SELECT reverts FROM receipts")
    monkeypatch.undo()
    assert old.migrate() == 2
    assert rows(old, "SELECT value FROM meta WHERE key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)]
    assert rows(old, "SELECT reverts FROM receipts") == [(0,)]
    chain.need_gas(0, GAS_PER_RECEIPT + BASE_GAS + 1)  # one revert, then more gas
    run(make_batcher(old, chain, clock), chain, clock, rounds=4)
    assert by_status(old) == {"settled": 1}
    assert rows(old, "SELECT retry_of IS NOT NULL, min_gas FROM batches ORDER BY id") == [
        (False, 0), (True, 2 * (BASE_GAS + GAS_PER_RECEIPT))]
    assert [c.split(" (")[0] for (c,) in rows(old, "SELECT cause FROM txs ORDER BY id")
            if c] == ["out of gas"]
