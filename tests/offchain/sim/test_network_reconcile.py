"""Reconciliation of the network simulation without a chain: the expected ledger follows the
protocol's rules to the smallest unit, and ``compare`` reports every entry that differs."""

from __future__ import annotations

import copy

from wattnet.domain import OcppVersion
from wattnet.sim.network.plan import Charger, Driver, Plan, Session, derive_key
from wattnet.sim.network.reconcile import Actions, Before, FeeBound, compare, expect

GENESIS = 1_700_000_000
OPS = ("0x" + "0a" * 20, "0x" + "0b" * 20)
DRIVERS = ("0x" + "d1" * 20, "0x" + "d2" * 20)


def _plan() -> Plan:
    chargers = (
        Charger(0, "CP-A", OcppVersion.V16, 0, "rural", "u0abc", 12_000, 287_333, 22_000,
                derive_key(0, "t", "station", 0)),
        Charger(1, "CP-B", OcppVersion.V201, 1, "city", "gcpvj", 9_000, 350_000, 11_000,
                derive_key(0, "t", "station", 1)),
    )
    drivers = (Driver(0, DRIVERS[0], "T0", 10_000_000, 2_000_000, 10_000_000, True),
               Driver(1, DRIVERS[1], "T1", 5_000_000, 2_000_000, 10_000_000, False))
    t = GENESIS + 3_600
    sessions = (
        Session(0, 1, 0, t, t + 1_800, 1_234, 1_234 * 287_333 // 1000),
        Session(0, 2, 1, t + 2_000, t + 3_000, 3_001, 3_001 * 287_333 // 1000),
        Session(1, 1, 0, t + 4_000, t + 5_000, 999, 999 * 350_000 // 1000),
    )
    return Plan(0, "t", t, 1, 1, 10_000, chargers, drivers, OPS, sessions)


# A fee bound that never binds (price 1 wei): the emission arithmetic alone.
OPEN = FeeBound(10_000, 1, 10**4)
BEFORE = Before({"totalSupply": 7, "totalPendingRedemptions": 0, "totalOwed": 5}, escrow=12,
                treasury_owed=3, epoch_weight={0: 100})


def test_expect__costs_split_exactly_and_weights_follow_region_multipliers() -> None:
    plan = _plan()
    led = expect(plan, GENESIS, 8_000, 500, Actions({0: 1_000_000}, frozenset({0})), BEFORE,
                 {0: 10**24}, OPEN)
    # 1234 Wh x 287,333 / kWh = 354,568.922 -> 354,568; 3001 Wh -> 862,286; 999 Wh x 350,000 ->
    # 349,650. Operator A: 80 % of 354,568 (283,654) + of 862,286 (689,828); B: 279,720.
    assert led["operator owed"][OPS[0]] == 0  # withdrew
    assert led["operator stablecoin"][OPS[0]] == 283_654 + 689_828
    assert led["operator owed"][OPS[1]] == 279_720
    fees = 354_568 + 862_286 + 349_650
    assert led["totals"]["treasury owed"] == 3 + fees - (283_654 + 689_828 + 279_720)
    assert led["driver credits"][DRIVERS[0]] == 10_000_000 - 354_568 - 349_650 - 1_000_000
    assert led["driver stablecoin"][DRIVERS[0]] == 1_000_000
    assert led["driver credits"][DRIVERS[1]] == 5_000_000 - 862_286
    # weight: floor(energy x bps / 10000) per session: 1234 x 1.2 = 1480.8 -> 1480, 3001 x 1.2
    # = 3601.2 -> 3601; 999 x 0.9 = 899.1 -> 899; the epoch held 100 already.
    assert led["station weight"] == {"e0:CP-A": 1_480 + 3_601, "e0:CP-B": 899}
    assert led["epoch weight"] == {"e0": 100 + 1_480 + 3_601 + 899}
    total = 100 + 1_480 + 3_601 + 899
    assert led["operator WATT (rewards)"][OPS[0]] == 10**24 * (1_480 + 3_601) // total
    assert led["operator WATT (rewards)"][OPS[1]] == 10**24 * 899 // total
    assert led["settled once"] == {"CP-A#1": 1, "CP-A#2": 1, "CP-B#1": 1, "CP-A#3": 0,
                                   "CP-B#2": 0}
    assert led["totals"]["stablecoin in escrow"] == 12 + 15_000_000 - 1_000_000 - (
        283_654 + 689_828)
    assert led["totals"]["credits outstanding"] == 7 + 15_000_000 - fees - 1_000_000


def test_expect__rewards_capped_by_the_fee_bound_of_each_station() -> None:
    """50 % of the treasury's own share at $0.10/WATT, worked by hand (the cost less the operator's
    80 % and the referrer's 5 %, paid or not): CP-A retained (354,568 - 283,654 - 17,728) +
    (862,286 - 689,828 - 43,114) = 182,530 units of a 6-decimal coin = $0.18253, worth
    0.91265 WATT at the bound; CP-B retained 349,650 - 279,720 - 17,482 = 52,448 units,
    0.26224 WATT."""
    led = expect(_plan(), GENESIS, 8_000, 500, Actions(), BEFORE, {0: 10**24},
                 FeeBound(5_000, 10**17, 10**4))
    assert led["operator WATT (rewards)"][OPS[0]] == 912_650_000_000_000_000
    assert led["operator WATT (rewards)"][OPS[1]] == 262_240_000_000_000_000


def test_compare__a_clean_ledger_has_no_difference() -> None:
    led = expect(_plan(), GENESIS, 8_000, 500, Actions(), BEFORE, {0: 10**20}, OPEN)
    assert compare(led, copy.deepcopy(led)) == []


def test_compare__reports_every_changed_missing_or_extra_entry() -> None:
    led = expect(_plan(), GENESIS, 8_000, 500, Actions(), BEFORE, {0: 10**20}, OPEN)
    chain = copy.deepcopy(led)
    chain["driver credits"][DRIVERS[1]] -= 1  # one smallest unit
    chain["settled once"]["CP-A#3"] = 1  # a session nobody planned settled
    del chain["station weight"]["e0:CP-B"]
    chain["totals"]["surprise"] = 5
    diffs = {(d.item, d.party): d for d in compare(led, chain)}
    assert set(diffs) == {("driver credits", DRIVERS[1]), ("settled once", "CP-A#3"),
                          ("station weight", "e0:CP-B"), ("totals", "surprise")}
    assert diffs[("driver credits", DRIVERS[1])].delta == -1
    assert diffs[("station weight", "e0:CP-B")].actual is None
    assert diffs[("totals", "surprise")].expected is None


def test_expect__weight_stops_at_the_station_epoch_cap_and_emission_is_the_schedule() -> None:
    # CP-A is 22 kW: at a 0.1 % cap it counts 22,000 x 604,800 x 10 / 36,000,000 = 3,696 Wh an
    # epoch; its sessions of 1,234 and 3,001 Wh count 1,234 (1,480 weight) and the 2,462 left
    # (x 1.2 = 2,954.4 -> 2,954)
    led = expect(_plan(), GENESIS, 8_000, 500, Actions(), BEFORE, {0: 10**20}, OPEN, cap_bps=10)
    assert led["station weight"]["e0:CP-A"] == 1_480 + 2_954
    assert led["epoch emission"] == {"e0": 10**20}
