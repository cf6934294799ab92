"""The index on the path the live network settles by: every batch relayed to the ledger's
``settleSigned`` (three staked nodes, all signing), its figures equal to the
contracts' state exactly as for ``settlePacked``; and a batch sent through a contract the index
does not know (a forwarder standing for a Safe): its totals are kept, its sessions are not
itemized, and the figures say so."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from wattnet.api.devnet import Network
from wattnet.api.devnet_sessions import Settled
from wattnet.indexer import reads
from wattnet.indexer.follow import Indexer
from wattnet.oracle.store_base import Store
from wattnet.sim.network.actions import ensure_oracle_role
from wattnet.sim.network.chainview import ChainView
from wattnet.sim.network.node import Rpc

from .index_helpers import assert_figures_equal_the_ledger, client_of, settle_one

pytestmark = pytest.mark.slow

FORWARDER = Web3.to_checksum_address("0x00000000000000000000000000000000000f0a4d")


def forwarder_code(target: str) -> bytes:
    """EVM code that calls ``target`` with its own calldata and reverts when that call does:
    the smallest wrapper (a Safe's execTransaction does the same with more around it)."""
    return bytes.fromhex("36600060003760006000366000600073" + target[2:].lower()
                         + "5af1602d57600080fd5b00")


def test_index__committee_settled_figures_equal_the_ledgers_state(
        committee_chain: tuple[Network, Settled], store: Store) -> None:
    net, settled = committee_chain
    client = client_of(net)
    credits = client.credits
    for h in settled.tx_hashes:  # the batches really went through the committee's signatures
        tx = client.w3.eth.get_transaction(h)
        assert tx["to"] == credits.address
        assert credits.decode_function_input(tx["input"])[0].fn_name == "settleSigned"
    Indexer(client, store).step()
    assert_figures_equal_the_ledger(client, store, settled, per_epoch=2)


def test_index__a_batch_through_an_unknown_wrapper_keeps_its_totals_only(
        committee_chain: tuple[Network, Settled], store: Store) -> None:
    net, settled = committee_chain
    client = client_of(net)
    rpc: Any = client.w3.provider
    snap = rpc.make_request("evm_snapshot", [])["result"]
    try:
        rpc.make_request("anvil_setCode", [FORWARDER, "0x" + forwarder_code(
            client.credits.address).hex()])
        sim = Rpc(net.rpc_url)
        ensure_oracle_role(ChainView(sim, net.deployment), FORWARDER)
        sim.close()
        r = settle_one(net, 10_000, to=FORWARDER)
        Indexer(client, store).step()
        epochs = reads.epochs(store)
        last = epochs[-1]
        assert last["sessions"] == 2 * 2 + 1 and last["undecoded_batches"] == 1
        assert [e["undecoded_batches"] for e in epochs[:-1]] == [0]
        with store.transaction() as tx:
            kept = tx.one("SELECT settled, total_cost FROM index_batches WHERE decoded = 0")
            rows = tx.one("SELECT COUNT(*) FROM index_sessions WHERE session_id = ?",
                          (r.session_id,))
        assert kept is not None and (int(kept[0]), int(kept[1])) == (1, r.cost)
        assert rows is not None and int(rows[0]) == 0  # not itemized
        itemized = sum(int(e["fees"]["1"]["cost"]) for e in epochs)
        assert itemized + r.cost == client.credits.functions.totalOwed(1).call()
        assert itemized == sum(x.cost for x in settled.receipts)
    finally:
        rpc.make_request("evm_revert", [snap])
