"""StationRegistry: registration and its checks, operator-only changes, tariff cooldown, region
multipliers, activation against staking, and the settlement view."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from wattnet.chain import roles
from wattnet.chain.deploy import DAY, WAD, DeployConfig, geohash_bytes8, local_config
from wattnet.chain.eip712 import address_of_private_key
from wattnet.domain import station_id_for


@pytest.fixture(scope="module")
def config() -> DeployConfig:
    """params/local.yaml with tariffs of any size, a flat stake per station and no region
    table: these tests set the bounds, stakes and multipliers they check."""
    return local_config({"registry.min_tariff_per_kwh": 1,
                         "registry.max_tariff_per_kwh": 10**24,
                         "staking.stake_per_kw": 0, "registry.region_multipliers": {}})

ZERO = "0x" + "00" * 20
UINT88_MAX = 2**88 - 1


def b32(name: str) -> bytes:
    return name.encode().ljust(32, b"\x00")


@pytest.fixture
def params(credit_id: int) -> Any:
    """StationParams as a tuple, with overrides by field name."""
    fields = ["stationId", "signer", "ratedPowerW", "connectorCount", "geohash", "metadataURI",
              "meterPublicKey", "creditIds", "tariffsPerKwh"]

    def make(**kw: Any) -> tuple[Any, ...]:
        base = {
            "stationId": station_id_for("CP-REG"), "signer": address_of_private_key(b"\x07" * 32),
            "ratedPowerW": 50_000, "connectorCount": 2, "geohash": geohash_bytes8("u33db"),
            "metadataURI": "ipfs://cp-reg", "meterPublicKey": b"", "creditIds": [credit_id],
            "tariffsPerKwh": [400_000],
        }
        base.update(kw)
        return tuple(base[f] for f in fields)

    return make


# Signer keys the tests use, by address: `register` signs each registration's proof with them.
KEYS = {address_of_private_key(k): k for k in (b"\x07" * 32, b"\x08" * 32)}
NO_PROOF = (bytes(32), bytes(32))


@pytest.fixture
def register(registry: Any, prove_signer: Any) -> Any:
    """registerStation with the signer key's proof of possession (none for a signer the test
    holds no key of: such calls must fail before the proof is checked)."""

    def reg(p: tuple[Any, ...], sender: Any) -> Any:
        key = KEYS.get(p[1])
        proof = prove_signer(key, p[0], sender) if key else NO_PROOF
        return registry.registerStation(p, *proof, sender=sender)

    return reg


@pytest.fixture
def funded(fund_operator: Any, operator: Any, staking: Any) -> None:
    fund_operator(operator, staking.minStakePerStation())


# ---------------------------------------------------------------- register
def test_register_station__records_everything_and_bonds_stake(
        register: Any, registry: Any, staking: Any, params: Any, operator: Any, funded: None,
        credit_id: int, chain: Any) -> None:
    p = params()
    ts = chain.pending_timestamp
    tx = register(p, sender=operator)
    s = registry.getStation(p[0])
    assert (s.operator, s.ratedPowerW, s.connectorCount, s.active, s.registeredAt, s.signer,
            s.geohash, s.multiplierBps) == (operator.address, 50_000, 2, True, ts, p[1],
                                            geohash_bytes8("u33db"), 10_000)
    assert registry.stationOfSigner(p[1]) == p[0]
    assert registry.metadataURI(p[0]) == "ipfs://cp-reg"
    t = registry.tariffOf(p[0], credit_id)
    assert (t.current, t.previous, t.changedAt, t.previousChangedAt) == (400_000, 0, ts, 0)
    assert staking.stakeOf(operator).bondedStations == 1
    [log] = tx.decode_logs(registry.StationRegistered)
    assert (log.stationId, log.operator, log.signer, log.ratedPowerW, log.connectorCount,
            log.geohash, log.metadataURI) == (p[0], operator.address, p[1], 50_000, 2,
                                              geohash_bytes8("u33db"), "ipfs://cp-reg")
    [tariff] = tx.decode_logs(registry.TariffChanged)
    assert (tariff.stationId, tariff.creditId, tariff.tariffPerKwh) == (p[0], credit_id, 400_000)
    [bond] = tx.decode_logs(staking.StationBondChanged)
    assert (bond.operator, bond.bonded, bond.bondedStations) == (operator.address, True, 1)


def test_register_station__stores_meter_key(
        register: Any, registry: Any, params: Any, operator: Any, funded: None) -> None:
    key = bytes(range(64))
    p = params(meterPublicKey=key)
    register(p, sender=operator)
    assert registry.meterPublicKey(p[0]) == key


def test_register_station__without_stake_reverts(
        register: Any, registry: Any, staking: Any, params: Any, operator: Any) -> None:
    with ape.reverts(staking.StakingInsufficientStake, operator=operator.address, stake=0,
                     needed=staking.minStakePerStation()):
        register(params(), sender=operator)
    assert registry.getStation(params()[0]).operator == ZERO


def test_register_station__existing_id_reverts(
        register: Any, registry: Any, params: Any, operator: Any, funded: None) -> None:
    p = params()
    register(p, sender=operator)
    with ape.reverts(registry.RegistryStationExists, stationId=p[0]):
        register(params(signer=address_of_private_key(b"\x08" * 32)),
                                 sender=operator)


def test_register_station__zero_signer_reverts(
        register: Any, registry: Any, params: Any, operator: Any, funded: None) -> None:
    with ape.reverts(registry.RegistryZeroSigner):
        register(params(signer=ZERO), sender=operator)


def test_register_station__signer_of_another_station_reverts(
        register: Any, registry: Any, params: Any, operator: Any, operator2: Any,
        create_station: Any) -> None:
    other = create_station(operator2)
    with ape.reverts(registry.RegistrySignerInUse, signer=other.signer, stationId=other.station_id):
        register(params(signer=other.signer), sender=operator)


@pytest.mark.parametrize("power", [0, 2_000_001])
def test_register_station__bad_rated_power_reverts(
        register: Any, registry: Any, params: Any, operator: Any, funded: None, power: int) -> None:
    with ape.reverts(registry.RegistryBadRatedPower, ratedPowerW=power, max=2_000_000):
        register(params(ratedPowerW=power), sender=operator)


@pytest.mark.parametrize("count", [0, 33])
def test_register_station__bad_connector_count_reverts(
        register: Any, registry: Any, params: Any, operator: Any, funded: None, count: int) -> None:
    with ape.reverts(registry.RegistryBadConnectorCount, count=count, max=32):
        register(params(connectorCount=count), sender=operator)


@pytest.mark.parametrize("raw", [b"\x00" * 8, b"a".ljust(8, b"\x00"), b"u3i".ljust(8, b"\x00"),
                                 b"u3l".ljust(8, b"\x00"), b"u3o".ljust(8, b"\x00"),
                                 b"U33".ljust(8, b"\x00"), b"u3\x00d".ljust(8, b"\x00")])
def test_register_station__bad_geohash_reverts(
        register: Any, registry: Any, params: Any, operator: Any, funded: None, raw: bytes) -> None:
    with ape.reverts(registry.RegistryBadGeohash, geohash=raw):
        register(params(geohash=raw), sender=operator)


def test_register_station__full_eight_char_geohash_accepted(
        register: Any, registry: Any, params: Any, operator: Any, funded: None) -> None:
    p = params(geohash=b"0123456z")
    register(p, sender=operator)
    assert registry.getStation(p[0]).geohash == b"0123456z"


@pytest.mark.parametrize("length", [1, 63, 65])
def test_register_station__bad_meter_key_reverts(
        register: Any, registry: Any, params: Any, operator: Any, funded: None,
        length: int) -> None:
    with ape.reverts(registry.RegistryBadMeterKey, length=length):
        register(params(meterPublicKey=b"\x01" * length), sender=operator)


def test_register_station__tariff_array_mismatch_reverts(
        register: Any, registry: Any, params: Any, operator: Any, funded: None) -> None:
    with ape.reverts(registry.RegistryTariffArrayMismatch, ids=1, tariffs=0):
        register(params(tariffsPerKwh=[]), sender=operator)


@pytest.mark.parametrize("tariff", [0, 10**24 + 1])
def test_register_station__tariff_out_of_bounds_reverts(
        register: Any, registry: Any, params: Any, operator: Any, funded: None,
        tariff: int) -> None:
    with ape.reverts(registry.RegistryTariffOutOfBounds, tariff=tariff,
                     min=registry.minTariffPerKwh(), max=registry.maxTariffPerKwh()):
        register(params(tariffsPerKwh=[tariff]), sender=operator)


# ---------------------------------------------------------------- operator-only changes
def test_rotate_signer__old_key_stays_attributed(registry: Any, operator: Any,
                                                 create_station: Any, prove_signer: Any) -> None:
    st = create_station(operator)
    new = address_of_private_key(b"\x09" * 32)
    tx = registry.rotateSigner(st.station_id, new,
                               *prove_signer(b"\x09" * 32, st.station_id, operator),
                               sender=operator)
    assert registry.getStation(st.station_id).signer == new
    assert registry.stationOfSigner(new) == st.station_id
    assert registry.stationOfSigner(st.signer) == st.station_id
    [log] = tx.decode_logs(registry.SignerRotated)
    assert (log.stationId, log.oldSigner, log.newSigner) == (st.station_id, st.signer, new)


def test_rotate_signer__back_to_an_old_key_reverts(registry: Any, operator: Any,
                                                   create_station: Any,
                                                   prove_signer: Any) -> None:
    st = create_station(operator)
    registry.rotateSigner(st.station_id, address_of_private_key(b"\x0a" * 32),
                          *prove_signer(b"\x0a" * 32, st.station_id, operator), sender=operator)
    with ape.reverts(registry.RegistrySignerInUse, signer=st.signer, stationId=st.station_id):
        registry.rotateSigner(st.station_id, st.signer,
                              *prove_signer(st.key, st.station_id, operator), sender=operator)


def test_rotate_signer__zero_reverts(registry: Any, operator: Any, create_station: Any) -> None:
    st = create_station(operator)
    with ape.reverts(registry.RegistryZeroSigner):
        registry.rotateSigner(st.station_id, ZERO, *NO_PROOF, sender=operator)


@pytest.mark.parametrize("call", ["rotateSigner", "setMeterKey", "setMetadataURI", "setTariff",
                                  "activateStation"])
def test_operator_only__other_caller_reverts_not_operator(
        registry: Any, operator: Any, attacker: Any, create_station: Any, credit_id: int,
        call: str) -> None:
    st = create_station(operator)
    args = {"rotateSigner": (st.station_id, attacker.address, *NO_PROOF),
            "setMeterKey": (st.station_id, b""),
            "setMetadataURI": (st.station_id, "x"),
            "setTariff": (st.station_id, credit_id, 1),
            "activateStation": (st.station_id,)}[call]
    with ape.reverts(registry.RegistryNotOperator, stationId=st.station_id,
                     caller=attacker.address, operator=operator.address):
        getattr(registry, call)(*args, sender=attacker)


@pytest.mark.parametrize("call", ["rotateSigner", "setMetadataURI", "deactivateStation",
                                  "activateStation"])
def test_unknown_station__reverts(registry: Any, operator: Any, call: str) -> None:
    sid = station_id_for("NOPE")
    args = {"rotateSigner": (sid, operator.address, *NO_PROOF), "setMetadataURI": (sid, "x"),
            "deactivateStation": (sid,), "activateStation": (sid,)}[call]
    with ape.reverts(registry.RegistryUnknownStation, stationId=sid):
        getattr(registry, call)(*args, sender=operator)


def test_set_meter_key__sets_and_clears(registry: Any, operator: Any,
                                        create_station: Any) -> None:
    st = create_station(operator)
    key = b"\x05" * 64
    tx = registry.setMeterKey(st.station_id, key, sender=operator)
    assert registry.meterPublicKey(st.station_id) == key
    [log] = tx.decode_logs(registry.MeterKeyChanged)
    assert (log.stationId, log.meterPublicKey) == (st.station_id, key)
    registry.setMeterKey(st.station_id, b"", sender=operator)
    assert registry.meterPublicKey(st.station_id) == b""
    with ape.reverts(registry.RegistryBadMeterKey, length=32):
        registry.setMeterKey(st.station_id, b"\x05" * 32, sender=operator)


def test_set_metadata_uri__changes_and_emits(registry: Any, operator: Any,
                                             create_station: Any) -> None:
    st = create_station(operator)
    tx = registry.setMetadataURI(st.station_id, "ipfs://new", sender=operator)
    assert registry.metadataURI(st.station_id) == "ipfs://new"
    [log] = tx.decode_logs(registry.MetadataChanged)
    assert (log.stationId, log.metadataURI) == (st.station_id, "ipfs://new")


# ---------------------------------------------------------------- tariffs
def test_tariff_cooldown__is_longest_session_plus_settlement_window(registry: Any,
                                                                    credits: Any) -> None:
    t = credits.timing()
    assert registry.tariffCooldown() == t.maxSessionDuration + t.maxSettlementDelay


def test_tariff_cooldown__before_credits_wired_is_the_largest_bound(
        project: Any, governor: Any, staking: Any) -> None:
    fresh = project.StationRegistry.deploy(governor, staking, 1, 10, sender=governor)
    assert fresh.tariffCooldown() == 37 * DAY


def test_set_tariff__within_cooldown_reverts(registry: Any, operator: Any, create_station: Any,
                                             credit_id: int, chain: Any) -> None:
    st = create_station(operator)
    changed = registry.tariffOf(st.station_id, credit_id).changedAt
    ready = changed + registry.tariffCooldown()
    chain.pending_timestamp = ready - 1
    with ape.reverts(registry.RegistryTariffCooldown, stationId=st.station_id,
                     creditId=credit_id, readyAt=ready):
        registry.setTariff(st.station_id, credit_id, 500_000, sender=operator)


def test_set_tariff__after_cooldown_keeps_previous(registry: Any, operator: Any,
                                                   create_station: Any, credit_id: int,
                                                   chain: Any) -> None:
    st = create_station(operator)
    first = registry.tariffOf(st.station_id, credit_id)
    ready = first.changedAt + registry.tariffCooldown()
    chain.pending_timestamp = ready
    tx = registry.setTariff(st.station_id, credit_id, 500_000, sender=operator)
    t = registry.tariffOf(st.station_id, credit_id)
    assert (t.current, t.previous, t.changedAt, t.previousChangedAt) == (
        500_000, first.current, ready, first.changedAt)
    [log] = tx.decode_logs(registry.TariffChanged)
    assert (log.stationId, log.creditId, log.tariffPerKwh) == (st.station_id, credit_id, 500_000)


def test_set_tariff__first_price_for_new_credit_needs_no_cooldown(
        registry: Any, operator: Any, create_station: Any, credit_id: int) -> None:
    st = create_station(operator)
    registry.setTariff(st.station_id, credit_id + 1, 123, sender=operator)
    assert registry.tariffOf(st.station_id, credit_id + 1).current == 123


def test_set_tariff__out_of_bounds_reverts(registry: Any, operator: Any, create_station: Any,
                                           credit_id: int) -> None:
    st = create_station(operator)
    with ape.reverts(registry.RegistryTariffOutOfBounds, tariff=0, min=1,
                     max=registry.maxTariffPerKwh()):
        registry.setTariff(st.station_id, credit_id + 1, 0, sender=operator)


# ---------------------------------------------------------------- activation
def test_deactivate_station__by_operator_releases_stake(registry: Any, staking: Any,
                                                        operator: Any, create_station: Any,
                                                        credit_id: int) -> None:
    st = create_station(operator)
    tx = registry.deactivateStation(st.station_id, sender=operator)
    assert not registry.getStation(st.station_id).active
    assert staking.stakeOf(operator).bondedStations == 0
    assert not registry.settlementView(st.station_id, credit_id).usable
    [log] = tx.decode_logs(registry.StationStatusChanged)
    assert (log.stationId, log.active, log.by) == (st.station_id, False, operator.address)
    with ape.reverts(registry.RegistryAlreadyInState, stationId=st.station_id, active=False):
        registry.deactivateStation(st.station_id, sender=operator)


def test_deactivate_station__by_registry_admin(registry: Any, operator: Any, governor: Any,
                                               create_station: Any) -> None:
    registry.grantRole(roles.REGISTRY_ADMIN_ROLE, governor, sender=governor)
    st = create_station(operator)
    tx = registry.deactivateStation(st.station_id, sender=governor)
    assert tx.decode_logs(registry.StationStatusChanged)[0].by == governor.address
    assert not registry.getStation(st.station_id).active


def test_deactivate_station__by_stranger_reverts(registry: Any, operator: Any, attacker: Any,
                                                 create_station: Any) -> None:
    st = create_station(operator)
    with ape.reverts(registry.AccessControlUnauthorizedAccount, account=attacker.address,
                     neededRole=roles.REGISTRY_ADMIN_ROLE):
        registry.deactivateStation(st.station_id, sender=attacker)


def test_activate_station__bonds_stake_again(registry: Any, staking: Any, operator: Any,
                                             create_station: Any) -> None:
    st = create_station(operator)
    with ape.reverts(registry.RegistryAlreadyInState, stationId=st.station_id, active=True):
        registry.activateStation(st.station_id, sender=operator)
    registry.deactivateStation(st.station_id, sender=operator)
    tx = registry.activateStation(st.station_id, sender=operator)
    assert registry.getStation(st.station_id).active
    assert staking.stakeOf(operator).bondedStations == 1
    [log] = tx.decode_logs(registry.StationStatusChanged)
    assert (log.active, log.by) == (True, operator.address)


def test_activate_station__without_stake_reverts(registry: Any, staking: Any, operator: Any,
                                                 create_station: Any) -> None:
    st = create_station(operator)
    registry.deactivateStation(st.station_id, sender=operator)
    active = staking.stakeOf(operator).active
    staking.requestUnbond(active, sender=operator)
    with ape.reverts(staking.StakingInsufficientStake, operator=operator.address, stake=0,
                     needed=staking.minStakePerStation()):
        registry.activateStation(st.station_id, sender=operator)


# ---------------------------------------------------------------- standing
def test_settlement_view__suspended_operator_is_not_usable(
        registry: Any, staking: Any, operator: Any, governor: Any, create_station: Any,
        credit_id: int) -> None:
    st = create_station(operator)
    v = registry.settlementView(st.station_id, credit_id)
    assert (v.operator, v.signer, v.ratedPowerW, v.usable, v.multiplierBps) == (
        operator.address, st.signer, st.rated_power_w, True, 10_000)
    assert v.tariff.current == st.tariff
    staking.slash(operator, 1, b32("X"), sender=governor)
    assert not registry.settlementView(st.station_id, credit_id).usable


def test_settlement_view__unknown_station_is_empty(registry: Any, credit_id: int) -> None:
    v = registry.settlementView(station_id_for("NONE"), credit_id)
    assert (v.operator, v.usable, v.multiplierBps) == (ZERO, False, 0)


def test_refresh_standing__unchanged_standing_emits_nothing(registry: Any, operator: Any,
                                                            attacker: Any,
                                                            create_station: Any) -> None:
    create_station(operator)
    tx = registry.refreshStanding(operator, sender=attacker)
    assert tx.decode_logs(registry.OperatorStandingChanged) == []
    assert not registry.suspended(operator)


def test_refresh_standing__picks_up_parameter_change(registry: Any, staking: Any,
                                                     operator: Any, attacker: Any,
                                                     governor: Any,
                                                     create_station: Any) -> None:
    create_station(operator)
    staking.setMinStakePerStation(staking.minStakePerStation() * 2, sender=governor)
    tx = registry.refreshStanding(operator, sender=attacker)
    assert registry.suspended(operator)
    [log] = tx.decode_logs(registry.OperatorStandingChanged)
    assert (log.operator, log.suspended) == (operator.address, True)


# ---------------------------------------------------------------- regions
def test_region_multiplier__longest_prefix_wins(registry: Any, governor: Any) -> None:
    tx = registry.setRegionMultiplier(geohash_bytes8("u3"), 12_000, sender=governor)
    registry.setRegionMultiplier(geohash_bytes8("u33d"), 20_000, sender=governor)
    [log] = tx.decode_logs(registry.RegionMultiplierSet)
    assert (log.prefix, log.multiplierBps) == (geohash_bytes8("u3"), 12_000)
    assert registry.regionMultiplier(geohash_bytes8("u33db")) == 20_000
    assert registry.regionMultiplier(geohash_bytes8("u34")) == 12_000
    assert registry.regionMultiplier(geohash_bytes8("u3")) == 12_000
    assert registry.regionMultiplier(geohash_bytes8("u")) == 10_000
    assert registry.regionMultiplier(geohash_bytes8("v33db")) == 10_000
    registry.setRegionMultiplier(geohash_bytes8("u33d"), 0, sender=governor)
    assert registry.regionMultiplier(geohash_bytes8("u33db")) == 12_000
    registry.setRegionMultiplier(geohash_bytes8("u3"), 0, sender=governor)
    assert registry.regionMultiplier(geohash_bytes8("u33db")) == 10_000


@pytest.mark.parametrize("bps", [4_999, 30_001])
def test_set_region_multiplier__out_of_bounds_reverts(registry: Any, governor: Any,
                                                      bps: int) -> None:
    with ape.reverts(registry.RegistryMultiplierOutOfBounds, bps=bps, min=5_000, max=30_000):
        registry.setRegionMultiplier(geohash_bytes8("u3"), bps, sender=governor)


def test_set_region_multiplier__bad_prefix_reverts(registry: Any, governor: Any) -> None:
    with ape.reverts(registry.RegistryBadGeohash, geohash=b"\x00" * 8):
        registry.setRegionMultiplier(b"\x00" * 8, 12_000, sender=governor)


def test_sync_region__refreshes_cached_multiplier(registry: Any, governor: Any, operator: Any,
                                                  attacker: Any, create_station: Any) -> None:
    st = create_station(operator, geohash="u33db")
    registry.attestLocation(st.station_id, True, sender=governor)  # a boost needs attesting
    registry.setRegionMultiplier(geohash_bytes8("u33"), 15_000, sender=governor)
    assert registry.getStation(st.station_id).multiplierBps == 10_000
    tx = registry.syncRegion([st.station_id], sender=attacker)
    assert registry.getStation(st.station_id).multiplierBps == 15_000
    [log] = tx.decode_logs(registry.RegionSynced)
    assert (log.stationId, log.multiplierBps) == (st.station_id, 15_000)
    with ape.reverts(registry.RegistryUnknownStation, stationId=station_id_for("NONE")):
        registry.syncRegion([st.station_id, station_id_for("NONE")], sender=attacker)


def test_register_station__caches_region_multiplier(registry: Any, governor: Any,
                                                    operator: Any, create_station: Any) -> None:
    registry.setRegionMultiplier(geohash_bytes8("gc"), 7_500, sender=governor)
    st = create_station(operator, geohash="gcpvj")
    assert registry.getStation(st.station_id).multiplierBps == 7_500


# ---------------------------------------------------------------- governance
def test_set_credits__only_once(registry: Any, governor: Any, credits: Any) -> None:
    with ape.reverts(registry.RegistryCreditsAlreadySet, credits=credits.address):
        registry.setCredits(governor, sender=governor)


@pytest.mark.parametrize(("lo", "hi"), [(0, 10), (11, 10), (1, UINT88_MAX + 1)])
def test_set_tariff_bounds__invalid_reverts(registry: Any, governor: Any, lo: int,
                                            hi: int) -> None:
    with ape.reverts(registry.RegistryParameterOutOfBounds, name=b32("tariffBounds"), value=lo,
                     min=1, max=hi):
        registry.setTariffBounds(lo, hi, sender=governor)


def test_set_tariff_bounds__changes_and_emits(registry: Any, governor: Any) -> None:
    tx = registry.setTariffBounds(2, UINT88_MAX, sender=governor)
    assert (registry.minTariffPerKwh(), registry.maxTariffPerKwh()) == (2, UINT88_MAX)
    logs = [(log.name, log.value) for log in tx.decode_logs(registry.ParameterChanged)]
    assert logs == [(b32("minTariffPerKwh"), 2), (b32("maxTariffPerKwh"), UINT88_MAX)]


def test_register_station__two_stations_bond_two_stakes(registry: Any, staking: Any,
                                                        operator: Any,
                                                        create_station: Any) -> None:
    create_station(operator)
    create_station(operator)
    s = staking.stakeOf(operator)
    assert s.bondedStations == 2
    assert s.active >= 2 * staking.minStakePerStation()
    with ape.reverts(staking.StakingInsufficientStake):
        staking.requestUnbond(s.active - 2 * staking.minStakePerStation() + WAD, sender=operator)


# ---------------------------------------------------------------- reserved id and governance lock
def test_register_station__zero_station_id_rejected(
        register: Any, registry: Any, params: Any, operator: Any, funded: None) -> None:
    """Station id 0 means "no station" (stationOfSigner of an unbound key)."""
    with ape.reverts(registry.RegistryZeroStationId):
        register(params(stationId=bytes(32)), sender=operator)
    assert registry.getStation(bytes(32)).operator == ZERO


def test_activate_station__operator_cannot_undo_governance_deactivation(
        registry: Any, staking: Any, operator: Any, governor: Any,
        create_station: Any) -> None:
    registry.grantRole(roles.REGISTRY_ADMIN_ROLE, governor, sender=governor)
    st = create_station(operator)
    registry.deactivateStation(st.station_id, sender=governor)
    assert registry.lockedByGovernance(st.station_id)
    with ape.reverts(registry.RegistryStationLocked, stationId=st.station_id):
        registry.activateStation(st.station_id, sender=operator)
    assert not registry.getStation(st.station_id).active
    assert staking.stakeOf(operator).bondedStations == 0


def test_activate_station__governance_lifts_its_own_lock(registry: Any, staking: Any,
                                                         operator: Any, governor: Any,
                                                         create_station: Any) -> None:
    registry.grantRole(roles.REGISTRY_ADMIN_ROLE, governor, sender=governor)
    st = create_station(operator)
    registry.deactivateStation(st.station_id, sender=governor)
    tx = registry.activateStation(st.station_id, sender=governor)
    assert not registry.lockedByGovernance(st.station_id)
    assert registry.getStation(st.station_id).active
    assert staking.stakeOf(operator).bondedStations == 1
    assert tx.decode_logs(registry.StationStatusChanged)[0].by == governor.address
    registry.deactivateStation(st.station_id, sender=operator)
    registry.activateStation(st.station_id, sender=operator)  # operator's own pause: no lock


def test_deactivate_station__by_operator_does_not_lock(registry: Any, operator: Any,
                                                       create_station: Any) -> None:
    st = create_station(operator)
    registry.deactivateStation(st.station_id, sender=operator)
    assert not registry.lockedByGovernance(st.station_id)


def test_deactivate_station__governance_is_idempotent_after_the_operator_switched_off(
        registry: Any, operator: Any, governor: Any, create_station: Any) -> None:
    """An operator who switches its station off first cannot make governance's deactivation
    (and the whole proposal around it) revert; the lock still applies."""
    registry.grantRole(roles.REGISTRY_ADMIN_ROLE, governor, sender=governor)
    st = create_station(operator)
    registry.deactivateStation(st.station_id, sender=operator)
    tx = registry.deactivateStation(st.station_id, sender=governor)
    [log] = tx.decode_logs(registry.GovernanceLockChanged)
    assert (log.stationId, log.locked) == (st.station_id, True)
    assert registry.lockedByGovernance(st.station_id)
    with ape.reverts(registry.RegistryStationLocked, stationId=st.station_id):
        registry.activateStation(st.station_id, sender=operator)
    registry.deactivateStation(st.station_id, sender=governor)  # again: still no revert
