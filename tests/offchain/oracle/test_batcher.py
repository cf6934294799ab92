"""Batcher against the fake chain: count/age, confirmations, drops, replacements, reorgs,
on-chain rejections, reverts, and reconciliation after a crash (both backends)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wattnet.domain import RejectReason, SignedReceipt
from wattnet.oracle.batcher import Batcher
from wattnet.oracle.config import BatcherConfig
from wattnet.oracle.fakechain import FakeSettlementChain
from wattnet.oracle.ingest import Ingestor
from wattnet.oracle.metrics import Metrics
from wattnet.oracle.store_base import Store

from .oracle_helpers import T0, Clock, Station, rows

Make = Callable[..., dict[str, Any]]
CFG = BatcherConfig(max_batch=10, min_batch=1, max_age_s=30, confirmations=3,
                    resubmit_after_s=60, revert_backoff_s=10)


@pytest.fixture
def chain(tmp_path: Path) -> FakeSettlementChain:
    return FakeSettlementChain(tmp_path / "chain.db")


@pytest.fixture
def fill(ingestor: Ingestor, create_station: Callable[..., Station], create_receipt: Make,
         ) -> Callable[[int], list[tuple[bytes, int]]]:
    """Ingest n receipts spread over three stations, in an order that is not sorted."""

    def _fill(n: int) -> list[tuple[bytes, int]]:
        stations = [create_station(f"CP-{i}") for i in range(3)]
        keys = []
        for i in reversed(range(n)):
            st = stations[i % 3]
            body = create_receipt(st, 1000 + i, start_time=T0 - 90_000 + 100 * i,
                                  end_time=T0 - 90_000 + 100 * i + 50, energy_wh=10)
            assert ingestor.process([body])[0].status == "accepted"
            keys.append((st.info.station_id, 1000 + i))
        return keys

    return _fill


def make_batcher(store: Store, chain: Any, clock: Clock, cfg: BatcherConfig = CFG) -> Batcher:
    return Batcher(store, chain, cfg, Metrics(), clock)


def by_status(store: Store) -> dict[str, int]:
    return {str(s): int(n) for s, n in
            rows(store, "SELECT status, COUNT(*) FROM receipts GROUP BY status")}


def settled_once(chain: FakeSettlementChain, keys: list[tuple[bytes, int]]) -> bool:
    counts = chain.settle_counts()
    return all(counts.get(k) == 1 for k in keys) and len(counts) == len(keys)


def test_batcher__settles_sorted_batch_only_after_confirmations(
    store: Store, chain: FakeSettlementChain, clock: Clock, fill: Callable[[int], Any]
) -> None:
    keys = fill(7)
    b = make_batcher(store, chain, clock)
    b.step()
    assert by_status(store) == {"submitted": 7}
    chain.mine()
    b.step()
    assert by_status(store) == {"submitted": 7}  # 1 confirmation of 3
    chain.mine(2)
    b.step()
    assert by_status(store) == {"settled": 7}
    assert settled_once(chain, keys) and chain.tx_count() == 1
    assert b.metrics.counter("settled") == 7


def test_batcher__waits_for_count_or_age(
    store: Store, chain: FakeSettlementChain, clock: Clock, fill: Callable[[int], Any]
) -> None:
    fill(3)
    b = make_batcher(store, chain, clock, BatcherConfig(min_batch=5, max_batch=10, max_age_s=30))
    b.step()
    assert by_status(store) == {"pending": 3} and chain.tx_count() == 0
    clock.now += 31
    b.step()
    assert by_status(store) == {"submitted": 3}


def test_batcher__large_backlog_goes_out_in_batches_of_max_size(
    store: Store, chain: FakeSettlementChain, clock: Clock, fill: Callable[[int], Any]
) -> None:
    keys = fill(25)
    b = make_batcher(store, chain, clock)
    for _ in range(12):
        b.step()
        chain.mine(3)
    assert by_status(store) == {"settled": 25}
    assert settled_once(chain, keys) and chain.tx_count() == 3


def test_batcher__dropped_tx_is_resubmitted_and_settles_once(
    store: Store, chain: FakeSettlementChain, clock: Clock, fill: Callable[[int], Any]
) -> None:
    keys = fill(4)
    chain.drop_next()
    b = make_batcher(store, chain, clock)
    b.step()
    b.step()  # the node does not know the tx: resend at once
    chain.mine(3)
    b.step()
    assert by_status(store) == {"settled": 4}
    assert settled_once(chain, keys) and chain.tx_count() == 2
    assert chain.already_settled_attempts() == 0


def test_batcher__tx_replaced_by_another_with_our_nonce_is_resubmitted(
    store: Store, chain: FakeSettlementChain, clock: Clock, fill: Callable[[int], Any]
) -> None:
    keys = fill(4)
    b = make_batcher(store, chain, clock)
    b.step()
    chain.submit([], chain.next_nonce())  # e.g. a cancel tx sent by hand with the same nonce
    b.step()
    chain.mine(3)
    b.step()
    assert by_status(store) == {"settled": 4} and settled_once(chain, keys)


def test_batcher__stuck_tx_is_replaced_with_the_same_nonce(
    store: Store, chain: FakeSettlementChain, clock: Clock, fill: Callable[[int], Any]
) -> None:
    keys = fill(4)
    b = make_batcher(store, chain, clock)
    b.step()
    b.step()
    assert chain.tx_count() == 1  # still waiting inside resubmit_after_s
    clock.now += 61
    b.step()
    assert chain.tx_count() == 2
    chain.mine(3)
    b.step()
    assert by_status(store) == {"settled": 4} and settled_once(chain, keys)
    assert chain.already_settled_attempts() == 0


def test_batcher__reorged_tx_is_resubmitted_and_never_marked_settled_early(
    store: Store, chain: FakeSettlementChain, clock: Clock, fill: Callable[[int], Any]
) -> None:
    keys = fill(4)
    b = make_batcher(store, chain, clock)
    b.step()
    chain.mine(2)
    b.step()
    assert by_status(store) == {"submitted": 4}
    chain.reorg(2)
    assert not any(chain.is_settled(*k) for k in keys)
    b.step()  # tx gone: check isSettled, resend
    chain.mine(3)
    b.step()
    assert by_status(store) == {"settled": 4} and settled_once(chain, keys)


def test_batcher__receipt_rejected_on_chain_is_recorded_with_reason(
    store: Store, chain: FakeSettlementChain, clock: Clock, fill: Callable[[int], Any]
) -> None:
    keys = fill(4)
    station_id, session_id = keys[1]
    chain.fail_receipt(station_id, session_id, RejectReason.INSUFFICIENT_CREDITS)
    b = make_batcher(store, chain, clock)
    b.step()
    chain.mine(3)
    b.step()
    assert by_status(store) == {"settled": 3, "rejected_onchain": 1}
    sid = keys[1][1].to_bytes(8, "big")
    assert rows(store, "SELECT status, reason FROM receipts WHERE session_key = ?", (sid,)) == [
        ("rejected_onchain", "INSUFFICIENT_CREDITS")]


def test_batcher__reverted_tx_is_retried_corrected_after_the_backoff(
    store: Store, chain: FakeSettlementChain, clock: Clock, fill: Callable[[int], Any]
) -> None:
    keys = fill(3)
    chain.revert_next()
    b = make_batcher(store, chain, clock)
    b.step()
    chain.mine(3)
    b.step()
    assert by_status(store) == {"batched": 3}  # in the retry batches (test_batcher_reverts.py)
    b.step()
    assert chain.tx_count() == 1  # backing off
    clock.now += 11
    for _ in range(4):
        b.step()
        chain.mine(3)
    assert by_status(store) == {"settled": 3} and settled_once(chain, keys)
    assert chain.resent_unchanged() == 0


class CrashAfterSend:
    """A chain whose submit reaches the node, then the process 'dies' before the hash is kept."""

    def __init__(self, inner: FakeSettlementChain) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def submit(self, batch: list[SignedReceipt], nonce: int, **options: Any) -> bytes:
        self.inner.submit(batch, nonce, **options)
        raise SystemExit("killed")


class CrashBeforeSend(CrashAfterSend):
    def submit(self, batch: list[SignedReceipt], nonce: int, **options: Any) -> bytes:
        raise SystemExit("killed")


@pytest.mark.parametrize("mined_before_restart", [False, True])
def test_batcher__lost_tx_hash_is_reconciled_without_double_settlement(
    make_store: Callable[[], Store], store: Store, chain: FakeSettlementChain, clock: Clock,
    fill: Callable[[int], Any], mined_before_restart: bool,
) -> None:
    keys = fill(5)
    with pytest.raises(SystemExit):
        make_batcher(store, CrashAfterSend(chain), clock).step()
    assert by_status(store) == {"batched": 5}
    if mined_before_restart:
        chain.mine()
    restarted = make_batcher(make_store(), chain, clock)
    restarted.step()
    chain.mine(3)
    for _ in range(3):
        restarted.step()
        chain.mine()
    assert by_status(store) == {"settled": 5}
    assert settled_once(chain, keys) and chain.already_settled_attempts() == 0
    assert chain.tx_count() == (1 if mined_before_restart else 2)


def test_batcher__intent_without_send_is_sent_after_restart(
    make_store: Callable[[], Store], store: Store, chain: FakeSettlementChain, clock: Clock,
    fill: Callable[[int], Any],
) -> None:
    keys = fill(5)
    with pytest.raises(SystemExit):
        make_batcher(store, CrashBeforeSend(chain), clock).step()
    restarted = make_batcher(make_store(), chain, clock)
    restarted.step()
    chain.mine(3)
    restarted.step()
    assert by_status(store) == {"settled": 5} and settled_once(chain, keys)
    assert chain.tx_count() == 1


def test_batcher__nonce_gap_left_by_a_reorg_is_filled_not_doubled(
    make_store: Callable[[], Store], store: Store, chain: FakeSettlementChain, clock: Clock,
    fill: Callable[[int], Any],
) -> None:
    keys = fill(2)
    chain.revert_next()
    with pytest.raises(SystemExit):  # sent (nonce 0), then killed before the hash was kept
        make_batcher(store, CrashAfterSend(chain), clock).step()
    chain.mine()  # nonce 0 mined, reverted
    restarted = make_batcher(make_store(), chain, clock)
    restarted.step()  # not settled: resent with nonce 1
    chain.reorg(1)  # nonce 0 un-mined and dropped: a gap below our pending nonce 1
    clock.now += 61
    restarted.step()  # stuck: fill nonce 0 with a no-op, replace nonce 1
    for _ in range(5):
        chain.mine()
        restarted.step()
    assert by_status(store) == {"settled": 2} and settled_once(chain, keys)
    assert chain.already_settled_attempts() == 0


def test_batcher__nonce_of_a_resend_is_durable_before_it_is_sent(
    make_store: Callable[[], Store], store: Store, chain: FakeSettlementChain, clock: Clock,
    fill: Callable[[int], Any],
) -> None:
    keys = fill(2)
    chain.revert_next()
    with pytest.raises(SystemExit):  # nonce 0 sent, hash lost
        make_batcher(store, CrashAfterSend(chain), clock).step()
    chain.mine()  # nonce 0 reverted
    with pytest.raises(SystemExit):  # the resend (nonce 1) is sent, its hash lost too
        make_batcher(make_store(), CrashAfterSend(chain), clock).step()
    chain.reorg(1)  # nonce 0 un-mined: the pending nonce-1 tx now waits behind a gap
    restarted = make_batcher(make_store(), chain, clock)
    for _ in range(6):
        restarted.step()
        chain.mine()
    assert by_status(store) == {"settled": 2} and settled_once(chain, keys)
    assert chain.already_settled_attempts() == 0


class _NodeChain(FakeSettlementChain):
    """A committee node's view: never its round; another node's batch settles receipts."""

    nonce = 0
    lookups = 0

    def may_propose(self) -> bool:
        return False

    def committee_nonce(self) -> int:
        return self.nonce

    def settled_many(self, keys: list[tuple[bytes, int]]) -> list[bool]:
        self.lookups += 1
        return [self.is_settled(*k) for k in keys]

    def settle_elsewhere(self, keys: list[tuple[bytes, int]]) -> None:
        for sid, n in keys:
            self._db.execute("INSERT INTO settled VALUES (?, ?, ?, ?)", (sid, n, b"x", 1))


def test_committee_node__follows_other_nodes_settlements_when_the_nonce_moves(
    store: Store, tmp_path: Path, clock: Clock, fill: Callable[[int], Any]
) -> None:
    chain = _NodeChain(tmp_path / "chain.db")
    keys = fill(4)
    b = make_batcher(store, chain, clock)
    b.step()
    assert (chain.lookups, by_status(store)) == (1, {"pending": 4})
    chain.settle_elsewhere(keys[:2])  # only a committee batch settles, and it takes a nonce
    clock.now += 5
    b.step()
    assert chain.lookups == 1  # nonce unchanged: nothing new can be settled, nothing asked
    chain.nonce += 1
    clock.now += 5
    b.step()
    assert (chain.lookups, by_status(store)) == (2, {"confirming": 2, "pending": 2})
    chain.settle_elsewhere(keys[2:])
    clock.now += 31  # the nonce stood still, but long enough: looked at all the same
    b.step()
    assert chain.lookups == 3 and by_status(store).get("pending") is None
