"""Gas per settled session on anvil (`make bench-gas`).

Deploys the protocol on a fresh local anvil, registers 10 operators (one station each, with a
certified meter, so that sessions earn reward weight as in production), funds 100 distinct
drivers, then settles batches of 1, 10, 50 and 100 receipts (sorted by station, as the oracle
sends them) with `settlePacked`, the oracle key's entry point, and prints gas per session; then
the cost of the other user actions. Drivers chose "any station"; a last batch of 100 is settled
by 100 other drivers, each of whom consented to its station's operator only (one more storage
read per session). Then the realistic mix of issue 11: 20 more stations of 10 more operators and
100 more drivers, none ever settled, one packed batch of 100 on that fresh state (cold: every
operator payout, station-epoch and session-bitmap slot written for the first time) and the next
100 (warm). Last lines:
`gas_per_session_mix_cold=<N> gas_per_session_mix_warm=<N> calldata_bytes_per_session=<N>`,
`gas_per_session_batch100_consent_per_operator=<N>`, then `gas_per_session_batch100=<N>`
(packed, batch of 100, any-station drivers).
"""

from __future__ import annotations

import os
import sys
from typing import Any

from eth_utils.crypto import keccak
from rich.console import Console
from rich.table import Table

from wattnet.chain import roles
from wattnet.chain.batch_codec import pack_batch
from wattnet.chain.committee import (
    batch_digest,
    batch_domain,
    batch_signatures_for,
    committee_domain,
    node_digest,
)
from wattnet.chain.deploy import WAD, deploy_local_stack, geohash_bytes8
from wattnet.chain.eip712 import (
    Domain,
    address_of_private_key,
    sign_digest,
    sign_receipt,
)
from wattnet.chain.localnode import ensure_foundry_host
from wattnet.chain.meters import binding_signature, issue_certificate, new_p256_key, public_xy
from wattnet.chain.signer_binding import signer_proof
from wattnet.domain import ZERO_ADDRESS, SessionReceipt, station_id_for

USDC = 10**6
TARIFF = 350_000
OPERATORS = 10
DRIVERS = 100
MIX_OPERATORS = 10
MIX_STATIONS = 20
# (size, packed, scoped): scoped drivers consented to their station's operator only, which costs
# settlement one storage read per session; the others chose "any station" (a bit of their slot).
# (batch size, drivers who consented to their station's operator only)
BATCHES = ((1, False), (10, False), (50, False), (100, False), (100, True))


def receipts(domain: Domain, stations: list[tuple[bytes, bytes, Any]], drivers: list[Any],
             next_session: list[int], size: int, now: int) -> list[tuple[int, int, Any, bytes]]:
    """`size` signed receipts spread evenly over the stations and drivers, sorted by station
    (as the oracle sends them): (station index, session id, receipt, signature)."""
    n = len(stations)
    items = []
    for j in range(size):
        s = j * n // size if size >= n else j % n
        sid, key, _ = stations[s]
        next_session[s] += 1
        energy = 7_000 + j
        r = SessionReceipt(
            sid,
            next_session[s],
            1,
            drivers[j % len(drivers)].address,
            1,
            energy,
            now - 3_720,  # an hour's session that ended two minutes ago: inside the params
            now - 120,  # file's settlement window (1 h on the local chain)
            energy * TARIFF // 1000,
            # 32 bytes committing to the signed readings: settlement hashes them, never opens
            # them, so any commitment costs what a real one costs.
            readings=keccak(sid + next_session[s].to_bytes(8, "big")),
        )
        items.append((s, next_session[s], r, sign_receipt(key, domain, r)))
    items.sort(key=lambda t: (t[0], t[1]))
    return items


def deploy_committee(project: Any, chain: Any, p: Any, gov: Any, treasury: Any, oracle: Any,
                     nodes: int) -> tuple[Any, list[bytes]]:
    """An OracleCommittee of ``nodes`` staked members, threshold ``nodes``, publishing them to
    the ledger (COMMITTEE_ROLE) beside the bench's oracle account's ORACLE_ROLE."""
    committee = project.OracleCommittee.deploy(p.watt, p.settlement, treasury, gov, 1_000 * WAD,
                                               7 * 86_400, 1_000, sender=gov)
    p.settlement.grantRole(roles.COMMITTEE_ROLE, committee, sender=gov)
    domain = committee_domain(chain.chain_id, committee.address)
    keys = [(0xC0FFEE + i).to_bytes(32, "big") for i in range(nodes)]
    p.watt.transfer(oracle, nodes * 1_000 * WAD, sender=treasury)
    p.watt.approve(committee, nodes * 1_000 * WAD, sender=oracle)
    for key in keys:
        node = address_of_private_key(key)
        committee.register(node, 1_000 * WAD, sign_digest(key, node_digest(domain, oracle.address)),
                           sender=oracle)
        committee.admit(node, sender=gov)
    committee.setThreshold(nodes, sender=gov)
    return committee, keys


