"""The plain-web3 adapters against the real contracts on anvil: deployment records, the oracle's
SettlementChain and StationDirectory, the gateway's CreditSource."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest

from wattnet.chain.deployments import (
    Deployment,
    load_abi,
    load_deployment,
    load_deployment_file,
    save_deployment,
)
from wattnet.chain.eip712 import sign_receipt
from wattnet.chain.web3_client import ChainClient
from wattnet.domain import RejectReason, SignedReceipt, id_token_hash, station_id_for
from wattnet.errors import ChainError, DeploymentNotFound
from wattnet.gateway.credits import CreditSourceUnavailable
from wattnet.gateway.credits_chain import ChainCreditSource
from wattnet.oracle.chain import SettlementChain, TxStatus
from wattnet.oracle.chain_web3 import (
    RegistryStationDirectory,
    Web3SettlementChain,
    oracle_chain,
    station_directory,
)
from wattnet.oracle.config import OracleConfig
from wattnet.oracle.directory import StationDirectory
from wattnet.oracle.errors import OracleConfigError

USDC = 10**6


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def _mined(sc: Web3SettlementChain, tx_hash: bytes) -> TxStatus:
    """anvil mines right after accepting a tx, but the answer to the send comes first."""
    sc.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=10)  # type: ignore[arg-type]
    return sc.tx_status(tx_hash)


@pytest.fixture(scope="module")
def settlement_chain(oracle_config: OracleConfig) -> Web3SettlementChain:
    return oracle_chain(oracle_config)


@pytest.fixture(scope="module")
def signed(domain: Any, make_receipt: Any) -> Any:
    def make(station: Any, driver: Any, **kw: Any) -> SignedReceipt:
        receipt = make_receipt(station, driver, **kw)
        return SignedReceipt(receipt, sign_receipt(station.key, domain, receipt))

    return make


# ---------------------------------------------------------------- deployments
def test_deployment__round_trips_and_names_what_is_missing(deployment: Deployment,
                                                           tmp_path: Path) -> None:
    path = save_deployment(deployment, tmp_path)
    assert path == tmp_path / "deployments" / "ethereum" / "local.json"
    assert load_deployment("ethereum", "local", tmp_path) == deployment
    assert load_deployment() == deployment  # $WATTNET_DEPLOYMENT
    assert deployment.compiler.startswith("0.8.30")
    with pytest.raises(DeploymentNotFound, match="no deployment record"):
        load_deployment("ethereum", "sepolia", tmp_path)
    with pytest.raises(DeploymentNotFound, match="Timelock is not in"):
        deployment.address("Timelock")
    (tmp_path / "bad.json").write_text('{"ecosystem": "x"}')
    with pytest.raises(ChainError, match="malformed"):
        load_deployment_file(tmp_path / "bad.json")


def test_load_abi__missing_manifest_says_compile(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    assert any(e.get("name") == "settleSigned" for e in load_abi("EnergyCredits"))
    monkeypatch.setenv("WATTNET_ARTIFACTS", str(tmp_path / "nothing.json"))
    with pytest.raises(ChainError, match="ape compile"):
        load_abi("EnergyCredits")


def test_client_check__refuses_a_config_for_another_contract(client: ChainClient,
                                                             deployment: Deployment) -> None:
    client.check(deployment.chain_id, deployment.address("EnergyCredits"))
    with pytest.raises(ChainError, match="is not the deployment's EnergyCredits"):
        client.check(settlement=deployment.address("StationRegistry"))
    with pytest.raises(ChainError, match="chain_id 1 "):
        client.check(chain_id=1)


def test_factories__wrong_passphrase_or_contract_fail_clearly(
        oracle_config: OracleConfig, deployment: Deployment,
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(oracle_chain(oracle_config), SettlementChain)
    assert isinstance(station_directory(oracle_config), StationDirectory)
    other = dataclasses.replace(oracle_config,
                                settlement_contract=deployment.address("StationRegistry"))
    with pytest.raises(ChainError, match="not the deployment's EnergyCredits"):
        oracle_chain(other)
    monkeypatch.setenv(oracle_config.keystore_passphrase_env, "wrong")
    with pytest.raises(OracleConfigError, match="cannot decrypt"):
        oracle_chain(oracle_config)


# ---------------------------------------------------------------- directory
def test_directory__reads_station_with_meter_key(client: ChainClient, create_station: Any,
                                                 operator: Any, registry: Any) -> None:
    station = create_station(operator, cp_id="CP-ADAPT-1", rated_power_w=11_000, connectors=3,
                             geohash="u33db")
    meter_key = bytes(range(64))
    registry.setMeterKey(station.station_id, meter_key, sender=operator)
    info = RegistryStationDirectory(client).station(station.station_id)
    assert info is not None
    assert (info.operator, info.signer) == (operator.address, station.signer)
    assert (info.rated_power_w, info.connector_count, info.active) == (11_000, 3, True)
    assert (info.geohash, info.meter_public_key) == ("u33db", meter_key)
    assert RegistryStationDirectory(client).station(station_id_for("CP-NOWHERE")) is None
    other = create_station(operator, cp_id="CP-ADAPT-2")
    many = RegistryStationDirectory(client).stations(  # one JSON-RPC batch for all three
        [station.station_id, station_id_for("CP-NOWHERE"), other.station_id])
    assert many == {station.station_id: info, station_id_for("CP-NOWHERE"): None,
                    other.station_id: RegistryStationDirectory(client).station(other.station_id)}


# ---------------------------------------------------------------- credit source
def test_credit_source__account_in_smallest_units(client: ChainClient, create_driver: Any,
                                                  driver2: Any, credits: Any,
                                                  credit_id: int) -> None:
    create_driver(driver2, credits_amount=40 * USDC, per_session_cap=12_345_678,
                  daily_cap=30 * USDC)
    token = "04ADAPT01"
    credits.bindIdToken(id_token_hash(token), sender=driver2)
    source = ChainCreditSource(client, settlement=client.settlement.address)
    acc = _run(source.account(driver2.address, credit_id))
    mandate = credits.mandateOf(driver2, credit_id)
    assert acc.balance == credits.balanceOf(driver2, credit_id) == 40 * USDC
    assert acc.per_session_cap == mandate.perSessionCap == 12_340_000  # whole cents
    assert acc.daily_cap == mandate.dailyCap == 30 * USDC
    assert (acc.spent_today, acc.valid_until) == (0, 0)
    assert _run(source.driver_for_id_token(id_token_hash(token))) == driver2.address
    assert _run(source.driver_for_id_token(id_token_hash("04UNBOUND"))) is None


def test_credit_source__consent_any_station_or_the_sites_operator(
        client: ChainClient, create_driver: Any, driver: Any, credits: Any, operator: Any,
        operator2: Any, credit_id: int) -> None:
    create_driver(driver, any_station=False)
    site = ChainCreditSource(client, operator=operator.address)
    anywhere = ChainCreditSource(client)  # no site operator configured
    assert not _run(site.account(driver.address, credit_id)).may_charge
    credits.setConsent(credit_id, operator, True, sender=driver)
    assert _run(site.account(driver.address, credit_id)).may_charge
    assert not _run(anywhere.account(driver.address, credit_id)).may_charge
    assert not _run(ChainCreditSource(client, operator=operator2.address).account(
        driver.address, credit_id)).may_charge
    credits.setConsent(credit_id, "0x" + "00" * 20, True, sender=driver)  # any station
    assert _run(anywhere.account(driver.address, credit_id)).may_charge


def test_credit_source__node_down_is_unavailable(deployment: Deployment) -> None:
    down = ChainClient("http://127.0.0.1:9", deployment, timeout_s=2)
    source = ChainCreditSource(down)
    with pytest.raises(CreditSourceUnavailable):
        _run(source.account("0x" + "11" * 20, 1))
    with pytest.raises(CreditSourceUnavailable):
        _run(source.driver_for_id_token(bytes(32)))


# ---------------------------------------------------------------- settlement chain
def test_settlement_chain__settles_and_reports_rejections(
        settlement_chain: Web3SettlementChain, create_station: Any, create_driver: Any,
        operator: Any, driver: Any, signed: Any, chain: Any, oracle: Any, credits: Any) -> None:
    station = create_station(operator)
    create_driver(driver)
    chain.pending_timestamp += 3_600 + 120
    good = signed(station, driver, energy_wh=7_000)
    bad = signed(station, driver, energy_wh=1_000, cost=1)  # cost does not match the tariff
    batch = sorted([good, bad], key=lambda s: (s.receipt.station_id, s.receipt.session_id))
    nonce = settlement_chain.next_nonce()
    assert nonce == oracle.nonce
    tx_hash = settlement_chain.submit(batch, nonce)
    status = _mined(settlement_chain, tx_hash)
    assert (status.known, status.mined, status.success) == (True, True, True)
    assert status.confirmations == settlement_chain.head_block() - (status.block or 0) + 1 >= 1
    assert settlement_chain.next_nonce() == nonce + 1
    assert settlement_chain.is_settled(station.station_id, good.receipt.session_id)
    assert not settlement_chain.is_settled(station.station_id, bad.receipt.session_id)
    assert settlement_chain.rejected_in_tx(tx_hash) == [
        (station.station_id, bad.receipt.session_id, RejectReason.COST_MISMATCH)]
    # What the gateway then sees: the day's spending in smallest units, whole cap units.
    account = _run(ChainCreditSource(settlement_chain.client).account(driver.address,
                                                                      good.receipt.credit_id))
    unit = int(credits.capUnitOf(good.receipt.credit_id))
    block_day = int(chain.blocks[status.block].timestamp) // 86_400
    assert (account.day, account.spent_today) == (block_day, -(-good.receipt.cost // unit) * unit)
    assert account.balance == 100 * USDC - good.receipt.cost
    again = settlement_chain.submit([good], settlement_chain.next_nonce())
    assert _mined(settlement_chain, again).success
    assert settlement_chain.rejected_in_tx(again) == [
        (station.station_id, good.receipt.session_id, RejectReason.ALREADY_SETTLED)]
    assert not settlement_chain.tx_status(os.urandom(32)).known


def test_settlement_chain__fill_nonce_replaces_the_pending_tx(
        settlement_chain: Web3SettlementChain, create_station: Any, operator: Any,
        driver: Any, signed: Any, chain: Any, oracle: Any) -> None:
    station = create_station(operator)
    chain.pending_timestamp += 3_600 + 120
    receipt = signed(station, driver, energy_wh=2_000)
    nonce = settlement_chain.next_nonce()
    chain.provider.auto_mine = False
    try:
        pending = settlement_chain.submit([receipt], nonce)
        st = settlement_chain.tx_status(pending)
        assert (st.known, st.mined) == (True, False)
        assert settlement_chain.next_nonce() == nonce  # mined count: pending excluded
        replaced = settlement_chain.w3.eth.get_transaction(pending)  # type: ignore[arg-type]
        filler = settlement_chain.fill_nonce(nonce)  # replaces: needs (and pays) a fee bump
        chain.mine()
    finally:
        chain.provider.auto_mine = True
    assert settlement_chain.tx_status(filler).mined
    assert not settlement_chain.tx_status(pending).known
    assert settlement_chain.next_nonce() == nonce + 1
    assert not settlement_chain.is_settled(station.station_id, receipt.receipt.session_id)
    tx = settlement_chain.w3.eth.get_transaction(filler)  # type: ignore[arg-type]
    assert (tx["to"], tx["value"], tx["nonce"]) == (oracle.address, 0, nonce)
    for fee in ("maxFeePerGas", "maxPriorityFeePerGas"):  # what geth demands of a replacement
        assert tx[fee] * 10 >= replaced[fee] * 11, fee


def test_settlement_chain__legacy_gas_price_without_base_fee(
        settlement_chain: Web3SettlementChain, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settlement_chain.w3.eth, "get_block", lambda *a, **k: {})  # pre-London
    nonce, price = settlement_chain.next_nonce(), settlement_chain.w3.eth.gas_price
    filler = settlement_chain.fill_nonce(nonce)
    assert _mined(settlement_chain, filler).success
    tx = settlement_chain.w3.eth.get_transaction(filler)  # type: ignore[arg-type]
    assert (tx["type"], tx["nonce"]) == (0, nonce)
    assert tx["gasPrice"] == price


def test_settlement_chain__without_estimate_uses_the_worst_case_bound(
        oracle_config: OracleConfig, create_station: Any, create_driver: Any, operator: Any,
        driver: Any, signed: Any, chain: Any) -> None:
    """``estimate_gas: false`` (local chains): the gas limit is the per-receipt bound, the batch
    settles all the same (a revert would show in the mined receipt, as for any tx)."""
    from dataclasses import replace

    from wattnet.oracle.chain_web3 import BASE_GAS, GAS_PER_RECEIPT

    sc = oracle_chain(replace(oracle_config, estimate_gas=False))
    station = create_station(operator)
    create_driver(driver)
    chain.pending_timestamp += 3_600 + 120
    batch = sorted([signed(station, driver, energy_wh=e) for e in (5_000, 6_000)],
                   key=lambda s: (s.receipt.station_id, s.receipt.session_id))
    tx_hash = sc.submit(batch, sc.next_nonce())
    assert _mined(sc, tx_hash).success
    tx = sc.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    assert tx["gas"] == BASE_GAS + GAS_PER_RECEIPT * 2
    assert all(sc.is_settled(s.receipt.station_id, s.receipt.session_id) for s in batch)


@pytest.mark.parametrize("stations", [1, 5])
def test_settlement_chain__worst_case_bound_covers_fresh_state(
        oracle_config: OracleConfig, create_station: Any, create_driver: Any, signed: Any,
        credits: Any, accounts: Any, governor: Any, chain: Any, stations: int) -> None:
    """Issue 18: with ``estimate_gas: false`` the bound must cover the costliest batches, on
    fresh state: every station, operator, driver, referrer and session-bitmap slot written for
    the first time, one receipt a station, each with a referrer and a readings commitment. Fails
    as soon as the contracts outgrow the bound."""
    from dataclasses import replace

    from wattnet.oracle.chain_web3 import BASE_GAS, GAS_PER_RECEIPT

    def fresh() -> Any:
        acct = accounts.generate_test_account()
        governor.transfer(acct, 10 * 10**18)
        return acct

    sc = oracle_chain(replace(oracle_config, estimate_gas=False))
    batch = []
    for _ in range(stations):
        station, driver, referrer = create_station(fresh()), fresh(), fresh()
        create_driver(driver)
        credits.setReferrer(referrer, sender=driver)
        batch.append((station, driver, referrer))
    chain.pending_timestamp += 3_600 + 120
    signed_batch = sorted((signed(s, d, referrer=r.address) for s, d, r in batch),
                          key=lambda s: (s.receipt.station_id, s.receipt.session_id))
    tx_hash = sc.submit(signed_batch, sc.next_nonce())
    status = _mined(sc, tx_hash)
    used = sc.w3.eth.get_transaction_receipt(tx_hash)["gasUsed"]  # type: ignore[arg-type]
    bound = BASE_GAS + GAS_PER_RECEIPT * stations
    assert status.success and used <= bound, f"{used} gas used against a bound of {bound}"
    print(f"fresh-state batch of {stations}: {used} gas, bound {bound}")
