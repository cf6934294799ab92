"""Model inputs (protocol parameters + model assumptions in model units) and the initial state.

Model units: tokens in micro-WATT (``UWATT`` = 1e-6 WATT, int64, so every token flow is an exact
integer: the cap of 1e9 WATT is 1e15 uWATT, far inside int64), money in credit units (int64 for
fees and the treasury), energy in Wh (int64) per station and epoch, region aggregates in float.
Per-station state is (runs, stations); slots of one region are contiguous, so a region is a slice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wattnet.econ import rewards as rules
from wattnet.econ.findings import required_stake
from wattnet.econ.weight import epoch_cap_wh, station_kw
from wattnet.errors import ConfigError
from wattnet.params import BPS, Params, emission_schedule_wei, to_wei
from wattnet.sim.model.config import ModelConfig, parse_model

UWATT = 10**6  # model token units per WATT
WEI_PER_UWATT = 10**12
DAYS_PER_EPOCH = 7
HOURS_PER_EPOCH = 168

I64 = NDArray[np.int64]
F32 = NDArray[np.float32]
F64 = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything one simulation needs, already in model units (identical for every run)."""

    days: int
    epochs: int
    stations: int
    cfg: ModelConfig
    emission_u: I64  # (epochs,) uWATT scheduled per epoch
    op_bps: int
    tr_bps: int  # what the treasury gets of a session nobody (valid) referred: 10000 - op_bps
    ref_bps: int
    referred_bps: int  # model.demand.referred_share_bps: sessions whose driver chose a referrer
    cap_bps: int
    power_w: I64  # (classes,) declared rated power = certified power, W (integer, <= 2 MW)
    stake_u: I64  # (classes,) stake an operator bonds for a station of each class, uWATT
    slash_to_treasury: bool
    genesis_u: int
    min_tariff: int
    credit_decimals: int
    credit_symbol: str
    region_mult_bps: I64  # (G,) registry.region_multipliers looked up by each region's geohash
    fee_multiple_bps: int  # rewards.fee_multiple_bps: reward worth at most this share of fees
    price_floor: float  # rewards.watt_price_floor in credit units (of credit id 1) per WATT
    # registry.uncertified_reward_bps: StationRegistry.settlementView multiplies the region
    # multiplier of a station without a certified meter by it (0 in every params file)
    uncertified_bps: int
    # RewardsEngine.claimableAt: an epoch's rewards are escrowed rewards.challenge_window after
    # it ends, i.e. claimable at the end of epoch e + escrow_epochs (ceil(window / epoch))
    escrow_epochs: int
    # RewardsEngine.forfeit: a finding proposed at the end of epoch e executes after the timelock
    # path (governance voting_delay + voting_period + timelock_delay, plus
    # model.adversaries.finding_lag_days) and forfeits the epochs still unclaimable then, the
    # last forfeit_epochs = ceil((window - delay) / epoch) of them (0 if the delay >= the window)
    forfeit_epochs: int
    # a fraud proof (OperatorStaking._punish): staking.equivocation_slash, bounty_bps of it paid
    # to the prover (watchers), the rest to the slash destination
    proof_slash_u: int
    stake_declared_u: int  # stake bonded for a station declaring adversaries.declared_power_kw
    bounty_bps: int
    quorum_bps: int  # governance.quorum_percent: votes needed, share of the WATT supply
    proposal_threshold_u: int  # governance.proposal_threshold, uWATT


def largest_remainder(total: int, shares_bps: list[int]) -> list[int]:
    """Split ``total`` by bps shares into integers that sum to ``total`` exactly."""
    raw = [total * s / BPS for s in shares_bps]
    out = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def escrow_epochs(params: Params) -> int:
    """Epochs an epoch's rewards wait in escrow (``RewardsEngine.claimableAt``)."""
    return rules.escrow_epochs(params.rewards.challenge_window)


def forfeit_epochs(params: Params, finding_lag_days: float) -> int:
    """Escrowed epochs a finding proposed at the end of an epoch still forfeits when the
    timelock executes it (``RewardsEngine.forfeit`` returns false once ``claimableAt`` passed;
    the rational fraudster claims at ``claimableAt``)."""
    gv = params.governance
    delay = gv.voting_delay + gv.voting_period + gv.timelock_delay
    return rules.forfeit_epochs(params.rewards.challenge_window,
                                delay + round(finding_lag_days * 86_400))