def main() -> int:
    ensure_foundry_host()
    import ape
    from ape import accounts, chain, networks, project
    from ape.logging import logger

    logger.set_level("ERROR")

    console = Console()
    with networks.parse_network_choice("ethereum:local:foundry"):
        test = accounts.test_accounts
        gov, treasury, oracle = test[0], test[1], test[2]
        ops = [test.generate_test_account() for _ in range(OPERATORS)]
        drivers = [test.generate_test_account() for _ in range(DRIVERS)]
        for acct in ops + drivers:
            gov.transfer(acct, 10 * WAD)
        p, usdc = deploy_local_stack(project, chain, gov, treasury, oracle)
        cid = 1
        costs: dict[str, int] = {}
        issuer = new_p256_key()  # a meter maker governance admitted
        p.registry.setMeterIssuer(*public_xy(issuer), True, sender=gov)

        def add_station(op: Any, i: int, stake: int) -> tuple[bytes, bytes, Any]:
            if stake:
                p.watt.transfer(op, stake, sender=treasury)
                p.watt.approve(p.staking, stake, sender=op)
                tx = p.staking.stake(stake, sender=op)
                costs.setdefault("stake WATT", tx.gas_used)
            key = (i + 1).to_bytes(32, "big")
            sid = station_id_for(f"BENCH-{i}")
            tx = p.registry.registerStation(
                (
                    sid,
                    address_of_private_key(key),
                    22_000,
                    2,
                    geohash_bytes8("u33db"),
                    f"ipfs://s/{i}",
                    b"",
                    [cid],
                    [TARIFF],
                ),
                *signer_proof(key, chain_id=chain.chain_id, registry=p.registry.address,
                              station_id=sid, operator=op.address),
                sender=op,
            )
            costs.setdefault("register station (signer key's proof of possession)", tx.gas_used)
            meter = new_p256_key()
            cert = issue_certificate(issuer, meter, serial=f"SN-{i}", model="WN-1",
                                     max_power_w=22_000)
            bind = binding_signature(meter, chain_id=chain.chain_id, registry=p.registry.address,
                                     station_id=sid, operator=op.address)
            tx = p.registry.certifyMeter(sid, cert.as_tuple(), *bind, sender=op)
            costs.setdefault("certify meter (P-256 in Solidity, no precompile)", tx.gas_used)
            return sid, key, op

        def add_driver(d: Any, any_station: bool = True) -> None:
            usdc.mint(d, 1_000 * USDC, sender=d)
            usdc.approve(p.credits, 1_000 * USDC, sender=d)
            tx = p.credits.buy(cid, 1_000 * USDC, d, sender=d)
            costs.setdefault("buy credits", tx.gas_used)
            tx = p.credits.setMandate(cid, 100 * USDC, 1_000 * USDC, sender=d)
            costs.setdefault("set mandate", tx.gas_used)
            if any_station:
                tx = p.credits.setConsent(cid, ZERO_ADDRESS, True, sender=d)
                costs.setdefault("set consent", tx.gas_used)

        # The bond params/local.yaml asks of one 22 kW station: per station plus per kW.
        bond = int(p.staking.minStakePerStation()) + 22 * int(p.staking.stakePerKw())
        stations = [add_station(op, i, bond) for i, op in enumerate(ops)]
        for d in drivers:
            add_driver(d)

        chain.pending_timestamp += 3 * 3_600  # the stations have been live for a while
        chain.mine()
        domain = Domain(chain.chain_id, p.settlement.address)
        next_session = [0] * OPERATORS
        now = chain.pending_timestamp
        rows = []
        gas_100 = gas_scoped = 0
        # Drivers who consented to their station's operator only (never "any station": that
        # choice is narrowed only after a mandate revocation has settled).
        scoped_drivers = [test.generate_test_account() for _ in range(DRIVERS)]
        for j, d in enumerate(scoped_drivers):
            gov.transfer(d, 10 * WAD)
            add_driver(d, any_station=False)
            p.credits.setConsent(cid, ops[j * OPERATORS // DRIVERS], True, sender=d)
        for size, scoped in BATCHES:
            who = scoped_drivers if scoped else drivers
            now = chain.pending_timestamp
            items = receipts(domain, stations, who, next_session, size, now)
            tx = p.settlement.settlePacked(pack_batch((t[2], t[3]) for t in items), sender=oracle)
            settled = len(tx.decode_logs(p.settlement.BatchSettled))
            rejected = tx.decode_logs(p.settlement.ReceiptRejected)
            if rejected or not settled:
                reasons = sorted({int(log.reason) for log in rejected})
                console.print(
                    f"[red]batch of {size}: {len(rejected)} rejected, reasons {reasons}[/red]"
                )
                return 1
            rows.append((size, scoped, tx.gas_used, tx.gas_used // size))
            if size == 100 and os.environ.get("BENCH_PROFILE"):
                tx.show_gas_report()
            if size == 100 and not scoped:
                gas_100 = tx.gas_used // size
            if scoped:
                gas_scoped = tx.gas_used // size

        # ---- the oracle committee (k = 3 of 3): the same batch of 100 relayed through
        # settleSigned against settlePacked directly, one after the other.
        committee, keys = deploy_committee(project, chain, p, gov, treasury, oracle, nodes=3)
        committee_gas = []
        for through_committee in (False, True):
            now = chain.pending_timestamp
            items = receipts(domain, stations, drivers, next_session, 100, now)
            data = pack_batch((t[2], t[3]) for t in items)
            if through_committee:
                nonce = p.settlement.batchNonce()
                sigs = batch_signatures_for(batch_digest(batch_domain(
                    chain.chain_id, p.settlement.address), nonce, 0, data), keys)
                tx = p.settlement.settleSigned(data, nonce, 0, committee.committee(), sigs,
                                               sender=oracle)
            else:
                tx = p.settlement.settlePacked(data, sender=oracle)
            if tx.decode_logs(p.settlement.ReceiptRejected):
                console.print("[red]committee batch: receipts rejected[/red]")
                return 1
            committee_gas.append(tx.gas_used)

        # ---- the realistic mix: 20 stations of 10 operators, never settled before (cold),
        # then again (warm), sorted by station as the oracle sends them.
        mix_ops = [test.generate_test_account() for _ in range(MIX_OPERATORS)]
        mix_drivers = [test.generate_test_account() for _ in range(DRIVERS)]
        for acct in mix_ops + mix_drivers:
            gov.transfer(acct, 10 * WAD)
        per_op = MIX_STATIONS // MIX_OPERATORS
        mix = [add_station(op, 100 + i, per_op * bond if i % per_op == 0 else 0)
               for i, op in enumerate(o for o in mix_ops for _ in range(per_op))]
        for d in mix_drivers:
            add_driver(d)
        chain.pending_timestamp += 3 * 3_600
        chain.mine()
        now = chain.pending_timestamp
        mix_next = [0] * MIX_STATIONS
        mix_gas, calldata = [], 0
        for _phase in ("cold", "warm"):
            items = receipts(domain, mix, mix_drivers, mix_next, 100, now)
            data = pack_batch((t[2], t[3]) for t in items)
            tx = p.settlement.settlePacked(data, sender=oracle)
            if tx.decode_logs(p.settlement.ReceiptRejected):
                console.print("[red]mix batch: receipts rejected[/red]")
                return 1
            mix_gas.append(tx.gas_used // 100)
            calldata = len(data) // 100

        chain.pending_timestamp += 8 * 86_400
        tx = p.credits.withdrawPayout(cid, ops[0], sender=ops[0])
        costs["withdraw payout"] = tx.gas_used
        tx = p.rewards.claim([0], [stations[0][0]], sender=ops[0])
        costs["claim rewards (1 epoch)"] = tx.gas_used
        tx = p.credits.requestRedemption(cid, 10 * USDC, sender=drivers[0])
        costs["request redemption"] = tx.gas_used

        table = Table(title="settlePacked gas (10 operators, 100 distinct drivers, anvil)")
        for col in ("batch size", "drivers", "gas", "gas / session"):
            table.add_column(col, justify="right")
        for size, scoped, gas, per in rows:
            entry = "consent per operator" if scoped else "any station"
            table.add_row(str(size), entry, f"{gas:,}", f"{per:,}")
        console.print(table)
        other = Table(title="other actions")
        other.add_column("action")
        other.add_column("gas", justify="right")
        for name, gas in costs.items():
            other.add_row(name, f"{gas:,}")
        console.print(other)
        print(f"mix: {MIX_STATIONS} stations of {MIX_OPERATORS} operators, 100 receipts, "
              f"fresh state (cold) then again (warm); packed calldata per session")
        print(f"gas_per_session_mix_cold={mix_gas[0]} gas_per_session_mix_warm={mix_gas[1]} "
              f"calldata_bytes_per_session={calldata}")
        print(f"gas_per_session_batch100_consent_per_operator={gas_scoped}")
        print(f"gas_per_session_batch100={gas_100}")
        print(f"gas_per_session_batch100_k3={committee_gas[1] // 100} "
              f"committee_k3_overhead_per_session={(committee_gas[1] - committee_gas[0]) // 100}")
        del ape
    return 0


if __name__ == "__main__":
    os.environ.setdefault("APE_DATA_FOLDER", os.path.join(os.getcwd(), ".ape-data"))
    sys.exit(main())
