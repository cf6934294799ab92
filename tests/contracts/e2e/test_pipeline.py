"""The whole path on a real chain: virtual chargers (OCPP 1.6 and 2.0.1) -> gateway (credit
source: EnergyCredits over web3) -> oracle process (web3 SettlementChain and StationDirectory)
-> settleBatch on anvil. Every session settles exactly once and the money adds up to the
smallest unit, also when the oracle is SIGKILLed between sending a batch and recording it.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from e2e_stack import (
    PASSWORD,
    Miner,
    OracleProcess,
    Session,
    run_charger,
    session_span_s,
)

from wattnet.chain.deploy import Protocol
from wattnet.chain.deployments import Deployment
from wattnet.chain.meters import new_p256_key, public_xy
from wattnet.chain.receipt_codec import signed_from_json
from wattnet.chain.web3_client import ChainClient
from wattnet.domain import OcppVersion, SignedReceipt, id_token_hash
from wattnet.gateway.config import GatewayConfig, StationConfig
from wattnet.gateway.credits_chain import credit_source
from wattnet.gateway.security import hash_password
from wattnet.gateway.server import Gateway
from wattnet.gateway.signer import KeystoreSigner, new_keystore
from wattnet.gateway.store import ACKED, GatewayStore
from wattnet.oracle.config import OracleConfig
from wattnet.sim.chargepoint.meter import SimMeter

pytestmark = pytest.mark.slow
V16, V201 = OcppVersion.V16, OcppVersion.V201
STATION_PASSPHRASE = "e2e-station-keystore"
USDC = 10**6
TIMEOUT_S = 60


@dataclass(frozen=True)
class Charger:
    cp_id: str
    version: OcppVersion
    operator: Any
    tariff: int
    station: Any  # tests/contracts/conftest.py Station (id, key, operator, power, tariff)
    keystore: Path
    meter: Any  # its certified meter's P-256 key: the charger's meter signs OCMF with it


@dataclass(frozen=True)
class Site:
    chargers: tuple[Charger, ...]
    drivers: dict[str, Any]  # RFID idToken -> Ape account
    password_hash: str


@pytest.fixture(scope="module")
def site(create_station: Any, create_driver: Any, credits: Any, operator: Any, operator2: Any,
         driver: Any, driver2: Any, referrer: Any, certify: Any,
         tmp_path_factory: pytest.TempPathFactory) -> Site:
    """Four stations of two operators (two 1.6, two 2.0.1 chargers; one tariff that rounds),
    three drivers with credits, mandates and RFID cards bound on chain."""
    keys = tmp_path_factory.mktemp("station-keys")
    specs = [("CP-E2E-A", V16, operator, 350_000), ("CP-E2E-B", V201, operator, 287_333),
             ("CP-E2E-C", V16, operator2, 412_999), ("CP-E2E-D", V201, operator2, 350_000)]
    chargers = []
    for cp_id, version, op, tariff in specs:
        st = create_station(op, cp_id=cp_id, tariff=tariff, certified=False)
        meter = new_p256_key()
        certify(st, meter=meter)
        path = keys / f"{cp_id}.json"
        new_keystore(path, STATION_PASSPHRASE, private_key=st.key, scrypt_n=2**2)
        chargers.append(Charger(cp_id, version, op, tariff, st, path, meter))
    drivers = {}
    for n, account in enumerate((driver, driver2, referrer)):
        create_driver(account, credits_amount=(60 + 10 * n) * USDC,
                      per_session_cap=25 * USDC, daily_cap=200 * USDC)
        token = f"04E2E{n:05d}"
        credits.bindIdToken(id_token_hash(token), sender=account)
        drivers[token] = account
    return Site(tuple(chargers), drivers, hash_password(PASSWORD, n=2**4))


# ---------------------------------------------------------------- the stack
def _plan(site: Site, per_charger: int, salt: int) -> dict[str, list[Session]]:
    tokens = list(site.drivers)
    plan: dict[str, list[Session]] = {}
    for i, c in enumerate(site.chargers):
        plan[c.cp_id] = [
            Session(c.cp_id, tokens[(i + k) % len(tokens)], 1_000 + 977 * ((i * 7 + k * 3 +
                    salt) % 5) + 13 * k)
            for k in range(per_charger)]
    return plan


def _gateway_config(site: Site, deployment: Deployment, credit_id: int, oracle_url: str,
                    data_dir: Path) -> GatewayConfig:
    stations = {
        c.cp_id: StationConfig(c.cp_id, 1, c.keystore, site.password_hash, {credit_id: c.tariff},
                               rated_power_w=c.station.rated_power_w, connectors=2,
                               meter_public_key=b"".join(public_xy(c.meter)).hex(),
                               meter_serial=f"M-{c.cp_id}")
        for c in site.chargers}
    # The chargers' clocks (and their meters') run ahead of the wall clock, as for the oracle.
    return GatewayConfig(data_dir=data_dir, oracle_url=oracle_url, chain_id=deployment.chain_id,
                         settlement=deployment.address("EnergyCredits"), stations=stations,
                         port=0, heartbeat_interval=60, credit_refresh_s=1.0,
                         meter_future_skew_s=30 * 86_400)


def _oracle(workdir: Path, deployment: Deployment, keystore: Path, passphrase_env: str,
            skew_s: int, min_batch: int) -> OracleProcess:
    config = {
        "chain_id": deployment.chain_id,
        "settlement_contract": deployment.address("EnergyCredits"),
        "database": str(workdir / "oracle.db"),
        "chain": "wattnet.oracle.chain_web3:oracle_chain",
        "directory": "wattnet.oracle.chain_web3:station_directory",
        "keystore": str(keystore), "keystore_passphrase_env": passphrase_env,
        # The chargers' clocks run ahead of the wall clock (chain time moved forward so that
        # every session started after registration and ended before settlement).
        "plausibility": {"future_skew_s": skew_s},
        "batcher": {"min_batch": min_batch, "max_batch": 6, "max_age_s": 1.0,
                    "confirmations": 2, "poll_interval_s": 0.1, "resubmit_after_s": 10.0,
                    "revert_backoff_s": 1.0},
    }
    return OracleProcess(workdir, config, {})


@dataclass
class Outcome:
    receipts: list[SignedReceipt]
    outbox_states: list[str]
    counts: dict[str, int]


def run_stack(site: Site, plan: dict[str, list[Session]], oracle: OracleProcess,
              deployment: Deployment, credit_id: int, chain: Any, workdir: Path,
              crashpoint: str | None = None) -> Outcome:
    """Warp the chain past the sessions, run gateway + oracle + chargers, wait until the oracle
    holds every receipt as settled (restarting it whenever it dies)."""
    start = int(chain.blocks.head.timestamp) + 60
    span = session_span_s(max(len(s) for s in plan.values()))
    chain.pending_timestamp = start + span + 60
    chain.mine()
    wall_offset = int(chain.blocks.head.timestamp) - time.time()
    total = sum(len(s) for s in plan.values())
    miner = Miner(chain.provider.uri)
    miner.start()
    oracle.start(crashpoint)
    try:
        asyncio.run(_drive(site, plan, oracle, deployment, credit_id, workdir, start,
                           wall_offset, total))
    finally:
        miner.stop()
        oracle.stop()
    store = GatewayStore(workdir / "gateway" / "gateway.sqlite3")
    try:
        rows = store.outbox_rows()
    finally:
        store.close()
    return Outcome([signed_from_json(json.loads(r[2])) for r in rows], [r[3] for r in rows],
                   oracle.counts())


async def _drive(site: Site, plan: dict[str, list[Session]], oracle: OracleProcess,
                 deployment: Deployment, credit_id: int, workdir: Path, start: int,
                 wall_offset: float, total: int) -> None:
    cfg = _gateway_config(site, deployment, credit_id, oracle.url, workdir / "gateway")
    signers = {c.cp_id: KeystoreSigner.from_file(c.keystore, STATION_PASSPHRASE)
               for c in site.chargers}
    gateway = Gateway(cfg, credit_source(cfg), signers,
                      clock=lambda: time.time() + wall_offset, retry_base_s=0.05)
    await gateway.start()
    try:
        url = f"ws://127.0.0.1:{gateway.ports['ws']}/ocpp"
        chargers = asyncio.gather(*(
            run_charger(url, c.cp_id, c.version, start, plan[c.cp_id],
                        SimMeter(f"M-{c.cp_id}", key=c.meter)) for c in site.chargers))
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            if oracle.died():  # SIGKILLed at its crash point: start it again, unarmed
                await asyncio.to_thread(oracle.start)
            if chargers.done():
                chargers.result()
                counts = await asyncio.to_thread(oracle.counts)
                outbox = await asyncio.to_thread(gateway.store.outbox_rows)
                final = counts["settled"] + counts["quarantined"] + counts["rejected_onchain"]
                # The gateway records the oracle's 200 after the oracle may have settled.
                if final >= total and [r[3] for r in outbox] == [ACKED] * total:
                    return
            assert time.monotonic() < deadline, f"not settled in time:\n{oracle.log()}"
            await asyncio.sleep(0.2)
    finally:
        await gateway.stop()


# ---------------------------------------------------------------- expectations
@dataclass
class Ledger:
    """What the chain says each party holds; ``diff`` gives what changed."""

    balances: dict[str, int]
    owed: dict[str, int]
    total_owed: int

    @classmethod
    def read(cls, protocol: Protocol, site: Site, treasury: Any, credit_id: int) -> Ledger:
        credits = protocol.credits
        payees = [c.operator for c in site.chargers] + [treasury]
        return cls({d.address: int(credits.balanceOf(d, credit_id))
                    for d in site.drivers.values()},
                   {p.address: int(credits.owed(p, credit_id)) for p in payees},
                   int(credits.totalOwed(credit_id)))


def expected_changes(site: Site, plan: dict[str, list[Session]], treasury: Any,
                     operator_bps: int) -> tuple[dict[str, int], dict[str, int], int]:
    """From the plan alone: cost = energy x tariff // 1000 per session; the operator gets
    cost x bps // 10000 of each session, the treasury the rest (no referrer)."""
    spent: dict[str, int] = {d.address: 0 for d in site.drivers.values()}
    owed: dict[str, int] = {c.operator.address: 0 for c in site.chargers}
    owed[treasury.address] = 0
    for c in site.chargers:
        for s in plan[c.cp_id]:
            cost = s.energy_wh * c.tariff // 1000
            to_operator = cost * operator_bps // 10_000
            spent[site.drivers[s.id_token].address] += cost
            owed[c.operator.address] += to_operator
            owed[treasury.address] += cost - to_operator
    return spent, owed, sum(spent.values())