def build_inputs(params: Params, days: int | None = None, stations: int | None = None) -> Inputs:
    cfg = parse_model(params)
    if days is not None or stations is not None:
        cfg = dataclasses.replace(
            cfg, horizon_days=days or cfg.horizon_days, stations=stations or cfg.stations
        )
    if cfg.horizon_days < DAYS_PER_EPOCH or cfg.stations < 1:
        raise ConfigError(f"{params.source}: need at least 7 days and 1 station to simulate")
    epochs = -(-cfg.horizon_days // DAYS_PER_EPOCH)
    schedule = np.zeros(epochs, dtype=np.int64)
    for i, wei in enumerate(emission_schedule_wei(params.rewards)):
        if i >= epochs:
            break
        schedule[i] = wei // WEI_PER_UWATT
    # Power classes are the stations' declared power, certified at that power (a certificate
    # caps it; declaring more only bonds more stake): integer W as the registry holds it.
    power_w = np.array([round(c.rated_power_kw * 1000) for c in cfg.power_classes],
                       dtype=np.int64)
    st = params.staking
    stake_u = np.array([required_stake(1, station_kw(int(w)), to_wei(st.min_stake_per_station),
                                       to_wei(st.stake_per_kw)) // WEI_PER_UWATT
                        for w in power_w], dtype=np.int64)
    genesis_u = int(params.rewards.genesis_supply * UWATT)
    pool_u = int(cfg.market["pool_watt"]) * UWATT
    if genesis_u < pool_u + cfg.stations * int(stake_u.max()):
        raise ConfigError(
            f"{params.source}: rewards.genesis_supply={params.rewards.genesis_supply} WATT cannot "
            f"seed model.market.pool_watt={cfg.market['pool_watt']} plus the stake of "
            f"{cfg.stations} stations; raise genesis_supply or lower pool_watt"
        )
    credit = params.credits.stablecoins[0]  # the model prices everything in credit id 1
    return Inputs(
        days=cfg.horizon_days,
        epochs=epochs,
        stations=cfg.stations,
        cfg=cfg,
        emission_u=schedule,
        op_bps=params.settlement.operator_share_bps,
        tr_bps=BPS - params.settlement.operator_share_bps,
        ref_bps=params.settlement.referrer_share_bps,
        referred_bps=int(cfg.demand["referred_share_bps"]),
        cap_bps=params.rewards.station_epoch_cap_bps,
        power_w=power_w,
        stake_u=stake_u,
        slash_to_treasury=params.staking.slash_destination.value == "treasury",
        genesis_u=genesis_u,
        min_tariff=params.registry.min_tariff_per_kwh,
        credit_decimals=credit.decimals,
        credit_symbol=credit.symbol,
        region_mult_bps=np.array(
            [params.registry.multiplier_for(r.geohash) for r in cfg.regions], dtype=np.int64
        ),
        fee_multiple_bps=params.rewards.fee_multiple_bps,
        # USD per WATT -> credit units per WATT: one credit unit is 10**-decimals USD, as the
        # contract counts retained fees (SessionSettlement: x 1e16 / capUnit)
        price_floor=float(params.rewards.watt_price_floor * 10**credit.decimals),
        uncertified_bps=params.registry.uncertified_reward_bps,
        escrow_epochs=escrow_epochs(params),
        forfeit_epochs=forfeit_epochs(params, cfg.adversaries["finding_lag_days"]),
        stake_declared_u=int(required_stake(
            1, station_kw(round(cfg.adversaries["declared_power_kw"] * 1000)),
            to_wei(st.min_stake_per_station), to_wei(st.stake_per_kw)) // WEI_PER_UWATT),
        proof_slash_u=int(to_wei(st.equivocation_slash) // WEI_PER_UWATT),
        bounty_bps=st.equivocation_bounty_bps,
        quorum_bps=int(params.governance.quorum_percent * 100),
        proposal_threshold_u=int(to_wei(params.governance.proposal_threshold) // WEI_PER_UWATT),
    )


@dataclass(slots=True)
class Stations:
    """Per-station state of a batch of runs, shape (runs, stations)."""

    region: NDArray[np.int16]  # (stations,) same in every run: contiguous blocks
    rank: NDArray[np.int32]  # (stations,) position inside its region's deployment queue
    flat_region: NDArray[np.int32]  # (runs, stations) run * G + region, for gathers
    power_kw: F32
    cap_wh: I64  # reward weight cap per epoch (SessionSettlement: rated power x epoch x cap)
    stake_u: I64  # stake bonded for the station (min per station + per kW), uWATT
    max_wh: I64  # rated power x 168 h: the most its receipts can claim in an epoch
    opex_epoch: F32
    capex: F32
    operator: NDArray[np.int32]
    wash: NDArray[np.bool_]
    inflated: NDArray[np.bool_]  # its meter reports more energy than was delivered
    # an inflating meter that is certified and signs the inflated readings (its key extracted or
    # its metrology tampered under the seal): the oracle accepts them and they earn weight; any
    # other inflating meter is uncertified (weight x registry.uncertified_reward_bps)
    broken: NDArray[np.bool_]
    # the other attacks (docs/economics.md "Attack scenarios"): a certified meter whose key is
    # extracted, signing sessions that delivered nothing; an uncertified station declaring
    # model.adversaries.declared_power_kw; a claimed location in the most boosted region (spoof:
    # attempted, spoof_ok: the attester was fooled, so the boost applies); the operator named
    # as referrer on every receipt
    fake: NDArray[np.bool_]
    power: NDArray[np.bool_]
    spoof: NDArray[np.bool_]
    spoof_ok: NDArray[np.bool_]
    selfref: NDArray[np.bool_]
    life: NDArray[np.int16] | None  # epochs an operator stays (churn), None without churn
    detect_after: NDArray[np.int16]  # epochs of fraud before the station is caught
    # evolving
    active: NDArray[np.bool_]
    caught: NDArray[np.bool_]
    deploy_epoch: NDArray[np.int16]  # -1 while not deployed
    outlay: F32
    cash: F32
    payback_epoch: NDArray[np.int16]
    rewards_u: I64


@dataclass(slots=True)
class Noise:
    demand: F32  # (runs, days, G) standard normal
    market: F32  # (runs, days)
    deploy: F32  # (runs, epochs, G) uniform for stochastic rounding


def init_stations(inp: Inputs, run_ids: list[int], seed: int) -> tuple[Stations, Noise]:
    cfg, n_runs, n = inp.cfg, len(run_ids), inp.stations
    n_g = len(cfg.regions)
    counts = largest_remainder(n, [r.station_share_bps for r in cfg.regions])
    region = np.repeat(np.arange(n_g, dtype=np.int16), counts)
    rank = np.concatenate([np.arange(c, dtype=np.int32) for c in counts])
    cls_p = np.array([c.share_bps for c in cfg.power_classes], dtype=np.float64) / BPS
    op_w = 1.0 / np.arange(1, cfg.operators + 1, dtype=np.float64) ** cfg.operator_alpha
    op_w /= op_w.sum()
    adv = cfg.adversaries
    wash_p, infl_p = adv["wash_station_share_bps"] / BPS, adv["inflated_meter_share_bps"] / BPS
    broken_p = infl_p * adv["broken_meter_share_bps"] / BPS
    p_detect = adv["detection_bps_per_epoch"] / BPS
    fake_p, power_p = adv["fake_session_share_bps"] / BPS, adv["declared_power_share_bps"] / BPS
    spoof_p, ref_p = adv["spoof_share_bps"] / BPS, adv["self_referral_share_bps"] / BPS
    proof_p = adv["proof_bps_per_epoch"] / BPS
    churn_p = cfg.deployment["churn_bps_per_epoch"] / BPS
    detect_proof = np.full((n_runs, n), 30_000, dtype=np.int16)
    life = np.empty((n_runs, n), dtype=np.int16) if churn_p > 0 else None
    classes = np.empty((n_runs, n), dtype=np.int16)
    operator = np.empty((n_runs, n), dtype=np.int32)
    u_fraud = np.empty((n_runs, n), dtype=np.float32)
    detect = np.empty((n_runs, n), dtype=np.int16)
    noise = Noise(
        demand=np.empty((n_runs, inp.epochs * DAYS_PER_EPOCH, n_g), dtype=np.float32),
        market=np.empty((n_runs, inp.epochs * DAYS_PER_EPOCH), dtype=np.float32),
        deploy=np.empty((n_runs, inp.epochs, n_g), dtype=np.float32),
    )
    conc = cfg.concentration_region
    for i, run in enumerate(run_ids):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(run,)))
        classes[i] = rng.choice(len(cls_p), size=n, p=cls_p)
        operator[i] = rng.choice(cfg.operators, size=n, p=op_w)
        u_fraud[i] = rng.random(n, dtype=np.float32)
        detect[i] = np.minimum(rng.geometric(p_detect, size=n), 30_000) if p_detect > 0 else 30_000
        noise.demand[i] = rng.standard_normal(noise.demand.shape[1:], dtype=np.float32)
        noise.market[i] = rng.standard_normal(noise.market.shape[1:], dtype=np.float32)
        noise.deploy[i] = rng.random(noise.deploy.shape[1:], dtype=np.float32)
        if conc and adv["concentration_share_bps"] > 0:
            g = cfg.region_index(conc)
            lo = sum(counts[:g])
            take = rng.random(counts[g]) < adv["concentration_share_bps"] / BPS
            operator[i, lo : lo + counts[g]][take] = cfg.operators  # the concentrating operator
        # draws the later features add come last, so the streams above stay as they were
        if proof_p > 0 and power_p > 0:
            detect_proof[i] = np.minimum(rng.geometric(proof_p, size=n), 30_000)
        if life is not None:
            life[i] = np.minimum(rng.geometric(churn_p, size=n), 30_000)
    power = (inp.power_w / 1000).astype(np.float32)[classes]
    cap_wh = epoch_cap_wh(inp.power_w, inp.cap_bps)[classes]
    stake_u = inp.stake_u[classes]
    max_wh = (inp.power_w * HOURS_PER_EPOCH)[classes]
    # one uniform draw places a station in at most one attack, in this order
    edges = np.cumsum([wash_p, infl_p, fake_p, power_p, spoof_p, ref_p])
    kind = np.searchsorted(edges, u_fraud, side="right")  # 6: honest

    def between(k: int) -> NDArray[np.bool_]:
        out: NDArray[np.bool_] = kind == k
        return out

    abuse = between(3)
    if abuse.any():  # uncertified: the declared power sets its cap, plausibility and stake
        declared_w = round(adv["declared_power_kw"] * 1000)
        st_p = inp.stake_declared_u
        cap_wh[abuse] = int(epoch_cap_wh(np.int64(declared_w), inp.cap_bps))
        max_wh[abuse] = declared_w * HOURS_PER_EPOCH
        stake_u[abuse] = st_p
        detect = np.where(abuse, detect_proof, detect).astype(np.int16)
    # a spoofer claims the most boosted region; one already there gains nothing: not a spoofer
    mult = inp.region_mult_bps
    spoof = between(4) & (mult[region] < mult.max())[None, :]
    spoof_ok = spoof & (u_fraud < edges[3] + spoof_p * adv["spoof_attested_bps"] / BPS)
    selfref = between(5)
    zeros16 = np.zeros((n_runs, n), dtype=np.int16)
    stations = Stations(
        region=region,
        rank=rank,
        flat_region=(np.arange(n_runs, dtype=np.int32)[:, None] * n_g + region[None, :]),
        power_kw=power,
        cap_wh=cap_wh,
        stake_u=stake_u,
        max_wh=max_wh,
        opex_epoch=np.array(
            [c.opex_per_day * DAYS_PER_EPOCH for c in cfg.power_classes], dtype=np.float32
        )[classes],
        capex=np.array([c.capex for c in cfg.power_classes], dtype=np.float32)[classes],
        operator=operator,
        wash=u_fraud < wash_p,
        inflated=(u_fraud >= wash_p) & (u_fraud < wash_p + infl_p),
        broken=(u_fraud >= wash_p) & (u_fraud < wash_p + broken_p),
        fake=between(2),
        power=abuse,
        spoof=spoof,
        spoof_ok=spoof_ok,
        selfref=selfref,
        life=life,
        detect_after=detect,
        active=np.zeros((n_runs, n), dtype=bool),
        caught=np.zeros((n_runs, n), dtype=bool),
        deploy_epoch=zeros16 - 1,
        outlay=np.zeros((n_runs, n), dtype=np.float32),
        cash=np.zeros((n_runs, n), dtype=np.float32),
        payback_epoch=zeros16 - 1,
        rewards_u=np.zeros((n_runs, n), dtype=np.int64),
    )
    return stations, noise


def region_counts(inp: Inputs) -> list[int]:
    return largest_remainder(inp.stations, [r.station_share_bps for r in inp.cfg.regions])


def describe(inp: Inputs) -> dict[str, Any]:
    return {
        "days": inp.days,
        "epochs": inp.epochs,
        "stations": inp.stations,
        "regions": [r.name for r in inp.cfg.regions],
    }
