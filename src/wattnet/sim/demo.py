"""The scripted protocol scenario behind `wattnet demo` (until the network simulator takes over).

On a fresh local anvil, with params/local.yaml's parameters: deploy, operators stake and register
stations, drivers buy credits and set mandates, stations sign session receipts that the oracle
settles in one batch (with one replayed receipt that must be rejected), a driver redeems, a
station key equivocates and anyone slashes its operator, an epoch closes and operators claim WATT.
Returns a summary for the CLI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from wattnet.chain.batch_codec import pack_batch
from wattnet.chain.deploy import DAY, WAD, WEEK, deploy_local_stack, geohash_bytes8
from wattnet.chain.eip712 import (
    Domain,
    address_of_private_key,
    receipt_tuple,
    sign_receipt,
)
from wattnet.chain.localnode import ensure_foundry_host
from wattnet.chain.signer_binding import signer_proof
from wattnet.domain import ZERO_ADDRESS, RejectReason, SessionReceipt, station_id_for
from wattnet.econ.settlement import session_cost

log = logging.getLogger(__name__)

USDC = 10**6
TARIFF = 350_000  # 0.35 USDC per kWh


@dataclass
class DemoSummary:
    chain_id: int = 0
    contracts: dict[str, str] = field(default_factory=dict)
    stations: list[dict[str, Any]] = field(default_factory=list)
    drivers: list[dict[str, Any]] = field(default_factory=list)
    settlement: dict[str, Any] = field(default_factory=dict)
    slash: dict[str, Any] = field(default_factory=dict)
    rewards: dict[str, Any] = field(default_factory=dict)
    escrow: dict[str, int] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)


def run_demo(progress: Callable[[str], None] | None = None) -> DemoSummary:
    """Run the scenario on a local anvil that Ape starts and stops; returns what happened."""
    ensure_foundry_host()
    from ape import accounts, chain, networks, project
    from ape.logging import logger

    logger.set_level("ERROR")
    out = DemoSummary()

    def step(text: str) -> None:
        out.steps.append(text)
        if progress:
            progress(text)

    with networks.parse_network_choice("ethereum:local:foundry"):
        test = accounts.test_accounts
        gov, treasury, oracle, reporter = test[0], test[1], test[2], test[3]
        operators = [test[4], test[5]]
        drivers = [test[6], test[7], test[8]]
        step("deploying the protocol")
        p, usdc = deploy_local_stack(project, chain, gov, treasury, oracle)
        cid = 1
        out.chain_id = chain.chain_id
        out.contracts = {name: c.address for name, c in p.as_dict().items()} | {
            "MockUSDC": usdc.address
        }

        step("operators stake WATT and register stations")
        stations = []
        for i, op in enumerate(operators):
            stake = 2_500 * WAD
            p.watt.transfer(op, stake, sender=treasury)
            p.watt.approve(p.staking, stake, sender=op)
            p.staking.stake(stake, sender=op)
            for j in range(2):
                key = bytes([0x11 * (i + 1), j + 1]) + bytes(30)
                cp = f"DEMO-{i}-{j}"
                sid = station_id_for(cp)
                p.registry.registerStation(
                    (
                        sid,
                        address_of_private_key(key),
                        22_000,
                        2,
                        geohash_bytes8("u33db" if i == 0 else "gcpvj"),
                        f"ipfs://demo/{cp}",
                        b"",
                        [cid],
                        [TARIFF],
                    ),
                    *signer_proof(key, chain_id=chain.chain_id, registry=p.registry.address,
                                  station_id=sid, operator=op.address),
                    sender=op,
                )
                stations.append((cp, sid, key, op))

        step("drivers buy credits and set mandates")
        for d in drivers:
            usdc.mint(d, 100 * USDC, sender=d)
            usdc.approve(p.credits, 100 * USDC, sender=d)
            p.credits.buy(cid, 100 * USDC, d, sender=d)
            p.credits.setMandate(cid, 30 * USDC, 60 * USDC, sender=d)
            p.credits.setConsent(cid, ZERO_ADDRESS, True, sender=d)  # any station, explicitly

        chain.pending_timestamp += 2 * 3_600
        chain.mine()
        domain = Domain(chain.chain_id, p.credits.address)
        now = chain.pending_timestamp
        step("stations sign sessions; the oracle settles them in one batch")
        items: list[tuple[SessionReceipt, bytes]] = []
        receipts = []
        for n, (_cp, sid, key, _) in enumerate(stations):
            for k, d in enumerate(drivers):
                energy = 8_000 + 1_500 * n + 700 * k
                r = SessionReceipt(
                    sid,
                    k + 1,
                    1,
                    d.address,
                    cid,
                    energy,
                    now - 5_400,
                    now - 1_800,
                    session_cost(energy, TARIFF),
                    referrer=reporter.address if k == 0 else "0x" + "00" * 20,
                )
                items.append((r, sign_receipt(key, domain, r)))
                receipts.append(r)
        items.append(items[0])  # a replay inside the same batch: must be rejected, paid once
        tx = p.credits.settlePacked(pack_batch(items), sender=oracle)
        rejected = [
            RejectReason(int(log_.reason)).name
            for log_ in tx.decode_logs(p.credits.ReceiptRejected)
        ]
        out.settlement = {
            "receipts": len(items),
            "settled": len(receipts),
            "rejected": rejected,
            "gas_per_session": tx.gas_used // len(items),
            "energy_kwh": sum(r.energy_wh for r in receipts) / 1000,
            "cost_usdc": sum(r.cost for r in receipts) / USDC,
        }

        step("a driver redeems unspent credits after the redemption delay")
        p.credits.requestRedemption(cid, 20 * USDC, sender=drivers[2])
        chain.pending_timestamp += p.credits.timing().redemptionDelay + 60
        p.credits.completeRedemption(cid, sender=drivers[2])

        step("a station key equivocates; a reporter slashes its operator")
        cp, sid, key, op = stations[3]
        a = receipts[3 * len(drivers)]
        b = SessionReceipt(
            a.station_id,
            a.session_id,
            a.connector_id,
            a.driver,
            a.credit_id,
            a.energy_wh + 1_000,
            a.start_time,
            a.end_time,
            session_cost(a.energy_wh + 1_000, TARIFF),
        )
        before = p.staking.stakeOf(op).active
        p.staking.slashEquivocation(
            receipt_tuple(a),
            sign_receipt(key, domain, a),
            receipt_tuple(b),
            sign_receipt(key, domain, b),
            sender=reporter,
        )
        out.slash = {
            "station": cp,
            "operator": op.address,
            "slashed_watt": (before - p.staking.stakeOf(op).active) / WAD,
            "bounty_watt": p.watt.balanceOf(reporter) / WAD,
            "suspended": bool(p.registry.suspended(op)),
        }

        step("the epoch closes; operators claim WATT and withdraw USDC")
        chain.pending_timestamp += WEEK + DAY
        chain.mine()
        claimed = {}
        for op in operators:
            mine = [
                sid for (_, sid, _, o) in stations if o == op and p.rewards.claimable(sid, 0) > 0
            ]
            if mine:
                p.rewards.claim([0], mine, sender=op)
            claimed[op.address] = p.watt.balanceOf(op) / WAD
            p.credits.withdrawPayout(cid, op, sender=op)
        out.rewards = {
            "epoch_emission_watt": p.rewards.emissionOf(0) / WAD,
            "claimed_watt": claimed,
        }

        for cp, sid, _, op in stations:
            out.stations.append(
                {
                    "station": cp,
                    "operator": op.address,
                    "weight": int(p.credits.stationEpoch(0, sid).weight),
                    "active": not bool(p.registry.suspended(op)),
                }
            )
        for d in drivers:
            out.drivers.append(
                {
                    "driver": d.address,
                    "credits_usdc": p.credits.balanceOf(d, cid) / USDC,
                    "usdc": usdc.balanceOf(d) / USDC,
                }
            )
        out.escrow = {
            "usdc_held": int(usdc.balanceOf(p.credits)),
            "credits_outstanding": int(p.credits.totalSupply(cid)),
            "pending_redemptions": int(p.credits.totalPendingRedemptions(cid)),
            "owed_payouts": int(p.credits.totalOwed(cid)),
        }
        step("done; stopping anvil")
    return out