def assert_settled_once(outcome: Outcome, plan: dict[str, list[Session]], site: Site,
                        client: ChainClient, from_block: int, oracle_address: str) -> None:
    total = sum(len(s) for s in plan.values())
    assert len(outcome.receipts) == total
    assert outcome.outbox_states == [ACKED] * total
    assert outcome.counts["settled"] == total, outcome.counts
    assert outcome.counts["quarantined"] == outcome.counts["rejected_onchain"] == 0
    assert outcome.counts["rejected"] == outcome.counts["conflicts"] == 0
    by_cp = {c.station.station_id: c for c in site.chargers}
    for cp_id, sessions in plan.items():
        got = sorted((r.receipt.session_id, r.receipt.energy_wh, r.receipt.driver)
                     for r in outcome.receipts if by_cp[r.receipt.station_id].cp_id == cp_id)
        assert [(e, d) for _, e, d in got] == [
            (s.energy_wh, site.drivers[s.id_token].address) for s in sessions]
    credits = client.settlement
    for r in outcome.receipts:
        assert credits.functions.isSettled(r.receipt.station_id, r.receipt.session_id).call()
    batches = credits.events.BatchSettled().get_logs(from_block=from_block)
    assert {b["args"]["submitter"] for b in batches} == {oracle_address}
    assert sum(int(b["args"]["settled"]) for b in batches) == total  # each session paid once
    assert sum(int(b["args"]["rejected"]) for b in batches) == 0  # not even a repeat attempt
    assert credits.events.ReceiptRejected().get_logs(from_block=from_block) == []


