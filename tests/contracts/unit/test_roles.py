"""Every privileged function of every contract refuses a caller without its role; no role
holder can grant itself (or anyone) a role; role ids in Python equal the contracts' own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ape
import pytest

from wattnet.chain import roles
from wattnet.chain.deploy import DAY, WAD

ZERO = "0x" + "00" * 20

# (contract, function, role constant name, args built from a context of addresses)
PRIVILEGED: list[tuple[str, str, str, Callable[[dict[str, Any]], tuple[Any, ...]]]] = [
    ("WattToken", "mint", "MINTER_ROLE", lambda c: (c["attacker"], 1)),
    ("OperatorStaking", "slash", "SLASHER_ROLE", lambda c: (c["operator"], 1, b"\x01" * 32)),
    ("OperatorStaking", "freeze", "FREEZER_ROLE", lambda c: (c["operator"], b"\x01" * 32)),
    ("OperatorStaking", "bondStation", "REGISTRY_ROLE", lambda c: (c["attacker"], 1)),
    ("OperatorStaking", "unbondStation", "REGISTRY_ROLE", lambda c: (c["operator"], 1)),
    ("OperatorStaking", "resizeStation", "REGISTRY_ROLE", lambda c: (c["operator"], 1, 2)),
    ("OperatorStaking", "setStakePerKw", "PARAMS_ROLE", lambda c: (0,)),
    ("OperatorStaking", "setOverlapTolerance", "PARAMS_ROLE", lambda c: (60,)),
    ("OperatorStaking", "setRegistry", "DEFAULT_ADMIN_ROLE", lambda c: (c["attacker"],)),
    ("OperatorStaking", "setSettlement", "DEFAULT_ADMIN_ROLE", lambda c: (c["attacker"],)),
    ("OperatorStaking", "setMinStakePerStation", "PARAMS_ROLE", lambda c: (0,)),
    ("OperatorStaking", "setUnbondingDelay", "PARAMS_ROLE", lambda c: (DAY,)),
    ("OperatorStaking", "setEquivocationPenalty", "PARAMS_ROLE", lambda c: (c["big"], 5_000)),
    ("OperatorStaking", "setSlashDestination", "PARAMS_ROLE", lambda c: (1,)),
    ("OperatorStaking", "setTreasury", "PARAMS_ROLE", lambda c: (c["attacker"],)),
    ("StationRegistry", "setRegionMultiplier", "PARAMS_ROLE", lambda c: (b"u" + b"\x00" * 7,
                                                                         30_000)),
    ("StationRegistry", "setCredits", "DEFAULT_ADMIN_ROLE", lambda c: (c["attacker"],)),
    ("StationRegistry", "setTariffBounds", "PARAMS_ROLE", lambda c: (1, 2)),
    ("StationRegistry", "deactivateStation", "REGISTRY_ADMIN_ROLE", lambda c: (c["station"],)),
    ("EnergyCredits", "setCommittee", "COMMITTEE_ROLE", lambda c: (b"\x01" * 32,)),
    ("EnergyCredits", "settlePacked", "ORACLE_ROLE", lambda c: (b"",)),
    ("EnergyCredits", "setShares", "PARAMS_ROLE", lambda c: (5_000, 2_000)),
    ("EnergyCredits", "setStationEpochCap", "PARAMS_ROLE", lambda c: (10_000,)),
    ("EnergyCredits", "listCredit", "PARAMS_ROLE", lambda c: (c["attacker"],)),
    ("EnergyCredits", "setSalesOpen", "PARAMS_ROLE", lambda c: (c["credit_id"], False)),
    ("EnergyCredits", "setTiming", "PARAMS_ROLE", lambda c: ((90 * DAY, 30 * DAY, 7 * DAY),)),
    ("EnergyCredits", "setTreasury", "PARAMS_ROLE", lambda c: (c["attacker"],)),
    ("EnergyCredits", "pause", "PAUSER_ROLE", lambda c: ()),
    ("EnergyCredits", "unpause", "DEFAULT_ADMIN_ROLE", lambda c: ()),
    ("RewardsEngine", "setWeightSource", "DEFAULT_ADMIN_ROLE", lambda c: (c["attacker"],)),
    ("RewardsEngine", "setSchedule", "PARAMS_ROLE", lambda c: (10**6, [])),
    ("RewardsEngine", "setChallengeWindow", "PARAMS_ROLE", lambda c: (DAY,)),
    ("RewardsEngine", "setFeeMultipleBps", "PARAMS_ROLE", lambda c: (10_000,)),
    ("RewardsEngine", "setPriceFloor", "PARAMS_ROLE", lambda c: (10**6,)),
    ("RewardsEngine", "setPriceFeed", "PARAMS_ROLE", lambda c: (ZERO, 0, 0)),
    ("RewardsEngine", "forfeit", "FINDINGS_ROLE", lambda c: (c["station"], 0, b"\x01" * 32)),
    ("OperatorStaking", "setRewards", "DEFAULT_ADMIN_ROLE", lambda c: (c["attacker"],)),
    ("StationRegistry", "setMeterIssuer", "PARAMS_ROLE", lambda c: (b"\x01" * 32, b"\x02" * 32,
                                                                    True)),
    ("StationRegistry", "setUncertifiedRewardBps", "PARAMS_ROLE", lambda c: (0,)),
    ("StationRegistry", "setReleaseDelay", "PARAMS_ROLE", lambda c: (100 * 86_400,)),
    ("StationRegistry", "attestLocation", "ATTESTER_ROLE", lambda c: (c["station"], True)),
]

CONTRACTS = sorted(roles.CONTRACT_ROLES)


@pytest.fixture
def ctx(protocol: Any, attacker: Any, operator: Any, create_station: Any, credit_id: int,
        fund_operator: Any, guardian: Any) -> dict[str, Any]:
    st = create_station(operator)
    protocol.credits.pause(sender=guardian)  # so that `unpause` would succeed for the admin
    return {"attacker": attacker.address, "operator": operator.address, "big": 10**6 * WAD,
            "station": st.station_id, "credit_id": credit_id}


def test_privileged_table__covers_every_role_of_every_contract() -> None:
    listed = {(c, r) for c, _, r, _ in PRIVILEGED}
    for contract, names in roles.CONTRACT_ROLES.items():
        for name in names:
            assert (contract, name) in listed, f"{contract}.{name} has no row in PRIVILEGED"


@pytest.mark.parametrize(("contract", "function", "role", "args"), PRIVILEGED,
                         ids=[f"{c}.{f}" for c, f, _, _ in PRIVILEGED])
def test_privileged_function__non_role_caller_reverts_unauthorized(
        protocol: Any, ctx: dict[str, Any], attacker: Any, contract: str, function: str,
        role: str, args: Callable[[dict[str, Any]], tuple[Any, ...]]) -> None:
    c = protocol.as_dict()[contract]
    with ape.reverts(c.AccessControlUnauthorizedAccount, account=attacker.address,
                     neededRole=getattr(roles, role)):
        getattr(c, function)(*args(ctx), sender=attacker)


@pytest.mark.parametrize("contract", CONTRACTS)
@pytest.mark.parametrize("function", ["grantRole", "revokeRole"])
def test_grant_and_revoke__by_stranger_revert(protocol: Any, attacker: Any, governor: Any,
                                              contract: str, function: str) -> None:
    c = protocol.as_dict()[contract]
    for name in ("DEFAULT_ADMIN_ROLE", *roles.CONTRACT_ROLES[contract]):
        target = attacker if function == "grantRole" else governor
        with ape.reverts(c.AccessControlUnauthorizedAccount, account=attacker.address,
                         neededRole=roles.DEFAULT_ADMIN_ROLE):
            getattr(c, function)(getattr(roles, name), target, sender=attacker)


@pytest.mark.parametrize("contract", CONTRACTS)
def test_role_holder__cannot_grant_itself_or_others_any_role(protocol: Any, governor: Any,
                                                             referrer: Any, attacker: Any,
                                                             contract: str) -> None:
    c = protocol.as_dict()[contract]
    names = roles.CONTRACT_ROLES[contract]
    for held in names:
        c.grantRole(getattr(roles, held), referrer, sender=governor)
    for wanted in ("DEFAULT_ADMIN_ROLE", *names):
        role = getattr(roles, wanted)
        assert c.getRoleAdmin(role) == roles.DEFAULT_ADMIN_ROLE
        for who in (referrer, attacker):
            with ape.reverts(c.AccessControlUnauthorizedAccount, account=referrer.address,
                             neededRole=roles.DEFAULT_ADMIN_ROLE):
                c.grantRole(role, who, sender=referrer)
    assert not c.hasRole(roles.DEFAULT_ADMIN_ROLE, referrer)
    assert not c.hasRole(roles.DEFAULT_ADMIN_ROLE, attacker)


@pytest.mark.parametrize("contract", CONTRACTS)
def test_role_holder__can_only_renounce_its_own_role(protocol: Any, governor: Any,
                                                     referrer: Any, contract: str) -> None:
    c = protocol.as_dict()[contract]
    role = getattr(roles, roles.CONTRACT_ROLES[contract][0])
    with ape.reverts(c.AccessControlBadConfirmation):
        c.renounceRole(role, governor, sender=referrer)
    c.grantRole(role, referrer, sender=governor)
    c.renounceRole(role, referrer, sender=referrer)
    assert not c.hasRole(role, referrer)


@pytest.mark.parametrize("contract", CONTRACTS)
def test_role_constants__python_mirror_equals_contract(protocol: Any, contract: str) -> None:
    c = protocol.as_dict()[contract]
    assert c.DEFAULT_ADMIN_ROLE() == roles.DEFAULT_ADMIN_ROLE
    for name in roles.CONTRACT_ROLES[contract]:
        assert getattr(c, name)() == getattr(roles, name), f"{contract}.{name}"


def test_deploy__wires_roles_to_the_right_holders(protocol: Any, governor: Any) -> None:
    assert protocol.watt.hasRole(roles.MINTER_ROLE, protocol.rewards)
    assert not protocol.watt.hasRole(roles.MINTER_ROLE, governor)
    assert protocol.staking.hasRole(roles.REGISTRY_ROLE, protocol.registry)
    for c in protocol.as_dict().values():
        assert c.hasRole(roles.DEFAULT_ADMIN_ROLE, governor)
