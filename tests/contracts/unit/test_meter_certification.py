"""StationRegistry, proof of physical work: certified meters, uncertified weight, attested regions.

A meter key is certified by an issuer governance admitted (P-256, verified on chain); it binds to
one station at a time and caps the power settlement and rewards use. Declared power, location and
meter keys are claims: they earn nothing until certified or attested.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import ape
import pytest
from eth_utils import keccak

from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy import geohash_bytes8
from wattnet.chain.meters import (
    P256_N,
    binding_signature,
    issue_certificate,
    new_p256_key,
    public_xy,
)

NO_BIND = (b"\x00" * 32, b"\x00" * 32)  # checks that fail before the binding is looked at


@pytest.fixture
def station(create_station: Any, operator: Any) -> Any:
    return create_station(operator, rated_power_w=150_000, certified=False)


def test_certify_meter__binds_key_and_caps_power_at_the_certificate(
        station: Any, certify: Any, registry: Any) -> None:
    cert = certify(station, max_power_w=50_000)
    s = registry.getStation(station.station_id)
    assert s.certified and s.ratedPowerW == 50_000  # the declared 150 kW is a claim
    assert bytes(registry.meterPublicKey(station.station_id)) == cert.meter_key
    assert registry.stationOfMeter(keccak(cert.meter_key)) == station.station_id
    m = registry.meterOf(station.station_id)
    assert (m.maxPowerW, m.declaredPowerW, bytes(m.issuer)) == (50_000, 150_000,
                                                                 cert.issuer_key_hash)


def test_certify_meter__certificate_above_declared_power_keeps_declared(
        station: Any, certify: Any, registry: Any) -> None:
    certify(station, max_power_w=400_000)
    assert registry.getStation(station.station_id).ratedPowerW == 150_000


def test_certify_meter__unknown_issuer_reverts(station: Any, registry: Any) -> None:
    rogue = new_p256_key()
    cert = issue_certificate(rogue, new_p256_key(), serial="X", model="M", max_power_w=22_000)
    with ape.reverts(registry.RegistryUnknownIssuer, issuer=cert.issuer_key_hash):
        registry.certifyMeter(station.station_id, cert.as_tuple(), *NO_BIND,
                              sender=station.operator)
    assert not registry.getStation(station.station_id).certified


@pytest.mark.parametrize("field", ["max_power_w", "serial", "key_x"])
def test_certify_meter__any_changed_field_breaks_the_signature(
        station: Any, registry: Any, field: str, meter_issuer: Any) -> None:
    cert = issue_certificate(meter_issuer, new_p256_key(), serial="S", model="M",
                             max_power_w=22_000)
    changed = {"max_power_w": 2_000_000, "serial": b"T".ljust(32, b"\x00"),
               "key_x": new_p256_key().public_key().public_numbers().x.to_bytes(32, "big")}
    forged = replace(cert, **{field: changed[field]})
    with ape.reverts(registry.RegistryBadCertificate):
        registry.certifyMeter(station.station_id, forged.as_tuple(), *NO_BIND,
                              sender=station.operator)


def test_certify_meter__high_s_signature_rejected(station: Any, registry: Any,
                                                  meter_issuer: Any) -> None:
    cert = issue_certificate(meter_issuer, new_p256_key(), serial="S", model="M",
                             max_power_w=22_000)
    high = replace(cert, s=(P256_N - int.from_bytes(cert.s, "big")).to_bytes(32, "big"))
    with ape.reverts(registry.RegistryBadCertificate):
        registry.certifyMeter(station.station_id, high.as_tuple(), *NO_BIND,
                              sender=station.operator)


def test_certify_meter__only_the_operator(station: Any, registry: Any, attacker: Any,
                                          meter_issuer: Any) -> None:
    cert = issue_certificate(meter_issuer, new_p256_key(), serial="S", model="M",
                             max_power_w=22_000)
    with ape.reverts(registry.RegistryNotOperator):
        registry.certifyMeter(station.station_id, cert.as_tuple(), *NO_BIND, sender=attacker)


def test_certify_meter__one_meter_one_station_until_released(
        create_station: Any, operator: Any, registry: Any, certify: Any) -> None:
    a = create_station(operator, certified=False)
    b = create_station(operator, certified=False)
    meter = new_p256_key()
    cert = certify(a, meter=meter)
    with ape.reverts(registry.RegistryMeterInUse, stationId=a.station_id):
        certify(b, meter=meter)
    registry.setMeterKey(a.station_id, b"", sender=operator)  # release: a is uncertified again
    assert not registry.getStation(a.station_id).certified
    assert registry.getStation(a.station_id).ratedPowerW == a.rated_power_w
    certify(b, meter=meter)
    assert registry.stationOfMeter(keccak(cert.meter_key)) == b.station_id


def test_certify_meter__a_copied_certificate_cannot_squat_someone_elses_meter(
        create_station: Any, operator: Any, operator2: Any, registry: Any, chain: Any,
        meter_issuer: Any, certify: Any) -> None:
    """Certificates are public. Another operator who front-runs the meter's owner with its
    certificate cannot bind the meter without the meter key's signature for its own station,
    and a binding signed for the owner's station does not fit another station or operator."""
    owner = create_station(operator, certified=False)
    squatter = create_station(operator2, certified=False)
    meter = new_p256_key()
    cert = issue_certificate(meter_issuer, meter, serial="S-1", model="M", max_power_w=22_000)
    for_owner = binding_signature(meter, chain_id=chain.chain_id, registry=registry.address,
                                  station_id=owner.station_id, operator=operator.address)
    with ape.reverts(registry.RegistryBadMeterBinding, stationId=squatter.station_id):
        registry.certifyMeter(squatter.station_id, cert.as_tuple(), *for_owner, sender=operator2)
    with ape.reverts(registry.RegistryBadMeterBinding, stationId=squatter.station_id):
        registry.certifyMeter(squatter.station_id, cert.as_tuple(), *NO_BIND, sender=operator2)
    certify(owner, meter=meter)  # the owner, with its meter's signature, binds it
    assert registry.getStation(owner.station_id).certified


