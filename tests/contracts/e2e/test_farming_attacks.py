"""The reward-farming attacks of the proof-of-work issue, on anvil, against the protocol as it is
deployed: params/local.yaml through the governed deploy (the timelock holds every role, the
deployer none). The attacker controls a station key, an operator wallet, a second wallet as
driver and a third as referrer; it tries, and loses money every time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import ape
import pytest
from eth_utils import keccak

from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy import WAD, WEEK, geohash_bytes8
from wattnet.chain.eip712 import (
    Domain,
    address_of_private_key,
    receipt_struct_hash,
    receipt_tuple,
    sign_receipt,
    signed_tuple,
)
from wattnet.chain.evidence import commitment, over_power_id
from wattnet.chain.meters import (
    binding_signature,
    derived_p256_key,
    issue_certificate,
    new_p256_key,
    public_xy,
)
from wattnet.chain.readings import readings_of
from wattnet.chain.signer_binding import signer_proof
from wattnet.domain import SessionReceipt, station_id_for
from wattnet.sim.chargepoint.meter import SimMeter

USDC = 10**6
MIN_TARIFF = 50_000  # params/local.yaml registry.min_tariff_per_kwh: 0.05 USDC per kWh


@dataclass
class Farm:
    gov: Any  # GovernedProtocol
    timelock: Any  # impersonated: what a passed proposal does
    usdc: Any
    operator: Any
    second: Any  # the operator's wallet posing as a driver
    third: Any  # the operator's wallet posing as the driver's referrer
    issuer: Any
    oracle: Any  # holds ORACLE_ROLE (test account 6)
    domain: Domain


@pytest.fixture(scope="module")
def farm(project: Any, accounts: Any, chain: Any) -> Iterator[Farm]:
    from wattnet.chain.deploy_plan import deploy_local_governed

    g = deploy_local_governed(project, accounts)
    timelock = accounts[g.timelock.address]
    chain.set_balance(timelock.address, 10 * WAD)
    issuer = new_p256_key()  # a meter maker the DAO admitted
    g.registry.setMeterIssuer(*public_xy(issuer), True, sender=timelock)
    operator, second, third = accounts[2], accounts[3], accounts[4]
    # enough for the 2 MW claim too: min stake + 10 WATT per kW (params/local.yaml)
    g.watt.transfer(operator, 100_000 * WAD, sender=accounts[1])  # from the treasury
    g.watt.approve(g.staking, 100_000 * WAD, sender=operator)
    g.staking.stake(100_000 * WAD, sender=operator)
    usdc = g.stablecoins["USDC"]
    usdc.mint(second, 1_000 * USDC, sender=second)
    usdc.approve(g.credits, 1_000 * USDC, sender=second)
    g.credits.buy(1, 1_000 * USDC, second, sender=second)
    g.credits.setMandate(1, 100 * USDC, 1_000 * USDC, sender=second)
    g.credits.setConsent(1, operator, True, sender=second)  # its "own" operator's stations
    g.credits.setReferrer(third, sender=second)
    yield Farm(g, timelock, usdc, operator, second, third, issuer, accounts[6],
               Domain(chain.chain_id, g.credits.address))


def register(farm: Farm, cp: str, power_w: int, geohash: str = "u33db",
             cert_power_w: int | None = None) -> bytes:
    key = station_id_for(cp)
    farm.gov.registry.registerStation(
        (key, address_of_private_key(sign_key(cp)), power_w, 2, geohash_bytes8(geohash), "",
         b"", [1], [MIN_TARIFF]),
        *signer_proof(sign_key(cp), chain_id=farm.domain.chain_id,
                      registry=farm.gov.registry.address, station_id=key,
                      operator=farm.operator.address),
        sender=farm.operator)
    if cert_power_w:
        meter = meter_key(cp)
        cert = issue_certificate(farm.issuer, meter, serial=cp, model="M",
                                 max_power_w=cert_power_w)
        bind = binding_signature(meter, chain_id=farm.domain.chain_id,
                                 registry=farm.gov.registry.address, station_id=key,
                                 operator=farm.operator.address)
        farm.gov.registry.certifyMeter(key, cert.as_tuple(), *bind, sender=farm.operator)
    return key


def sign_key(cp: str) -> bytes:
    return keccak(text=f"farm-station-key:{cp}")


def meter_key(cp: str) -> Any:
    """The certified meter's P-256 key (the meter's own: it signs real readings)."""
    return derived_p256_key(f"farm-meter:{cp}".encode())


def sessions(farm: Farm, chain: Any, sid: bytes, cp: str, n: int, energy_wh: int,
             first: int = 1) -> int:
    """Settle n sessions of the second wallet at station `sid`, naming the third wallet as
    referrer; returns what the second wallet paid."""
    paid = 0
    meter = SimMeter(cp, 0, meter_key(cp))  # real energy through the certified meter
    for k in range(n):  # each settled within the local one-hour settlement window
        chain.pending_timestamp += 2 * 3_600
        end = chain.pending_timestamp - 60
        begin = meter.ocmf("B", end - 3_600)
        meter.advance(energy_wh)
        records = [begin, meter.ocmf("E", end)]
        r = SessionReceipt(sid, first + k, 1, farm.second.address, 1, energy_wh, end - 3_600,
                           end, energy_wh * MIN_TARIFF // 1000, farm.third.address,
                           readings_of(records, b"".join(public_xy(meter_key(cp)))).commitment())
        tx = farm.gov.credits.settlePacked(pack_tuples(
            [signed_tuple(r, sign_receipt(sign_key(cp), farm.domain, r))]), sender=farm.oracle)
        assert not list(tx.decode_logs(farm.gov.credits.ReceiptRejected))
        paid += r.cost
    return paid


def fresh_epoch(farm: Farm, chain: Any) -> int:
    """Mine the first block of the next epoch (sessions of a test stay inside it)."""
    rewards = farm.gov.rewards
    nxt = int(rewards.currentEpoch()) + 1
    chain.mine(timestamp=int(rewards.genesis()) + nxt * WEEK + 60)
    assert int(rewards.currentEpoch()) == nxt
    return nxt


def after_escrow(farm: Farm, chain: Any, epoch: int) -> None:
    chain.pending_timestamp = int(farm.gov.rewards.claimableAt(epoch)) + 60
    chain.mine()


def test_fake_sessions_without_a_certified_meter_earn_nothing(farm: Farm, chain: Any) -> None:
    """A 2 MW station declared with no meter behind it: its signed sessions are paid (the
    attacker pays itself) and earn no WATT at all."""
    sid = register(farm, "FARM-FAKE", 2_000_000)
    epoch = fresh_epoch(farm, chain)
    paid = sessions(farm, chain, sid, "FARM-FAKE", 3, 400_000)
    assert farm.gov.credits.stationEpoch(epoch, sid).weight == 0
    after_escrow(farm, chain, epoch)
    with ape.reverts(farm.gov.rewards.RewardsNothingToClaim):
        farm.gov.rewards.claim([epoch], [sid], sender=farm.operator)
    got_back = farm.gov.credits.owed(farm.operator, 1) + farm.gov.credits.owed(farm.third, 1)
    assert got_back < paid


def test_wash_trading_with_certified_meter_loses_money_even_at_100x(
        farm: Farm, chain: Any, project: Any) -> None:
    """Real energy through a certified meter, the minimum tariff, 85 % of the money back through
    its own wallets: the WATT is worth less than the rest, at the feed's price up to 100x."""
    g = farm.gov
    sid = register(farm, "FARM-WASH", 50_000, cert_power_w=50_000)
    epoch = fresh_epoch(farm, chain)
    owed0 = g.credits.owed(farm.operator, 1) + g.credits.owed(farm.third, 1)
    paid = sessions(farm, chain, sid, "FARM-WASH", 6, 45_000)
    back = g.credits.owed(farm.operator, 1) + g.credits.owed(farm.third, 1) - owed0
    after_escrow(farm, chain, epoch)
    feed = project.MockPriceFeed.deploy(18, sender=farm.operator)
    price = int(g.rewards.priceFloor()) * 100  # the market at 100x the launch floor
    feed.push(price, chain.pending_timestamp, sender=farm.operator)
    g.rewards.setPriceFeed(feed, 3_600, 2_000, sender=farm.timelock)  # governance wired it
    before = int(g.watt.balanceOf(farm.operator))
    g.rewards.claim([epoch], [sid], sender=farm.operator)
    minted = int(g.watt.balanceOf(farm.operator)) - before
    assert minted > 0
    watt_value = minted * price // WAD // 10**12  # in USDC units
    assert back + watt_value < paid


