"""Invariants of ingest + settlement under random interleavings of receipts, batcher rounds,
mining, dropped txs, shallow reorgs, reverts (without a reason, out of gas, while paused), clock
jumps and crashes around the send.

Ghost state: the set of accepted sessions. Always: no session is settled twice on chain; every
session the database calls settled is settled on chain (reorgs never reach below a block the
oracle saw confirmation-depth deep); the oracle never re-sends a settled session, nor a tx it
knew reverted with the same receipts and gas; a receipt quarantined after reverts is not
settled. At the end, with the chain moving on, every accepted session is settled exactly once,
except those quarantined after failing alone max_reverts times (random reverts can hit one lone
receipt that often). (SQLite: the machine opens one database per example; the PostgreSQL store
runs the same batcher in test_batcher.py and test_batcher_reverts.py.)
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from wattnet.chain.eip712 import address_of_private_key
from wattnet.domain import SignedReceipt, StationInfo, station_id_for
from wattnet.oracle.batcher import Batcher
from wattnet.oracle.config import BatcherConfig, OracleConfig
from wattnet.oracle.directory import CachedStationDirectory, InMemoryStationDirectory
from wattnet.oracle.fakechain import FakeSettlementChain
from wattnet.oracle.ingest import Ingestor
from wattnet.oracle.metrics import Metrics
from wattnet.oracle.store_base import Store
from wattnet.oracle.store_sqlite import SqliteStore
from wattnet.oracle.verify import Verifier

from .oracle_helpers import DOMAIN, Clock, Station, key, make_receipt, sign

CONFIRMATIONS = 3
CFG = BatcherConfig(max_batch=4, min_batch=2, max_age_s=30, confirmations=CONFIRMATIONS,
                    resubmit_after_s=60, revert_backoff_s=10)


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs; the test then 'restarts' the batcher."""


class KillAround:
    """The chain, except that one submit kills the process before or after it reaches the node."""

    def __init__(self, inner: FakeSettlementChain, after_send: bool) -> None:
        self.inner = inner
        self.after_send = after_send

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def submit(self, batch: list[SignedReceipt], nonce: int, **options: Any) -> bytes:
        if self.after_send:
            self.inner.submit(batch, nonce, **options)
        raise Killed


class SettlementMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="wattnet-sm-"))
        self.clock = Clock()
        self.chain = FakeSettlementChain(self.dir / "chain.db")
        directory = InMemoryStationDirectory()
        self.stations = []
        for i in range(2):
            k = key(f"sm-{i}")
            info = StationInfo(station_id_for(f"SM-{i}"), address_of_private_key(key("op")),
                               address_of_private_key(k), 22_000, 1, True)
            directory.put(info)
            self.stations.append(Station(info, k, f"SM-{i}"))
        self.store = self._open()
        self.ingestor = Ingestor(
            self.store, Verifier(DOMAIN.separator, CachedStationDirectory(directory)),
            OracleConfig(chain_id=DOMAIN.chain_id, settlement_contract=DOMAIN.verifying_contract),
            Metrics(), self.clock)
        self.batcher = self._batcher()
        self.accepted: set[tuple[bytes, int]] = set()
        self.next_session = 1
        # The confirmation-depth assumption: no reorg reaches below a block the oracle has
        # already seen CONFIRMATIONS deep (head - CONFIRMATIONS + 1 at any of its rounds).
        self.reorg_floor = 0

    def _open(self) -> Store:
        store = SqliteStore(self.dir / "oracle.db")
        store.migrate()
        return store

    def _batcher(self, chain: Any = None) -> Batcher:
        return Batcher(self.store, chain or self.chain, CFG, Metrics(), self.clock)

    @rule(n=st.integers(1, 4), station=st.integers(0, 1), resend=st.booleans())
    def ingest(self, n: int, station: int, resend: bool) -> None:
        s = self.stations[station]
        bodies = []
        for _ in range(n):
            sid = self.next_session
            self.next_session += 1
            start = int(self.clock.now) - 80_000 + 100 * sid
            bodies.append(sign(s, make_receipt(s, sid, start_time=start, end_time=start + 50,
                                               energy_wh=10)))
            self.accepted.add((s.info.station_id, sid))
        if resend:
            bodies += bodies
        outcomes = self.ingestor.process(bodies)
        assert {o.status for o in outcomes} <= {"accepted", "duplicate"}

    def _round(self, batcher: Batcher) -> None:
        self.reorg_floor = max(self.reorg_floor, self.chain.head_block() - CONFIRMATIONS + 1)
        batcher.step()

    @rule()
    def step(self) -> None:
        self._round(self.batcher)

    @rule(after_send=st.booleans())
    def killed_around_send_then_restarted(self, after_send: bool) -> None:
        with contextlib.suppress(Killed):
            self._round(self._batcher(KillAround(self.chain, after_send)))
        self.store.close()
        self.store = self._open()
        self.ingestor.store = self.store
        self.batcher = self._batcher()

    @rule(blocks=st.integers(1, 3))
    def mine(self, blocks: int) -> None:
        self.chain.mine(blocks)

    @rule(depth=st.integers(1, CONFIRMATIONS - 1))
    def shallow_reorg(self, depth: int) -> None:
        if self.chain.head_block() - depth >= max(self.reorg_floor, 0):
            self.chain.reorg(depth)

    @rule()
    def drop_next_tx(self) -> None:
        self.chain.drop_next()

    @rule()
    def revert_next_tx(self) -> None:
        self.chain.revert_next()

    @rule(per_receipt=st.sampled_from([0, 120_000, 180_000]))
    def gas_needed_changes(self, per_receipt: int) -> None:
        self.chain.need_gas(0, per_receipt)  # the fake's bound gives 100k + 100k a receipt

    @rule(paused=st.booleans())
    def pause_or_unpause(self, paused: bool) -> None:
        self.chain.pause(paused)

    @rule(seconds=st.sampled_from([5, 31, 61, 120]))
    def time_passes(self, seconds: int) -> None:
        self.clock.now += seconds

    @invariant()
    def never_settled_twice_nor_resent_after_settling(self) -> None:
        assert set(self.chain.settle_counts().values()) <= {1}
        assert self.chain.already_settled_attempts() == 0

    def _recorded(self) -> set[bytes]:
        with self.store.transaction() as tx:
            return {bytes(h) for (h,) in tx.query("SELECT tx_hash FROM txs")}

    @invariant()
    def a_reverted_tx_is_never_sent_again_unchanged(self) -> None:
        # Of the reverted txs the oracle knew of: a kill between send and record loses a hash,
        # and the recovery resends that batch (safe: it is not settled) not knowing it reverted.
        assert self.chain.resent_unchanged(self._recorded()) == 0

    def _given_up(self) -> set[tuple[bytes, int]]:
        with self.store.transaction() as tx:
            rows = tx.query("SELECT station_id, session_key FROM receipts WHERE status = "
                            "'quarantined' AND reason LIKE 'reverted:%'")
        return {(bytes(s), int.from_bytes(bytes(k), "big")) for s, k in rows}

    @invariant()
    def quarantined_after_reverts_is_not_settled(self) -> None:
        assert not any(self.chain.is_settled(*k) for k in self._given_up())

    @invariant()
    def settled_in_db_means_settled_on_chain(self) -> None:
        with self.store.transaction() as tx:
            rows = tx.query("SELECT station_id, session_key FROM receipts WHERE status = 'settled'")
        for station_id, skey in rows:
            assert self.chain.is_settled(bytes(station_id), int.from_bytes(bytes(skey), "big"))

    def teardown(self) -> None:
        try:
            self.chain.pause(False)
            self.chain.need_gas(0, 0)
            rounds = 0
            while (self.store.counts()["settled"] < len(self.accepted - self._given_up())
                   and rounds < 2_000):
                self.clock.now += 61
                self.batcher.step()
                self.chain.mine()
                rounds += 1
            counts = self.chain.settle_counts()
            expected = self.accepted - self._given_up()
            assert set(counts) == expected and set(counts.values()) <= {1}
            assert self.store.counts()["settled"] == len(expected)
            assert self.chain.already_settled_attempts() == 0
            assert self.chain.resent_unchanged(self._recorded()) == 0
        finally:
            self.store.close()
            self.chain.close()
            shutil.rmtree(self.dir, ignore_errors=True)


SettlementMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40,
                                               deadline=None)
test_settlement_state_machine = SettlementMachine.TestCase
