"""What the network simulation will do, decided up front from the seed and the parameters:
stations (region, power class and tariff from the model's ``model:`` section, operator), drivers
(keys, RFID cards, how much they buy, their mandate, whether they redeem) and every charging
session (charger, driver, start, end, energy, cost). Everything the reconciliation expects
follows from this plan and the protocol's rules, never from what the stack reports.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec
from eth_utils.crypto import keccak

from wattnet.chain.eip712 import address_of_private_key
from wattnet.chain.meters import derived_p256_key
from wattnet.domain import OcppVersion, station_id_for
from wattnet.econ.settlement import session_cost
from wattnet.params import Params
from wattnet.sim.model.config import ModelConfig, parse_model

HEADROOM_S = 30  # the gateway stops a session this many seconds of rated power before its cap
MIN_SESSION_S = 600
GAP_S = 120  # a charger idles at least this long between sessions; a driver too
EPOCH_S = 604_800
REDEEM_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class Charger:
    index: int
    cp_id: str
    version: OcppVersion
    operator: int
    region: str
    geohash: str
    multiplier_bps: int
    tariff: int  # credit units per kWh
    rated_power_w: int
    key: bytes

    @property
    def station_id(self) -> bytes:
        return station_id_for(self.cp_id)

    @property
    def signer(self) -> str:
        return address_of_private_key(self.key)

    @property
    def meter_serial(self) -> str:
        """The serial of the station's signing meter (OCMF and its certificate)."""
        return f"M-{self.cp_id}"[:32]

    def meter_key(self) -> ec.EllipticCurvePrivateKey:
        """The station's meter key (P-256), certified by the simulated meter maker."""
        return derived_p256_key(self.key + b"meter")


@dataclass(frozen=True, slots=True)
class Driver:
    index: int
    address: str
    id_token: str
    buy: int  # credits bought (= stablecoin minted to the driver)
    per_session_cap: int  # smallest units, a multiple of the cap unit
    daily_cap: int
    redeems: bool


@dataclass(frozen=True, slots=True)
class Session:
    charger: int
    session_id: int  # the station's own counter: the gateway numbers a station's sessions 1, 2..
    driver: int
    start: int
    end: int
    energy_wh: int
    cost: int


@dataclass(frozen=True, slots=True)
class Plan:
    seed: int
    tag: str
    t0: int
    days: int
    credit_id: int
    cap_unit: int
    chargers: tuple[Charger, ...]
    drivers: tuple[Driver, ...]
    operators: tuple[str, ...]
    sessions: tuple[Session, ...]
    epoch_gaps: tuple[tuple[int, int], ...] = field(default=())  # no session ends inside

    @property
    def end(self) -> int:
        return self.t0 + self.days * 86_400


def derive_key(seed: int, tag: str, role: str, index: int) -> bytes:
    """A deterministic secp256k1 private key for one participant of one run."""
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    k = int.from_bytes(keccak(f"wattnet-sim:{seed}:{tag}:{role}:{index}".encode()), "big")
    return (k % (n - 1) + 1).to_bytes(32, "big")


def derive_address(seed: int, tag: str, role: str, index: int = 0) -> str:
    return address_of_private_key(derive_key(seed, tag, role, index))


