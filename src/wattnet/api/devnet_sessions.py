"""Settled sessions on the app's local network (``wattnet.api.devnet``), through the real
ledger: the driver buys credits, sets a mandate, lets every station charge it and chooses a
referrer; the devnet stations sign receipts with their (derived) keys; an oracle key given
ORACLE_ROLE by the ledger's admin (the timelock, impersonated by anvil, as the simulator does)
settles them in packed batches, one per epoch, chain time moved a week between them. The
second batch carries a receipt of the first again: the ledger rejects it (AlreadySettled)."""

from __future__ import annotations

from dataclasses import dataclass

from wattnet.api.devnet import DRIVER, STATIONS, Network, station_key
from wattnet.chain.batch_codec import pack_batch
from wattnet.chain.eip712 import Domain, sign_receipt
from wattnet.domain import SessionReceipt, station_id_for
from wattnet.sim.network.actions import ensure_oracle_role
from wattnet.sim.network.chainview import ChainView
from wattnet.sim.network.node import Rpc

SETTLER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"  # anvil's dev account 5: the oracle key
REFERRER = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"  # dev account 6
WEEK = 7 * 24 * 3600
CREDITS = 200 * 10**6  # the driver's purchase (6-decimal test USDC)


@dataclass(frozen=True, slots=True)
class Settled:
    receipts: tuple[SessionReceipt, ...]  # settled, in order
    rejected: tuple[SessionReceipt, ...]  # sent again, refused by the ledger
    tx_hashes: tuple[str, ...]


def _advance(rpc: Rpc, seconds: int) -> int:
    rpc.call("evm_increaseTime", seconds)
    rpc.call("evm_mine")
    return int(rpc.call("eth_getBlockByNumber", "latest", False)["timestamp"], 16)


def settle_sessions(net: Network, per_epoch: int = 2, epochs: int = 2) -> Settled:
    """``per_epoch`` sessions at each devnet station in each of ``epochs`` weeks, settled."""
    rpc = Rpc(net.rpc_url)
    view = ChainView(rpc, net.deployment)
    rpc.impersonate_all()
    try:
        ledger = view.address("EnergyCredits")
        rpc.fund([SETTLER])
        ensure_oracle_role(view, SETTLER)
        rpc.send([view.tx(DRIVER, "MockStablecoin", "approve", ledger, CREDITS),
                  view.tx(DRIVER, "EnergyCredits", "buy", 1, CREDITS, DRIVER),
                  view.tx(DRIVER, "EnergyCredits", "setMandate", 1, 50 * 10**6, CREDITS),
                  view.tx(DRIVER, "EnergyCredits", "setConsent", 1, "0x" + "00" * 20, True),
                  view.tx(DRIVER, "EnergyCredits", "setReferrer", REFERRER)], "driver set-up")
        domain = Domain(net.deployment.chain_id, ledger)
        settled: list[SessionReceipt] = []
        rejected: list[SessionReceipt] = []
        hashes: list[str] = []
        now = _advance(rpc, 3600)
        session = 0
        for epoch in range(epochs):
            if epoch:
                now = _advance(rpc, WEEK)
            batch = []
            for cp, _, power, tariff in STATIONS:
                for i in range(per_epoch):
                    session += 1
                    end = now - 600 - 900 * i
                    energy = power * 1_200 // 3600 // (2 + i)  # 20 minutes at under half power
                    r = SessionReceipt(station_id_for(cp), session, 1, DRIVER, 1, energy,
                                       end - 1_200, end, energy * tariff // 1000,
                                       referrer=REFERRER, readings=bytes([session]) * 32)
                    batch.append((r, sign_receipt(station_key(cp), domain, r)))
            again = [(settled[0], sign_receipt(station_key(STATIONS[0][0]), domain,
                                               settled[0]))] if settled else []
            settled += [r for r, _ in batch]
            rejected += [r for r, _ in again]
            hashes += rpc.send([view.tx(SETTLER, "EnergyCredits", "settlePacked",
                                        pack_batch(batch + again))], "settle a batch")
        return Settled(tuple(settled), tuple(rejected), tuple(hashes))
    finally:
        rpc.call("anvil_autoImpersonateAccount", False)
        rpc.close()
