"""Squatting (issue 11 item 5): one stake, reused, must not lock station ids or signer keys.

The attack: stake once, register the victim's station id and signer key, deactivate, unbond,
withdraw, repeat with the same stake. Now a signer key is bound only with its own signature over
(chain, registry, station id, operator), and a station left inactive for `releaseDelay` returns
its id (and its keys) to whoever registers next; nothing of the old registration (keys, meters,
tariffs, attestation, lock, rewards) carries over to the new one.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest
from eth_utils.crypto import keccak

from wattnet.chain import roles
from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy import DAY, geohash_bytes8
from wattnet.chain.eip712 import (
    SECP256K1_N,
    address_of_private_key,
    receipt_tuple,
    sign_receipt,
)
from wattnet.chain.signer_binding import signer_proof
from wattnet.domain import station_id_for

VICTIM_KEY = b"\x5a" * 32
ATTACKER_KEY = b"\xa5" * 32
VICTIM_CP = "VICTIM-CP-1"
NO_PROOF = (bytes(32), bytes(32))


@pytest.fixture
def station_params(credit_id: int) -> Any:
    def make(cp: str = VICTIM_CP, key: bytes = VICTIM_KEY, *, signer: str | None = None,
             credit_ids: list[int] | None = None) -> tuple[Any, ...]:
        ids = credit_ids or [credit_id]
        return (station_id_for(cp), signer or address_of_private_key(key), 22_000, 2,
                geohash_bytes8("u33db"), f"ipfs://{cp}", b"", ids, [350_000] * len(ids))

    return make


@pytest.fixture
def staked(fund_operator: Any, staking: Any) -> Any:
    def stake(who: Any, stations: int = 1) -> None:
        fund_operator(who, stations * (staking.minStakePerStation() + 22 * staking.stakePerKw()))

    return stake


@pytest.fixture
def squat(registry: Any, staking: Any, chain: Any, attacker: Any, staked: Any,
          station_params: Any, prove_signer: Any) -> Any:
    """The attacker takes the victim's station id with its own key, switches it off, unbonds and
    withdraws its whole stake: returns (station id, when the id is released)."""

    def run() -> tuple[bytes, int]:
        staked(attacker)
        p = station_params(key=ATTACKER_KEY)
        registry.registerStation(p, *prove_signer(ATTACKER_KEY, p[0], attacker), sender=attacker)
        registry.deactivateStation(p[0], sender=attacker)
        released_at = chain.blocks.head.timestamp + registry.releaseDelay()
        staking.requestUnbond(staking.stakeOf(attacker).active, sender=attacker)
        chain.pending_timestamp += staking.unbondingDelay()
        staking.withdraw(sender=attacker)
        assert staking.stakeOf(attacker).active + staking.stakeOf(attacker).unbonding == 0
        return p[0], released_at

    return run


# ---------------------------------------------------------------- proof of possession
def test_register_station__a_victims_signer_key_without_its_signature_reverts(
        registry: Any, attacker: Any, staked: Any, station_params: Any,
        prove_signer: Any) -> None:
    staked(attacker)
    p = station_params(cp="ATTACKER-CP", signer=address_of_private_key(VICTIM_KEY))
    for proof in (NO_PROOF, prove_signer(ATTACKER_KEY, p[0], attacker)):
        with ape.reverts(registry.RegistryBadSignerProof, stationId=p[0], signer=p[1]):
            registry.registerStation(p, *proof, sender=attacker)
    assert registry.stationOfSigner(p[1]) == bytes(32)
    assert registry.getStation(p[0]).operator == "0x" + "00" * 20


@pytest.mark.parametrize("replay", ["chain", "registry", "operator", "station"])
def test_register_station__a_proof_replayed_from_another_context_reverts(
        registry: Any, chain: Any, operator: Any, attacker: Any, staked: Any,
        station_params: Any, replay: str) -> None:
    """The victim's key signed for one (chain, registry, operator, station): the attacker, who
    saw the proof, cannot use it in any other context, its own operator account included."""
    staked(operator)
    staked(attacker)
    p = station_params()
    signed_for = {"chain_id": chain.chain_id, "registry": registry.address,
                  "station_id": p[0], "operator": operator.address}
    sender = operator
    if replay == "chain":
        signed_for["chain_id"] = chain.chain_id + 1
    elif replay == "registry":
        signed_for["registry"] = "0x" + "11" * 20
    elif replay == "operator":
        sender = attacker  # the victim's own proof, sent by someone else
    else:
        signed_for["station_id"] = station_id_for("ANOTHER-CP")
    proof = signer_proof(VICTIM_KEY, **signed_for)
    with ape.reverts(registry.RegistryBadSignerProof, stationId=p[0], signer=p[1]):
        registry.registerStation(p, *proof, sender=sender)


def test_register_station__malleable_high_s_proof_reverts(
        registry: Any, chain: Any, operator: Any, staked: Any, station_params: Any,
        prove_signer: Any) -> None:
    staked(operator)
    p = station_params()
    r, vs = prove_signer(VICTIM_KEY, p[0], operator)
    v, s = int.from_bytes(vs, "big") >> 255, int.from_bytes(vs, "big") & ((1 << 255) - 1)
    flipped = (((1 - v) << 255) | (SECP256K1_N - s)).to_bytes(32, "big")  # same key, high s
    with ape.reverts(registry.RegistryBadSignerProof, stationId=p[0], signer=p[1]):
        registry.registerStation(p, r, flipped, sender=operator)
    registry.registerStation(p, r, vs, sender=operator)
    assert registry.stationOfSigner(p[1]) == p[0]


def test_rotate_signer__the_new_key_must_prove_possession(
        registry: Any, operator: Any, create_station: Any, prove_signer: Any) -> None:
    st = create_station(operator)
    victim = address_of_private_key(VICTIM_KEY)
    with ape.reverts(registry.RegistryBadSignerProof, stationId=st.station_id, signer=victim):
        registry.rotateSigner(st.station_id, victim, *prove_signer(st.key, st.station_id, operator),
                              sender=operator)
    registry.rotateSigner(st.station_id, victim,
                          *prove_signer(VICTIM_KEY, st.station_id, operator), sender=operator)
    assert registry.getStation(st.station_id).signer == victim


# ---------------------------------------------------------------- ids come back
def test_squat__deactivate_and_withdraw_no_longer_locks_the_victim_out(
        registry: Any, chain: Any, operator: Any, attacker: Any, staked: Any,
        station_params: Any, prove_signer: Any, squat: Any) -> None:
    sid, released_at = squat()
    staked(operator)
    p = station_params()
    proof = prove_signer(VICTIM_KEY, sid, operator)
    assert registry.releasableAt(sid) == released_at
    chain.pending_timestamp = released_at - 60
    with ape.reverts(registry.RegistryNotReleasable, stationId=sid, releasableAt=released_at):
        registry.registerStation(p, *proof, sender=operator)
    chain.pending_timestamp = released_at
    tx = registry.registerStation(p, *proof, sender=operator)
    [log] = tx.decode_logs(registry.StationReleased)
    assert (log.stationId, log.operator, log.by) == (sid, attacker.address, operator.address)
    s = registry.getStation(sid)
    assert (s.operator, s.signer, s.active) == (operator.address, p[1], True)
    assert registry.stationOfSigner(address_of_private_key(ATTACKER_KEY)) == bytes(32)
    assert registry.stationOfSigner(p[1]) == sid


def test_release__never_while_active_nor_before_the_delay(
        registry: Any, chain: Any, operator: Any, attacker: Any, create_station: Any) -> None:
    st = create_station(operator)
    with ape.reverts(registry.RegistryNotReleasable, stationId=st.station_id, releasableAt=0):
        registry.releaseStation(st.station_id, sender=attacker)
    registry.deactivateStation(st.station_id, sender=operator)
    at = chain.blocks.head.timestamp + registry.releaseDelay()
    chain.pending_timestamp = at - 1
    with ape.reverts(registry.RegistryNotReleasable, stationId=st.station_id, releasableAt=at):
        registry.releaseStation(st.station_id, sender=attacker)
    # Switching back on in time keeps the station (with its stake bonded again).
    registry.activateStation(st.station_id, sender=operator)
    assert registry.releasableAt(st.station_id) == 0
    chain.pending_timestamp = at + DAY
    with ape.reverts(registry.RegistryNotReleasable, stationId=st.station_id, releasableAt=0):
        registry.releaseStation(st.station_id, sender=attacker)
    with ape.reverts(registry.RegistryUnknownStation, stationId=station_id_for("NOPE")):
        registry.releaseStation(station_id_for("NOPE"), sender=attacker)


def test_release__keys_return_to_their_holder(
        registry: Any, chain: Any, operator: Any, attacker: Any, create_station: Any,
        prove_signer: Any, staked: Any, station_params: Any) -> None:
    """A key bound to a station stays bound while the station is registered (inactive too);
    after the release its holder may bind it again, to any station."""
    st = create_station(operator, key=VICTIM_KEY, certified=False)
    registry.deactivateStation(st.station_id, sender=operator)
    p = station_params(cp="NEW-CP")
    proof = prove_signer(VICTIM_KEY, p[0], operator)
    staked(operator)
    with ape.reverts(registry.RegistrySignerInUse, signer=p[1], stationId=st.station_id):
        registry.registerStation(p, *proof, sender=operator)
    chain.pending_timestamp += registry.releaseDelay()
    registry.releaseStation(st.station_id, sender=attacker)
    assert registry.getStation(st.station_id).operator == "0x" + "00" * 20
    assert registry.stationOfSigner(p[1]) == bytes(32)
    registry.registerStation(p, *proof, sender=operator)
    assert registry.stationOfSigner(p[1]) == p[0]


def test_release__old_keys_evidence_never_reaches_the_new_operator(
        registry: Any, staking: Any, chain: Any, operator: Any, operator2: Any, attacker: Any,
        create_station: Any, make_receipt: Any, driver: Any, domain: Any, prove_signer: Any,
        staked: Any, station_params: Any) -> None:
    """Until the release the old key's conflicting receipts slash the old operator; after it,
    they are nobody's (the delay outlasts the old operator's unbonding), so the id's new
    operator is never punished for receipts it never signed."""
    st = create_station(operator2, cp_id=VICTIM_CP, key=ATTACKER_KEY)
    a = make_receipt(st, driver, session_id=7, energy_wh=10_000)
    b = make_receipt(st, driver, session_id=7, energy_wh=12_000)
    sa, sb = sign_receipt(st.key, domain, a), sign_receipt(st.key, domain, b)
    c = make_receipt(st, driver, session_id=8, energy_wh=10_000)
    d = make_receipt(st, driver, session_id=8, energy_wh=11_000)
    sc, sd = sign_receipt(st.key, domain, c), sign_receipt(st.key, domain, d)
    registry.deactivateStation(st.station_id, sender=operator2)
    chain.pending_timestamp += registry.releaseDelay() - DAY
    before = staking.stakeOf(operator2).active
    staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=attacker)
    assert staking.stakeOf(operator2).active < before
    chain.pending_timestamp += DAY
    staked(operator)
    p = station_params()
    registry.registerStation(p, *prove_signer(VICTIM_KEY, p[0], operator), sender=operator)
    mine = staking.stakeOf(operator).active
    with ape.reverts(staking.StakingBadEvidenceSignature, stationId=st.station_id,
                     recovered=st.signer):
        staking.slashEquivocation(receipt_tuple(c), sc, receipt_tuple(d), sd, sender=attacker)
    assert staking.stakeOf(operator).active == mine


def test_release__nothing_of_the_old_registration_carries_over(
        registry: Any, chain: Any, operator: Any, operator2: Any, governor: Any,
        create_station: Any, certify: Any, credit_id: int, prove_signer: Any, staked: Any,
        station_params: Any) -> None:
    """Tariffs for other credit ids, the certified meter (and its record for readings proofs),
    the meter key, the attested location, the governance lock and the metadata all belong to
    the old registration: the new one starts clean, and the meter is free to bind elsewhere."""
    other_id = credit_id + 1
    st = create_station(operator2, cp_id=VICTIM_CP, key=ATTACKER_KEY, certified=False)
    registry.setTariff(st.station_id, other_id, 900_000, sender=operator2)
    cert = certify(st)
    meter_hash = keccak(cert.meter_key)
    assert registry.meterEverBound(meter_hash, st.station_id)
    registry.attestLocation(st.station_id, True, sender=governor)
    registry.grantRole(roles.REGISTRY_ADMIN_ROLE, governor, sender=governor)
    registry.deactivateStation(st.station_id, sender=governor)  # locked by governance
    assert registry.lockedByGovernance(st.station_id)
    chain.pending_timestamp += registry.releaseDelay()
    staked(operator)
    p = station_params()
    tx = registry.registerStation(p, *prove_signer(VICTIM_KEY, p[0], operator), sender=operator)
    assert len(list(tx.decode_logs(registry.MeterReleased))) == 1
    sid = st.station_id
    s = registry.getStation(sid)
    assert (s.operator, s.certified, s.ratedPowerW, s.active) == (operator.address, False,
                                                                  22_000, True)
    assert registry.tariffOf(sid, other_id).current == 0
    assert registry.settlementView(sid, other_id).tariff.current == 0
    assert registry.settlementView(sid, credit_id).tariff.current == 350_000
    assert registry.settlementView(sid, credit_id).tariff.previous == 0
    assert registry.stationOfMeter(meter_hash) == bytes(32)
    assert not registry.meterEverBound(meter_hash, sid)
    assert registry.meterPublicKey(sid) == b""
    assert registry.meterOf(sid).issuer == bytes(32)
    assert not registry.locationAttested(sid)
    assert not registry.lockedByGovernance(sid)
    assert registry.metadataURI(sid) == f"ipfs://{VICTIM_CP}"
    # The new operator prices other_id from scratch, with no cooldown left from the old one.
    registry.setTariff(sid, other_id, 400_000, sender=operator)
    assert registry.tariffOf(sid, other_id).previous == 0


def test_set_tariff__on_a_releasable_station_reverts(
        registry: Any, chain: Any, operator: Any, create_station: Any, credit_id: int) -> None:
    """A tariff set in the block of a release would look like the next registration's."""
    st = create_station(operator)
    registry.deactivateStation(st.station_id, sender=operator)
    chain.pending_timestamp += registry.tariffCooldown()
    registry.setTariff(st.station_id, credit_id, 360_000, sender=operator)  # still its own
    chain.pending_timestamp = registry.releasableAt(st.station_id)
    with ape.reverts(registry.RegistryStationReleasable, stationId=st.station_id):
        registry.setTariff(st.station_id, credit_id, 370_000, sender=operator)