def _assert_money(before: Ledger, after: Ledger, site: Site, plan: dict[str, list[Session]],
                  treasury: Any, protocol: Protocol) -> None:
    spent, owed, total = expected_changes(site, plan, treasury,
                                          int(protocol.credits.operatorShareBps()))
    assert {d: before.balances[d] - after.balances[d] for d in spent} == spent
    assert {p: after.owed[p] - before.owed[p] for p in owed} == owed
    assert after.total_owed - before.total_owed == total


# ---------------------------------------------------------------- tests
def test_pipeline__every_session_settles_once_and_the_money_adds_up(
        site: Site, protocol: Protocol, deployment: Deployment, client: ChainClient,
        credit_id: int, chain: Any, treasury: Any, oracle: Any, oracle_keystore: Path,
        oracle_config: OracleConfig, tmp_path: Path) -> None:

    plan = _plan(site, per_charger=3, salt=0)
    before = Ledger.read(protocol, site, treasury, credit_id)
    from_block = int(chain.blocks.head.number) + 1
    proc = _oracle(tmp_path, deployment, oracle_keystore, oracle_config.keystore_passphrase_env,
                   skew_s=_skew(chain, plan), min_batch=4)
    outcome = run_stack(site, plan, proc, deployment, credit_id, chain, tmp_path)
    assert proc.exits == []
    assert_settled_once(outcome, plan, site, client, from_block, oracle.address)
    _assert_money(before, Ledger.read(protocol, site, treasury, credit_id), site, plan,
                  treasury, protocol)