def test_over_power_receipt_is_slashed_by_anyone_and_its_epoch_forfeited(
        farm: Farm, chain: Any, accounts: Any) -> None:
    g = farm.gov
    sid = register(farm, "FARM-OVER", 150_000, cert_power_w=11_000)  # claims 150 kW, meter 11 kW
    chain.pending_timestamp += 2 * 3_600
    end = chain.pending_timestamp - 60
    fake = SessionReceipt(sid, 1, 1, farm.second.address, 1, 30_000, end - 3_600, end,
                          30_000 * MIN_TARIFF // 1000)
    stake = int(g.staking.stakeOf(farm.operator).active)
    prover = accounts[9]  # a watcher: commits the evidence first, then proves it
    g.staking.commitEvidence(commitment(over_power_id(receipt_struct_hash(fake)), prover.address),
                             sender=prover)
    g.staking.proveOverPower(receipt_tuple(fake), sign_receipt(sign_key("FARM-OVER"),
                                                               farm.domain, fake), sender=prover)
    assert int(g.staking.stakeOf(farm.operator).active) < stake
    assert int(g.watt.balanceOf(prover)) > 0  # the bounty
    assert g.rewards.forfeited((end - int(g.rewards.genesis())) // WEEK, sid)


def test_spoofed_rural_location_gets_no_boost_until_attested(farm: Farm) -> None:
    """params/local.yaml boosts `u0` (1.2x): declaring a location there lifts nothing until the
    slashing authority attests it, and withdrawing the attestation removes the boost."""
    g = farm.gov
    sid = register(farm, "FARM-RURAL", 22_000, geohash="u0bcde", cert_power_w=22_000)
    assert g.registry.getStation(sid).multiplierBps == 10_000
    g.registry.attestLocation(sid, True, sender=farm.timelock)
    assert g.registry.getStation(sid).multiplierBps == 12_000
    g.registry.attestLocation(sid, False, sender=farm.timelock)
    assert g.registry.getStation(sid).multiplierBps == 10_000