def test_set_meter_key__declared_key_releases_certification(
        station: Any, certify: Any, registry: Any) -> None:
    certify(station, max_power_w=50_000)
    tx = registry.setMeterKey(station.station_id, b"\x01" * 64, sender=station.operator)
    s = registry.getStation(station.station_id)
    assert not s.certified and s.ratedPowerW == 150_000
    assert len(list(tx.decode_logs(registry.MeterReleased))) == 1


def test_revoke_certification__after_governance_removes_the_issuer(
        station: Any, certify: Any, registry: Any, governor: Any, attacker: Any,
        meter_issuer: Any) -> None:
    certify(station)
    with ape.reverts(registry.RegistryIssuerStillAdmitted):
        registry.revokeCertification(station.station_id, sender=attacker)
    registry.setMeterIssuer(*public_xy(meter_issuer), False, sender=governor)
    registry.revokeCertification(station.station_id, sender=attacker)  # anyone may
    assert not registry.getStation(station.station_id).certified
    with ape.reverts(registry.RegistryNotCertified):
        registry.revokeCertification(station.station_id, sender=attacker)


def test_set_meter_issuer__governance_only(registry: Any, attacker: Any) -> None:
    with ape.reverts():
        registry.setMeterIssuer(*public_xy(new_p256_key()), True, sender=attacker)


# ---------------------------------------------------------------- reward weight
@pytest.fixture
def settle_one(credits: Any, oracle: Any, sign: Any, make_receipt: Any, chain: Any) -> Any:
    def settle(st: Any, driver: Any, energy_wh: int = 10_000) -> None:
        chain.pending_timestamp += 3_700
        receipt = make_receipt(st, driver, energy_wh=energy_wh)
        tx = credits.settlePacked(pack_tuples([sign(receipt, st.key)]), sender=oracle)
        assert not list(tx.decode_logs(credits.ReceiptRejected))

    return settle


def test_uncertified_station__paid_but_earns_no_reward_weight(
        create_station: Any, create_driver: Any, operator: Any, driver: Any, credits: Any,
        settle_one: Any, rewards: Any, credit_id: int) -> None:
    """A 2 MW claim with no meter behind it: the sessions settle (the operator is paid) and
    earn nothing; this is the fake-session farm of the issue."""
    fake = create_station(operator, rated_power_w=2_000_000, certified=False)
    create_driver(driver)
    owed = credits.owed(operator, credit_id)
    settle_one(fake, driver, 10_000)
    epoch = rewards.currentEpoch()
    assert credits.owed(operator, credit_id) > owed
    assert credits.stationEpoch(epoch, fake.station_id).weight == 0
    assert credits.stationEpoch(epoch, fake.station_id).rewardedWh == 10_000


def test_uncertified_reward_bps__governed_factor_bounded(
        create_station: Any, create_driver: Any, operator: Any, driver: Any, credits: Any,
        settle_one: Any, rewards: Any, registry: Any, governor: Any) -> None:
    with ape.reverts(registry.RegistryParameterOutOfBounds):
        registry.setUncertifiedRewardBps(2_001, sender=governor)
    registry.setUncertifiedRewardBps(2_000, sender=governor)
    st = create_station(operator, certified=False)
    create_driver(driver)
    settle_one(st, driver, 10_000)
    assert credits.stationEpoch(rewards.currentEpoch(), st.station_id).weight == 2_000