def _round_up(x: int, unit: int) -> int:
    return -(-x // unit) * unit


def _weighted(rng: random.Random, weights: Sequence[float]) -> int:
    return rng.choices(range(len(weights)), weights=weights)[0]


SETUP_SLACK_S = 3_600  # after genesis, room for deploying before the first session


def run_tag(seed: int, used: Callable[[str], bool], tries: int = 1_000) -> str:
    """The tag of a run's keys, from the seed alone: the first ``keccak(seed:n)`` whose oracle
    ``used`` (already on this chain) says is not. A fresh anvil or a snapshot has seen no run,
    so the same seed gives the same tag, keys, stations and sessions every time; a chain that
    already ran the seed (``--rpc-url``) gets the next tag, so ids and keys never collide."""
    for n in range(tries):
        tag = keccak(f"{seed}:{n}".encode()).hex()[:6]
        if not used(derive_address(seed, tag, "oracle")):
            return tag
    raise ValueError(f"seed {seed} has run {tries} times on this chain; pick another --seed")


def aligned_start(genesis: int, now: int, lead: int) -> int:
    """When the first session may start: at least ``lead`` seconds after ``now``, and always at
    the same offset into a rewards epoch (``lead`` + one hour after an epoch boundary), so that
    the plan's sessions fall the same way around epoch boundaries whenever the chain started."""
    offset = lead + SETUP_SLACK_S
    k = max(0, -(-(now + lead - genesis - offset) // EPOCH_S))
    return genesis + k * EPOCH_S + offset


def make_plan(params: Params, *, chargers: int, drivers: int, days: int, seed: int, tag: str,
              t0: int, genesis: int, cap_unit: int, credit_id: int = 1) -> Plan:
    """Stations, drivers and sessions over ``days`` simulated days from ``t0``."""
    model: ModelConfig = parse_model(params)
    rng = random.Random(f"{seed}:{tag}")
    reg = params.registry
    n_ops = max(1, math.ceil(chargers / 5))
    op_weights = [1.0 / (k + 1) ** float(model.operator_alpha) for k in range(n_ops)]
    region_w = [r.station_share_bps for r in model.regions]
    class_w = [c.share_bps for c in model.power_classes]
    stations: list[Charger] = []
    for i in range(chargers):
        region = model.regions[_weighted(rng, region_w)]
        power = model.power_classes[_weighted(rng, class_w)]
        tariff = min(max(region.tariff_per_kwh, reg.min_tariff_per_kwh, 1),
                     reg.max_tariff_per_kwh)
        stations.append(Charger(
            index=i, cp_id=f"SIM-{tag}-{i:05d}",
            version=OcppVersion.V16 if i % 2 == 0 else OcppVersion.V201,
            operator=_weighted(rng, op_weights) if i >= n_ops else i,
            region=region.name, geohash=region.geohash,
            multiplier_bps=reg.multiplier_for(region.geohash), tariff=tariff,
            rated_power_w=round(power.rated_power_kw * 1000),
            key=derive_key(seed, tag, "station", i),
        ))
    used_ops = sorted({c.operator for c in stations})
    remap = {old: new for new, old in enumerate(used_ops)}
    stations = [_with_operator(c, remap[c.operator]) for c in stations]
    operators = tuple(derive_address(seed, tag, "operator", k) for k in range(len(used_ops)))

    end_of_run = t0 + days * 86_400
    gap_half = 900
    gaps = tuple((b - gap_half, b + gap_half) for b in range(
        genesis + EPOCH_S * ((t0 - genesis) // EPOCH_S + 1), end_of_run + EPOCH_S, EPOCH_S))
    max_len = min(params.settlement.max_session_duration, 3 * 3_600)
    slots: list[tuple[int, int, int, int]] = []  # (start, end, charger, energy)
    for c in stations:
        t = t0 + rng.randint(0, 3_600)
        while True:
            length = rng.randint(min(MIN_SESSION_S, max_len), max_len)
            start, end = t, t + length
            clash = next(((lo, hi) for lo, hi in gaps if lo <= end < hi), None)
            if clash is not None:
                t = clash[1] + GAP_S
                continue
            if end > end_of_run:
                break
            load = rng.uniform(0.3, 0.95)
            energy = max(1, int(c.rated_power_w * length * load) // 3_600)
            slots.append((start, end, c.index, energy))
            t = end + GAP_S + int(rng.expovariate(1 / 3_000))
    slots.sort()
    free_at = [0] * drivers
    count = [0] * chargers
    sessions: list[Session] = []
    for start, end, ci, energy in slots:
        ready = [d for d in range(drivers) if free_at[d] <= start]
        if not ready:
            continue
        d = rng.choice(ready)
        free_at[d] = end + GAP_S
        count[ci] += 1
        cost = session_cost(energy, stations[ci].tariff)
        sessions.append(Session(ci, count[ci], d, start, end, energy, cost))
    people = _drivers(seed, tag, drivers, stations, sessions, cap_unit, rng)
    return Plan(seed, tag, t0, days, credit_id, cap_unit, tuple(stations), people, operators,
                tuple(sessions), gaps)


def _with_operator(c: Charger, operator: int) -> Charger:
    return Charger(c.index, c.cp_id, c.version, operator, c.region, c.geohash, c.multiplier_bps,
                   c.tariff, c.rated_power_w, c.key)


def _drivers(seed: int, tag: str, n: int, stations: list[Charger], sessions: list[Session],
             cap_unit: int, rng: random.Random) -> tuple[Driver, ...]:
    """Mandates and purchases with room for the gateway's reservations: the per-session cap
    covers any of the driver's sessions plus the stop headroom; balance and daily cap cover
    every session plus a reservation for each (a gateway may hold several at once)."""
    mine: list[list[Session]] = [[] for _ in range(n)]
    for s in sessions:
        mine[s.driver].append(s)
    out = []
    for d in range(n):
        worst = 0
        for s in mine[d]:
            c = stations[s.charger]
            headroom = c.rated_power_w * HEADROOM_S // 3_600 + 10
            worst = max(worst, session_cost(s.energy_wh + headroom, c.tariff))
        per_session = _round_up(max(worst * 2, cap_unit * 100), cap_unit)
        total = sum(s.cost for s in mine[d])
        room = per_session * (len(mine[d]) + 2)
        daily = _round_up(total + room, cap_unit)
        out.append(Driver(
            index=d, address=derive_address(seed, tag, "driver", d),
            id_token=f"{tag.upper()}{d:08X}", buy=total + room, per_session_cap=per_session,
            daily_cap=daily, redeems=rng.random() < REDEEM_SHARE,
        ))
    return tuple(out)