def test_claim__a_released_id_pays_its_new_operator_nothing_of_the_old_epochs(
        registry: Any, rewards: Any, credits: Any, chain: Any, operator: Any, operator2: Any,
        create_station: Any, create_driver: Any, driver: Any, oracle: Any, sign: Any,
        make_receipt: Any, prove_signer: Any, staked: Any, station_params: Any) -> None:
    """The old operator's unclaimed rewards do not go to whoever takes the id next (the delay
    gave the old operator the whole challenge window and more to claim them)."""
    st = create_station(operator2, cp_id=VICTIM_CP, key=ATTACKER_KEY)
    create_driver(driver)
    chain.pending_timestamp += 2 * 3_600
    epoch = (chain.pending_timestamp - rewards.genesis()) // (7 * DAY)
    tx = credits.settlePacked(pack_tuples([sign(make_receipt(st, driver), st.key)]), sender=oracle)
    assert not list(tx.decode_logs(credits.ReceiptRejected))
    registry.deactivateStation(st.station_id, sender=operator2)
    chain.pending_timestamp += registry.releaseDelay()
    chain.mine()
    assert rewards.claimableAt(epoch) <= chain.pending_timestamp
    assert rewards.claimable(st.station_id, epoch) > 0  # the old operator could claim it
    staked(operator)
    p = station_params()
    registry.registerStation(p, *prove_signer(VICTIM_KEY, p[0], operator), sender=operator)
    chain.mine()
    assert rewards.claimable(st.station_id, epoch) == 0
    with ape.reverts(rewards.RewardsNothingToClaim, operator=operator.address):
        rewards.claim([epoch], [st.station_id], sender=operator)


# ---------------------------------------------------------------- the governed delay
def test_release_delay__governed_within_bounds(registry: Any, governor: Any,
                                               attacker: Any) -> None:
    lo, hi = registry.MIN_RELEASE_DELAY(), registry.MAX_RELEASE_DELAY()
    assert (lo, hi) == (97 * DAY, 365 * DAY)
    for bad in (lo - 1, hi + 1):
        with ape.reverts(registry.RegistryParameterOutOfBounds, value=bad, min=lo, max=hi):
            registry.setReleaseDelay(bad, sender=governor)
    tx = registry.setReleaseDelay(lo, sender=governor)
    assert registry.releaseDelay() == lo
    [log] = tx.decode_logs(registry.ParameterChanged)
    assert log.value == lo
    registry.setReleaseDelay(hi, sender=governor)
    assert registry.releaseDelay() == hi
    with ape.reverts():
        registry.setReleaseDelay(lo, sender=attacker)
