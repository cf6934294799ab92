"""Plain helpers of the indexer tests (a uniquely named module, not conftest.py)."""

from __future__ import annotations

from wattnet.api.devnet import DRIVER, OPERATOR, STATIONS, Network, station_key
from wattnet.api.devnet_sessions import REFERRER, SETTLER, Settled
from wattnet.chain.batch_codec import pack_batch
from wattnet.chain.eip712 import Domain, sign_receipt
from wattnet.chain.web3_client import ChainClient
from wattnet.domain import SessionReceipt, station_id_for
from wattnet.indexer import reads, totals
from wattnet.oracle.store_base import Store
from wattnet.sim.network.chainview import ChainView
from wattnet.sim.network.node import Rpc


def client_of(net: Network) -> ChainClient:
    return ChainClient(net.rpc_url, net.deployment)


def assert_figures_equal_the_ledger(client: ChainClient, store: Store, settled: Settled,
                                    per_epoch: int) -> None:
    """The index's figures (``store``, indexed to the head) against the contracts' state:
    sessions per epoch, energy, each payee's fees summed equal to what the ledger owes it
    (nothing withdrawn), ``totalOwed``, each station's energy per epoch equal to
    ``stationEpoch(..).rewardedWh``, and the rejected receipts counted."""
    ledger, settlement = client.credits.functions, client.settlement.functions
    epochs = reads.epochs(store)
    assert [e["sessions"] for e in epochs] == [2 * per_epoch] * 2  # two stations, two weeks
    assert [e["undecoded_batches"] for e in epochs] == [0, 0]
    assert sum(e["energy_wh"] for e in epochs) == sum(r.energy_wh for r in settled.receipts)
    fees = [e["fees"]["1"] for e in epochs]
    assert sum(int(f["to_operator"]) for f in fees) == ledger.owed(OPERATOR, 1).call() > 0
    assert sum(int(f["to_referrer"]) for f in fees) == ledger.owed(REFERRER, 1).call() > 0
    treasury = ledger.treasury().call()
    assert sum(int(f["to_treasury"]) for f in fees) == ledger.owed(treasury, 1).call()
    assert sum(int(f["cost"]) for f in fees) == ledger.totalOwed(1).call()
    earn = reads.earnings(store, OPERATOR)
    assert len(earn["rows"]) == 4 and int(earn["earned"]["1"]) == ledger.owed(OPERATOR, 1).call()
    for row in earn["rows"]:
        rec = settlement.stationEpoch(row["epoch"], bytes.fromhex(row["station_id"][2:])).call()
        assert row["energy_wh"] == rec[0]  # rewardedWh: under the cap, every Wh counts
        mine = [r for r in settled.receipts if "0x" + r.station_id.hex() == row["station_id"]]
        assert row["sessions"] == len(mine) // 2
    with store.transaction() as tx:
        got = tx.one("SELECT SUM(rejected) FROM index_batches")
    assert got is not None and int(got[0]) == len(settled.rejected) == 1
    assert_totals_are_the_sums(store)


def assert_totals_are_the_sums(store: Store) -> None:
    """The per-epoch totals the indexer keeps equal the sums over its session rows."""
    with store.transaction() as tx:
        kept, summed = totals.read(tx), totals.summed(tx)
    assert kept == summed


def settle_one(net: Network, session_id: int, to: str | None = None) -> SessionReceipt:
    """One more session at the second devnet station, settled now with ``settlePacked`` sent by
    the oracle key to the ledger, or to ``to`` (a wrapper that forwards the call)."""
    client = client_of(net)
    cp, _, power, tariff = STATIONS[1]
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    energy = power * 600 // 3600 // 2
    r = SessionReceipt(station_id_for(cp), session_id, 1, DRIVER, 1, energy, now - 900,
                       now - 300, energy * tariff // 1000, readings=b"\x07" * 32)
    rpc = Rpc(net.rpc_url)
    view = ChainView(rpc, net.deployment)
    ledger = view.address("EnergyCredits")
    data = view.data("EnergyCredits", "settlePacked", pack_batch(
        [(r, sign_receipt(station_key(cp), Domain(net.deployment.chain_id, ledger), r))]))
    try:
        rpc.impersonate_all()
        rpc.fund([SETTLER])
        rpc.send([(SETTLER, to or ledger, data)], "settle one session")
    finally:
        rpc.call("anvil_autoImpersonateAccount", False)
        rpc.close()
    return r