def test_certified_station__energy_cap_uses_the_certified_power(
        create_station: Any, create_driver: Any, operator: Any, driver: Any, credits: Any,
        sign: Any, make_receipt: Any, oracle: Any, chain: Any, certify: Any) -> None:
    st = create_station(operator, rated_power_w=150_000, certified=False)
    certify(st, max_power_w=11_000)
    create_driver(driver)
    chain.pending_timestamp += 3_700
    receipt = make_receipt(st, driver, energy_wh=12_000, duration=3_600)  # 12 kWh in 1 h > 11 kW
    tx = credits.settlePacked(pack_tuples([sign(receipt, st.key)]), sender=oracle)
    [log] = tx.decode_logs(credits.ReceiptRejected)
    assert int(log.reason) == 6  # EnergyImplausible


# ---------------------------------------------------------------- regions
def test_region_boost__applies_only_after_the_location_is_attested(
        create_station: Any, operator: Any, registry: Any, governor: Any, attacker: Any) -> None:
    registry.setRegionMultiplier(geohash_bytes8("u0"), 20_000, sender=governor)
    st = create_station(operator, geohash="u0bcd")
    assert registry.getStation(st.station_id).multiplierBps == 10_000
    with ape.reverts():
        registry.attestLocation(st.station_id, True, sender=attacker)
    registry.attestLocation(st.station_id, True, sender=governor)
    assert registry.getStation(st.station_id).multiplierBps == 20_000
    registry.attestLocation(st.station_id, False, sender=governor)  # a spoof found later
    assert registry.getStation(st.station_id).multiplierBps == 10_000


def test_region_penalty__applies_without_attestation(
        create_station: Any, operator: Any, registry: Any, governor: Any) -> None:
    registry.setRegionMultiplier(geohash_bytes8("gcpv"), 5_000, sender=governor)
    st = create_station(operator, geohash="gcpvj0")
    assert registry.getStation(st.station_id).multiplierBps == 5_000


def test_region_longest_prefix__rural_cell_never_lifts_the_city_inside_it(
        create_station: Any, operator: Any, registry: Any, governor: Any) -> None:
    registry.setRegionMultiplier(geohash_bytes8("u0"), 20_000, sender=governor)  # rural, boosted
    registry.setRegionMultiplier(geohash_bytes8("u09t"), 10_000, sender=governor)  # the city
    city = create_station(operator, geohash="u09tvw")
    rural = create_station(operator, geohash="u0bcde")
    for st in (city, rural):
        registry.attestLocation(st.station_id, True, sender=governor)
    assert registry.getStation(city.station_id).multiplierBps == 10_000
    assert registry.getStation(rural.station_id).multiplierBps == 20_000


# ---------------------------------------------------------------- stake grows with capacity
KW = 10**18 * 10  # 10 WATT per kW


def test_stake__grows_with_the_power_settlement_uses(
        create_station: Any, operator: Any, registry: Any, staking: Any, governor: Any,
        certify: Any, fund_operator: Any) -> None:
    staking.setStakePerKw(KW, sender=governor)
    st = create_station(operator, rated_power_w=150_000, certified=False)  # 150 kW declared
    s = staking.stakeOf(operator)
    assert s.bondedKw == 150
    need_declared = staking.minStakePerStation() + 150 * KW
    assert s.active >= need_declared
    certify(st, max_power_w=22_000)  # the meter says 22 kW: the requirement follows
    assert staking.stakeOf(operator).bondedKw == 22
    # the operator can now unbond what the 128 kW it no longer claims needed
    free = int(staking.stakeOf(operator).active) - (staking.minStakePerStation() + 22 * KW)
    staking.requestUnbond(free, sender=operator)
    # releasing the meter claims 150 kW again: short of stake, the operator is suspended
    registry.setMeterKey(st.station_id, b"", sender=operator)
    assert staking.stakeOf(operator).bondedKw == 150
    assert registry.suspended(operator)
    assert not registry.settlementView(st.station_id, 1).usable
    fund_operator(operator, 128 * KW)
    assert not registry.suspended(operator)


def test_stake__registration_needs_the_capacity_stake(
        create_station: Any, operator2: Any, staking: Any, governor: Any, registry: Any,
        fund_operator: Any) -> None:
    staking.setStakePerKw(KW, sender=governor)
    fund_operator(operator2, int(staking.minStakePerStation()))  # enough for 0 kW only
    with ape.reverts(staking.StakingInsufficientStake):
        create_station(operator2, rated_power_w=50_000, stake=False, certified=False)


def test_set_stake_per_kw__bounded(staking: Any, governor: Any) -> None:
    with ape.reverts(staking.StakingParameterOutOfBounds):
        staking.setStakePerKw(int(staking.MAX_STAKE_PER_KW()) + 1, sender=governor)
