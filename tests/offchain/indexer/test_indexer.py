"""The event indexer on a real anvil: the app's devnet (the governed deploy, two stations) with
sessions settled through the real ledger in two epochs (``wattnet.api.devnet_sessions``), indexed
into SQLite and PostgreSQL (WATTNET_TEST_PG=off: SQLite only, as the oracle's store tests do).
Every figure is reconciled with the contracts' own state."""

from __future__ import annotations

from typing import Any

import pytest

from wattnet.api.devnet import OPERATOR, STATIONS, Network
from wattnet.api.devnet_sessions import Settled
from wattnet.domain import station_id_for
from wattnet.indexer import reads, schema
from wattnet.indexer.follow import Indexer
from wattnet.oracle.store_base import Store

from .index_helpers import assert_figures_equal_the_ledger, assert_totals_are_the_sums, settle_one
from .index_helpers import client_of as _client

pytestmark = pytest.mark.slow


def _counts(store: Store) -> tuple[int, ...]:
    with store.transaction() as tx:
        return tuple(int(tx.one(f"SELECT COUNT(*) FROM {t}")[0])  # type: ignore[index]
                     for t in ("index_events", "index_batches", "index_sessions"))


def test_index__settled_figures_equal_the_ledgers_state(chain: tuple[Network, Settled],
                                                          store: Store) -> None:
    net, settled = chain
    client = _client(net)
    Indexer(client, store).step()
    assert_figures_equal_the_ledger(client, store, settled, per_epoch=2)


def test_index__stations_and_proposals_come_from_the_logs(chain: tuple[Network, Settled],
                                                         store: Store) -> None:
    net, _ = chain
    Indexer(_client(net), store).step()
    uris = reads.station_uris(store)
    assert list(uris) == [station_id_for(cp) for cp, *_ in STATIONS]
    assert uris[station_id_for("WEB-CP-1")] == "ipfs://wattnet-web/WEB-CP-1"
    assert reads.proposals_created(store) == []  # the devnet made none


def test_index__rerun_from_an_older_cursor_never_counts_twice(chain: tuple[Network, Settled],
                                                              store: Store) -> None:
    net, _ = chain
    first = Indexer(_client(net), store)
    head = first.step()
    before, figures = _counts(store), reads.epochs(store)
    again = Indexer(_client(net), store, max_range=5)  # a restart, small ranges
    assert again.cursor() == head and again.step() == head
    with store.transaction() as tx:  # as if the cursor had been lost: all blocks again
        tx.execute("DELETE FROM index_cursor")
    assert again.step() == head
    assert _counts(store) == before and reads.epochs(store) == figures
    assert_totals_are_the_sums(store)


def test_index__small_ranges_and_confirmations(chain: tuple[Network, Settled],
                                               store: Store) -> None:
    net, _ = chain
    client = _client(net)
    head = int(client.w3.eth.block_number)
    assert Indexer(client, store, confirmations=3, max_range=4).step() == head - 3
    assert Indexer(client, store, max_range=4).step() == head
    assert [e["sessions"] for e in reads.epochs(store)] == [4, 4]


def test_index__a_reorg_below_the_cursor_is_dropped_and_indexed_again(
        chain: tuple[Network, Settled], store: Store) -> None:
    net, _ = chain
    client = _client(net)
    rpc: Any = client.w3.provider
    snap = rpc.make_request("evm_snapshot", [])["result"]
    someone = "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955"  # dev account 7
    rpc.make_request("anvil_impersonateAccount", [OPERATOR])
    tx = client.credits.functions.setReferrer(someone).build_transaction(
        {"from": OPERATOR, "gas": 100_000})
    client.w3.eth.wait_for_transaction_receipt(client.w3.eth.send_transaction(tx))
    indexer = Indexer(client, store)
    indexer.step()
    assert _referrers(store) == [someone]
    rpc.make_request("evm_revert", [snap])  # the block with it is gone; others take its height
    for _ in range(3):
        rpc.make_request("evm_mine", [])
    indexer.step()
    assert _referrers(store) == []


def _referrers(store: Store) -> list[str]:
    import json

    with store.transaction() as tx:
        rows = tx.query("SELECT args FROM index_events WHERE event = 'ReferrerSet' "
                        "AND subject = ?", (OPERATOR,))
    return [json.loads(r[0])["referrer"] for r in rows]


def test_index__per_epoch_totals_follow_new_batches_and_reorgs(chain: tuple[Network, Settled],
                                                               store: Store) -> None:
    net, _ = chain
    client = _client(net)
    rpc: Any = client.w3.provider
    indexer = Indexer(client, store, max_range=7)
    indexer.step()
    before = reads.epochs(store)
    snap = rpc.make_request("evm_snapshot", [])["result"]
    try:
        r = settle_one(net, 20_000)
        indexer.step()
        assert_totals_are_the_sums(store)
        now = reads.epochs(store)[-1]
        assert now["sessions"] == before[-1]["sessions"] + 1
        assert int(now["fees"]["1"]["cost"]) == int(before[-1]["fees"]["1"]["cost"]) + r.cost
        assert now["energy_wh"] == before[-1]["energy_wh"] + r.energy_wh
    finally:
        rpc.make_request("evm_revert", [snap])  # the batch is gone
    for _ in range(3):
        rpc.make_request("evm_mine", [])
    indexer.step()
    assert_totals_are_the_sums(store)
    assert reads.epochs(store) == before


def test_index__an_index_from_before_the_totals_gets_them_on_upgrade(
        chain: tuple[Network, Settled], store: Store) -> None:
    net, _ = chain
    Indexer(_client(net), store).step()
    figures = reads.epochs(store)
    with store.transaction() as tx:  # as schema version 1 left it: no totals
        tx.execute("DROP TABLE index_epoch_totals")
        tx.execute("UPDATE meta SET value = '1' WHERE key = 'index_version'")
    schema.create(store)
    assert_totals_are_the_sums(store)
    assert reads.epochs(store) == figures