def test_pipeline__oracle_killed_after_submit_before_record__nothing_lost_or_paid_twice(
        site: Site, protocol: Protocol, deployment: Deployment, client: ChainClient,
        credit_id: int, chain: Any, treasury: Any, oracle: Any, oracle_keystore: Path,
        oracle_config: OracleConfig, tmp_path: Path) -> None:

    plan = _plan(site, per_charger=2, salt=3)
    before = Ledger.read(protocol, site, treasury, credit_id)
    from_block = int(chain.blocks.head.number) + 1
    proc = _oracle(tmp_path, deployment, oracle_keystore, oracle_config.keystore_passphrase_env,
                   skew_s=_skew(chain, plan), min_batch=3)
    outcome = run_stack(site, plan, proc, deployment, credit_id, chain, tmp_path,
                        crashpoint="after_submit_before_record")
    assert proc.exits == [-9]  # killed once at the crash point, restarted unarmed
    assert "crash point after_submit_before_record reached" in proc.log()
    # The restart found the work of the tx it never recorded on chain and did not resend it.
    found = re.search(r"no tx recorded; (\d+) already settled on chain", proc.log())
    assert found is not None and int(found[1]) >= 1, proc.log()
    assert_settled_once(outcome, plan, site, client, from_block, oracle.address)
    _assert_money(before, Ledger.read(protocol, site, treasury, credit_id), site, plan,
                  treasury, protocol)


def _skew(chain: Any, plan: dict[str, list[Session]]) -> int:
    """How far ahead of the wall clock the sessions may end (see run_stack)."""
    span = session_span_s(max(len(s) for s in plan.values()))
    ahead = int(chain.blocks.head.timestamp) - int(time.time())
    return max(ahead, 0) + span + 600
