"""Settled sessions on the app's local network (``wattnet.api.devnet``), through the real
ledger: the driver buys credits, sets a mandate, lets every station charge it and chooses a
referrer; the devnet stations sign receipts with their (derived) keys; an oracle key given
ORACLE_ROLE by the ledger's admin (the timelock, impersonated by anvil, as the simulator does)
settles them in packed batches, one per epoch, chain time moved a week between them. The
second batch carries a receipt of the first again: the ledger rejects it (AlreadySettled).

With ``committee`` node keys, the committee is formed first (``form_committee``: staked nodes,
threshold all of them, ORACLE_ROLE taken from the oracle key) and every batch is relayed to
``EnergyCredits.settleSigned`` with all the nodes' signatures, as the live network settles.
``batch_size`` splits each epoch's receipts into several batches (the bench's thousands)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wattnet.api.devnet import DRIVER, STATIONS, Network, station_key
from wattnet.chain.batch_codec import pack_batch
from wattnet.chain.committee import batch_digest, batch_domain, batch_signatures_for
from wattnet.chain.eip712 import Domain, address_of_private_key, sign_receipt
from wattnet.domain import SessionReceipt, station_id_for
from wattnet.sim.network.actions import ensure_oracle_role
from wattnet.sim.network.chainview import ChainView
from wattnet.sim.network.committee import COMMITTEE, form_committee
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


def settle_sessions(net: Network, per_epoch: int = 2, epochs: int = 2, *,
                   batch_size: int | None = None, committee: Sequence[bytes] = ()) -> Settled:
    """``per_epoch`` sessions at each devnet station in each of ``epochs`` weeks, settled in
    batches of at most ``batch_size`` receipts (default: one batch per epoch), through the
    committee of ``committee`` node keys when given, else by the oracle key."""
    rpc = Rpc(net.rpc_url)
    view = ChainView(rpc, net.deployment)
    rpc.impersonate_all()
    try:
        ledger = view.address("EnergyCredits")
        rpc.fund([SETTLER])
        ensure_oracle_role(view, SETTLER)
        relay = _Relay(view, committee)
        credits = max(CREDITS, per_epoch * epochs * sum(
            p * 1_200 // 3600 // 2 * t // 1000 for _, _, p, t in STATIONS))
        setup = [view.tx(DRIVER, "MockStablecoin", "approve", ledger, credits),
                 view.tx(DRIVER, "EnergyCredits", "buy", 1, credits, DRIVER),
                 view.tx(DRIVER, "EnergyCredits", "setMandate", 1, 50 * 10**6, credits),
                 view.tx(DRIVER, "EnergyCredits", "setConsent", 1, "0x" + "00" * 20, True),
                 view.tx(DRIVER, "EnergyCredits", "setReferrer", REFERRER)]
        if credits > CREDITS:  # the devnet's driver holds DRIVER_USD of the mock stablecoin
            setup.insert(0, view.tx(DRIVER, "MockStablecoin", "mint", DRIVER, credits))
        rpc.send(setup, "driver set-up")
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
                    slot = i % 2  # within the settlement window; overlaps are allowed
                    end = now - 600 - 900 * slot
                    energy = power * 1_200 // 3600 // (2 + slot)  # 20 minutes, under half power
                    r = SessionReceipt(station_id_for(cp), session, 1, DRIVER, 1, energy,
                                       end - 1_200, end, energy * tariff // 1000,
                                       referrer=REFERRER,
                                       readings=bytes([session % 256 or 1]) * 32)
                    batch.append((r, sign_receipt(station_key(cp), domain, r)))
            again = [(settled[0], sign_receipt(station_key(STATIONS[0][0]), domain,
                                               settled[0]))] if settled else []
            settled += [r for r, _ in batch]
            rejected += [r for r, _ in again]
            size = batch_size or len(batch + again)
            hashes += relay.send([pack_batch((batch + again)[lo:lo + size])
                                  for lo in range(0, len(batch + again), size)])
        return Settled(tuple(settled), tuple(rejected), tuple(hashes))
    finally:
        rpc.call("anvil_autoImpersonateAccount", False)
        rpc.close()


class _Relay:
    """Sends packed batches: as the oracle key (``settlePacked``), or through the committee
    with every node's signature (``settleSigned``, relayed by the first node), nonces in order."""

    def __init__(self, view: ChainView, keys: Sequence[bytes]) -> None:
        self.view, self.keys = view, list(keys)
        if self.keys:
            treasury = str(view.one("EnergyCredits", "treasury"))
            form_committee(view, self.keys, len(self.keys), treasury)
            self.domain = batch_domain(view.deployment.chain_id, view.address("EnergyCredits"))
            self.relayer = address_of_private_key(self.keys[0])

    def send(self, packed: Sequence[bytes]) -> list[str]:
        v = self.view
        if not self.keys:
            return v.rpc.send([v.tx(SETTLER, "EnergyCredits", "settlePacked", p)
                               for p in packed], "settle a batch")
        nonce = int(v.one("EnergyCredits", "batchNonce"))
        committee = bytes(v.one(COMMITTEE, "committee"))
        return v.rpc.send([v.tx(self.relayer, "EnergyCredits", "settleSigned", p, nonce + j, 0,
                                committee, batch_signatures_for(
                                    batch_digest(self.domain, nonce + j, 0, p), self.keys))
                           for j, p in enumerate(packed)], "settle a batch (committee)")
