"""Following the chain into the index: from the cursor (the last indexed block) up to the head
minus ``confirmations``, in block ranges of at most ``max_range`` (halved when the node refuses a
range as too large), one ``eth_getLogs`` per range for every followed contract. A range is
written in one store transaction together with the cursor, so a crash leaves either all of it or
none; rows are keyed by their chain position, so re-indexing a range never counts twice.

Reorgs: the cursor keeps its block's hash. When the chain's hash at that height differs later
(a reorg deeper than ``confirmations`` reached indexed blocks), the index drops everything above
``cursor - rewind`` and indexes it again. A reorg deeper than ``rewind`` blocks is not repaired
(the dropped range would have to reach the fork point): pick ``confirmations`` so that it cannot
happen (finality: on Ethereum, 64 blocks).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import BlockNotFound, Web3Exception

from wattnet.chain.web3_client import ChainClient
from wattnet.errors import ChainError, WattNetError
from wattnet.indexer import schema, totals
from wattnet.indexer.logs import Decoded, LogDecoder
from wattnet.indexer.settled import Shares, epoch_at, matches, receipts_of_call, split
from wattnet.oracle.store_base import Store, Tx

log = logging.getLogger(__name__)

CURSOR = "chain"
MAX_RANGE = 2_000  # blocks per eth_getLogs (public nodes cap ranges or results)
REWIND = 64  # blocks dropped and indexed again when a reorg reached the cursor


@dataclass(frozen=True, slots=True)
class BatchInput:
    """What a BatchSettled needs from the node, fetched before the store transaction."""

    block_time: int
    to: str | None
    data: bytes


class Indexer:
    def __init__(self, client: ChainClient, store: Store, confirmations: int = 0,
                 max_range: int = MAX_RANGE, clock: Callable[[], float] = time.time) -> None:
        if confirmations < 0 or max_range < 1:
            raise ValueError("confirmations must be >= 0 and max_range >= 1")
        self.client = client
        self.store = store
        self.confirmations = confirmations
        self.max_range = max_range
        self._clock = clock
        self._lock = threading.Lock()
        self._decoder = LogDecoder(client)
        self._genesis: int | None = None
        schema.create(store)

    # ---- the cursor ----
    def cursor(self) -> int:
        """The last indexed block (the deployment's block minus one before the first run)."""
        with self.store.transaction() as tx:
            row = tx.one("SELECT block FROM index_cursor WHERE name = ?", (CURSOR,))
        return int(row[0]) if row else self.client.deployment.block - 1

    def step(self) -> int:
        """Index every confirmed block past the cursor; returns the new cursor. Thread-safe:
        the background follower and a request wanting fresh data share one run."""
        with self._lock:
            try:
                return self._catch_up()
            except (Web3Exception, OSError) as exc:
                raise ChainError(f"indexing from {self.client.rpc_url} failed: {exc}") from exc

    def _catch_up(self) -> int:
        self._check_reorg()
        target = int(self.client.w3.eth.block_number) - self.confirmations
        at = self.cursor()
        span = self.max_range
        while at < target:
            hi = min(target, at + span)
            try:
                raw = self._logs(at + 1, hi)
            except ValueError as exc:  # the node refused the range (too many results)
                if span == 1:
                    raise ChainError(f"the node refused the logs of block {hi}: {exc}") from exc
                span = max(1, span // 2)
                continue
            self._write(hi, raw)
            at = hi
        return at

    def _check_reorg(self) -> None:
        with self.store.transaction() as tx:
            row = tx.one("SELECT block, block_hash FROM index_cursor WHERE name = ?", (CURSOR,))
        if row is None:
            return
        block, known = int(row[0]), bytes(row[1])
        try:
            seen: bytes | None = bytes(self.client.w3.eth.get_block(block)["hash"])
        except BlockNotFound:  # the chain is shorter now (a reorg, or a node started afresh)
            seen = None
        if seen == known:
            return
        head = int(self.client.w3.eth.block_number)
        back = max(self.client.deployment.block - 1, min(block - REWIND, head))
        log.warning("block %d changed (a reorg): indexing again from block %d", block, back + 1)
        back_hash = None if back < self.client.deployment.block \
            else bytes(self.client.w3.eth.get_block(back)["hash"])
        with self.store.transaction() as tx:
            for table in schema.TABLES:
                tx.execute(f"DELETE FROM {table} WHERE block > ?", (back,))
            tx.execute("DELETE FROM index_cursor WHERE name = ?", (CURSOR,))
            totals.rebuild(tx)
            if back_hash is not None:
                self._set_cursor(tx, back, back_hash)

    def _set_cursor(self, tx: Tx, block: int, block_hash: bytes) -> None:
        tx.execute("DELETE FROM index_cursor WHERE name = ?", (CURSOR,))
        tx.execute("INSERT INTO index_cursor (name, block, block_hash, updated_at) "
                   "VALUES (?, ?, ?, ?)", (CURSOR, block, block_hash, int(self._clock())))

    # ---- one range ----
    def _logs(self, lo: int, hi: int) -> list[Decoded]:
        raw = self.client.w3.eth.get_logs({
            "fromBlock": lo, "toBlock": hi, "address": self._decoder.addresses,  # type: ignore[typeddict-item]
            "topics": [self._decoder.topics]})
        found = (self._decoder.decode(item) for item in raw)
        return sorted((d for d in found if d is not None), key=lambda d: (d.block, d.log_index))

    def _write(self, hi: int, logs: list[Decoded]) -> None:
        inputs = {(d.block, d.log_index): self._batch_input(d) for d in logs
                  if d.event == "BatchSettled"}
        hi_hash = bytes(self.client.w3.eth.get_block(hi)["hash"])
        with self.store.transaction() as tx:
            rejected: dict[bytes, list[tuple[bytes, int]]] = {}
            for d in logs:
                tx.execute("INSERT INTO index_events (block, log_index, tx_hash, contract, event, "
                           "subject, args) VALUES (?, ?, ?, ?, ?, ?, ?) "
                           "ON CONFLICT (block, log_index) DO NOTHING",
                           (d.block, d.log_index, d.tx_hash, d.contract, d.event, d.subject,
                            d.args_json()))
                if d.event == "ReceiptRejected":
                    rejected.setdefault(d.tx_hash, []).append(
                        (bytes.fromhex(d.args["stationId"][2:]), int(d.args["sessionId"])))
                elif d.event == "BatchSettled":
                    self._batch(tx, d, inputs[(d.block, d.log_index)],
                                rejected.pop(d.tx_hash, []))
            self._set_cursor(tx, hi, hi_hash)

    def _batch_input(self, d: Decoded) -> BatchInput:
        block = self.client.w3.eth.get_block(d.block)
        txn = self.client.w3.eth.get_transaction(HexBytes(d.tx_hash))
        to = txn.get("to")
        return BatchInput(int(block["timestamp"]), None if to is None else str(to),
                          bytes(txn["input"]))

    def genesis(self) -> int:
        if self._genesis is None:
            self._genesis = int(self.client.contract("RewardsEngine").functions.genesis().call())
        return self._genesis

    def _batch(self, tx: Tx, d: Decoded, got: BatchInput,
               rejected: list[tuple[bytes, int]]) -> None:
        if tx.one("SELECT 1 FROM index_batches WHERE block = ? AND log_index = ?",
                  (d.block, d.log_index)) is not None:
            return  # indexed before (a restart below the cursor): its sessions are counted
        epoch = epoch_at(got.block_time, self.genesis())
        sessions = None
        decode = self._decode_for(got.to)
        receipts = receipts_of_call(decode, got.data) if decode is not None else None
        if receipts is not None:
            where = (d.block, d.log_index)
            sessions = split(receipts, rejected, _shares(tx, where),
                             lambda sid: _operator(tx, sid, where),
                             lambda driver: _referrer(tx, driver, where))
        settled, cost = int(d.args["settled"]), int(d.args["totalCost"])
        if sessions is not None and not matches(sessions, settled, cost):
            sessions = None
        if sessions is None:
            log.warning("batch in tx 0x%s: its sessions could not be read from the call "
                        "(kept with its totals only)", d.tx_hash.hex())
        tx.execute("INSERT INTO index_batches (block, log_index, tx_hash, block_time, epoch, "
                   "settled, rejected, total_cost, decoded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (d.block, d.log_index, d.tx_hash, got.block_time, epoch, settled,
                    int(d.args["rejected"]), str(cost), int(sessions is not None)))
        for s in sessions or ():
            tx.execute(
                "INSERT INTO index_sessions (station_id, session_id, block, log_index, epoch, "
                "operator, driver, credit_id, energy_wh, cost, to_operator, to_referrer, "
                "to_treasury) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (station_id, session_id) DO NOTHING",
                (s.station_id, s.session_id, d.block, d.log_index, epoch,
                 bytes.fromhex(s.operator[2:]), bytes.fromhex(s.driver[2:]), s.credit_id,
                 s.energy_wh, str(s.cost), str(s.to_operator), str(s.to_referrer),
                 str(s.to_treasury)))
        totals.add(tx, epoch, sessions or ())

    def _decode_for(self, to: str | None) -> Callable[[bytes], tuple[str, dict[str, Any]]] | None:
        name = "EnergyCredits"  # every settlement path is the ledger's (settleSigned too)
        if to is not None and name in self.client.deployment.contracts and \
                Web3.to_checksum_address(to) == self.client.contract(name).address:
            contract = self.client.contract(name)

            def decode(data: bytes, c: Any = contract) -> tuple[str, dict[str, Any]]:
                fn, args = c.decode_function_input(data)
                return str(fn.fn_name), dict(args)
            return decode
        return None


_BEFORE = "AND (block < ? OR (block = ? AND log_index < ?)) ORDER BY block DESC, log_index DESC"


def _latest(tx: Tx, event: str, subject: str | None, where: tuple[int, int]) -> Any:
    sql = "SELECT args FROM index_events WHERE event = ? "
    params: list[Any] = [event]
    if subject is not None:
        sql += "AND subject = ? "
        params.append(subject)
    row = tx.one(sql + _BEFORE + " LIMIT 1", (*params, where[0], where[0], where[1]))
    return None if row is None else json.loads(row[0])


def _shares(tx: Tx, where: tuple[int, int]) -> Shares:
    got = _latest(tx, "SharesChanged", None, where)
    if got is None:
        raise ChainError("no SharesChanged before a settled batch: the index must start at the "
                         "deployment's block (is the deployment record's block right?)")
    return Shares(int(got["operatorBps"]), int(got["referrerBps"]))


def _operator(tx: Tx, station_id: bytes, where: tuple[int, int]) -> str | None:
    got = _latest(tx, "StationRegistered", "0x" + station_id.hex(), where)
    return None if got is None else str(got["operator"])


def _referrer(tx: Tx, driver: str, where: tuple[int, int]) -> str:
    got = _latest(tx, "ReferrerSet", Web3.to_checksum_address(driver), where)
    return "0x" + "00" * 20 if got is None else str(got["referrer"])


async def follow(indexer: Indexer, interval_s: float = 2.0) -> None:
    """Index new blocks until cancelled (``wattnet app``'s background task); a failed round is
    logged and tried again at the next interval."""
    loop = asyncio.get_running_loop()
    while True:
        try:
            await loop.run_in_executor(None, indexer.step)
        except WattNetError as exc:  # the node or the store: both may come back
            log.warning("indexing failed (trying again in %.0f s): %s", interval_s, exc)
        await asyncio.sleep(interval_s)
