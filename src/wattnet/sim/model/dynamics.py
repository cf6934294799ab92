"""One batch of Monte Carlo runs, vectorized over runs and stations.

Days are stepped per region (demand, served energy, market noise); each weekly reward epoch then
settles every station: its energy, fees (split in integers, as the contract does), its share of
the epoch's emission (capped weight, certified meters only) bounded by the fees it left with the
treasury (bound.py), held in escrow for the challenge window and minted when claimed, fraud
detection, forfeits and slashing (escrow.py), its cash flow and payback.
Within a region every station sees the same utilization, so per-day work is per region and only
the epoch settlement touches per-station state; see docs/economics.md for the equations.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np

from wattnet.econ.rewards import share_by_weight
from wattnet.econ.settlement import session_cost, split_payment
from wattnet.econ.weight import weight as weight_of
from wattnet.params import BPS
from wattnet.sim.model.attacks import Attackers, breakevens, variant_costs
from wattnet.sim.model.bound import FeeBound
from wattnet.sim.model.escrow import Escrow
from wattnet.sim.model.outcomes import FEES, LEDGER, SERIES, Batch, finish
from wattnet.sim.model.payments import churn, punish, split_fees
from wattnet.sim.model.state import (
    DAYS_PER_EPOCH,
    F64,
    HOURS_PER_EPOCH,
    I64,
    UWATT,
    Inputs,
    init_stations,
    region_counts,
)

log = logging.getLogger(__name__)


def simulate(
    inp: Inputs, run_ids: list[int], seed: int, on_epoch: Callable[[int], None] | None = None
) -> Batch:
    cfg = inp.cfg
    st, noise = init_stations(inp, run_ids, seed)
    n_r, n_g, n_e = len(run_ids), len(cfg.regions), inp.epochs
    counts = np.array(region_counts(inp), dtype=np.int64)
    dem, mkt, dep, adv, shk, trs = (
        cfg.demand,
        cfg.market,
        cfg.deployment,
        cfg.adversaries,
        cfg.shocks,
        cfg.treasury,
    )
    tariff = np.array([r.tariff_per_kwh for r in cfg.regions], dtype=np.float64)
    tariff_i = tariff.astype(np.int64)
    elec = np.array([r.electricity_cost_per_kwh for r in cfg.regions], dtype=np.float64)
    growth = np.array([(1 + r.driver_growth_per_year * dem["growth_scale"]) ** (1 / 365)
                       for r in cfg.regions])
    base = np.array([r.drivers * r.kwh_per_driver_per_day for r in cfg.regions])
    base = base * (tariff / dem["reference_tariff_per_kwh"]) ** -dem["price_elasticity"]
    cls_p = np.array([c.share_bps for c in cfg.power_classes]) / BPS
    mean_kw = float(cls_p @ [c.rated_power_kw for c in cfg.power_classes])
    mean_capex = float(cls_p @ [c.capex for c in cfg.power_classes])
    mean_opex = float(cls_p @ [c.opex_per_day for c in cfg.power_classes])
    mean_stake_u = float(cls_p @ inp.stake_u)
    bound = FeeBound.of(inp, tariff, elec)  # rewards.fee_multiple_bps, watt_price_floor
    mult_g = inp.region_mult_bps / BPS
    sigma_d, sigma_m = dem["noise_sigma"], mkt["noise_sigma"]
    rho = 0.9  # day-to-day persistence of regional demand noise
    max_u = dem["max_utilization"]
    shock_lo = shk["demand_shock_start_day"]
    shock_hi = shock_lo + shk["demand_shock_days"]
    shock_f = shk["demand_shock_factor_bps"] / BPS

    # static per-station lookups; fraudulent stations are few, so their work is sparse
    n_s = inp.stations
    tariff_s = tariff_i[st.region]
    mult_s = inp.region_mult_bps[st.region]
    elec_s = elec.astype(np.float32)[st.region]
    flat_r = st.flat_region.ravel()
    # the attackers (attacks.py): the weight multiplier StationRegistry.settlementView gives
    # them (uncertified meters scaled by registry.uncertified_reward_bps, an attested spoofer
    # boosted). A certified meter's receipt claiming more than its signed readings never
    # settles (the oracle's OCMF check), so it is not an option the model gives an attacker.
    atk = Attackers.of(inp, st, tariff_s, elec)
    fidx, f_run, f_infl = atk.idx, atk.run, atk.infl
    f_cap, f_detect, f_max_wh, f_stake = atk.cap, atk.detect, atk.max_wh, atk.stake
    f_tariff, f_mult = atk.tariff, atk.mult
    esc = Escrow.empty(n_r, f_run, inp.escrow_epochs, inp.forfeit_epochs)
    f_epochs = atk.epochs  # attacking epochs so far
    f_sr = atk.idx[atk.selfref] if inp.referred_bps else atk.idx[:0]
    costs = variant_costs(inp, elec)
    # the concentrating operator's stations (a cluster): its rewards, and votes if it holds them
    cl_flat = np.flatnonzero(st.operator.ravel() == cfg.operators)
    cl_run = cl_flat // n_s
    cl_keep = 1.0 if adv["cluster_holds_rewards"] else 1 - mkt["reward_sell_bps"] / BPS
    cl_votes = np.zeros(n_r)
    # per region and epoch: energy served (kWh), rewards accrued (WATT), capacity (kWh)
    kwh_g = np.zeros((n_r, n_e, n_g))
    rew_g = np.zeros((n_r, n_e, n_g))
    cap_kwh_g = np.zeros((n_r, n_g))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])  # regions are contiguous slots
    infl_bps = int(adv["inflation_bps"])
    power_live = np.zeros((n_r, n_s), dtype=np.float32)  # rated power of active stations, else 0
    opex_live = np.zeros((n_r, n_s), dtype=np.float32)

    # run-level state
    deployed = np.zeros((n_r, n_g), dtype=np.int64)
    z = np.zeros((n_r, n_g))
    pool_x = np.full(n_r, int(mkt["pool_watt"]) * UWATT, dtype=np.int64)
    pool_y = pool_x / UWATT * mkt["initial_price"]
    led = {k: np.zeros(n_r, dtype=np.int64) for k in LEDGER}
    led["treasury"][:] = inp.genesis_u - pool_x
    fees = {k: np.zeros(n_r, dtype=np.int64) for k in FEES}
    t_credits = np.full(n_r, int(trs["initial_credits"]), dtype=np.int64)
    ser = {k: np.zeros((n_r, n_e)) for k in SERIES}
    u_prev = np.zeros((n_r, n_g))
    rr_prev = np.zeros(n_r)  # WATT rewarded per kWh of weight, last epoch
    rows = np.arange(n_r, dtype=np.int64)
    opex_day = int(trs["opex_per_day"])

    def buy(credits: F64) -> I64:
        """Spend credits on the pool; returns uWATT bought (floor)."""
        k = pool_x * pool_y
        out = np.maximum(pool_x - np.ceil(k / (pool_y + credits)).astype(np.int64), 0)
        pool_x[:] -= out
        pool_y[:] += credits
        bought: I64 = out
        return bought

    def sell(amount_u: I64) -> F64:
        k = pool_x * pool_y
        new_y = k / (pool_x + amount_u)
        got = pool_y - new_y
        pool_x[:] += amount_u
        pool_y[:] = new_y
        received: F64 = got
        return received

    for e in range(n_e):
        price = pool_y / pool_x * UWATT  # credits per WATT
        # ---- deployment, driven by expected return per region ----
        remaining = counts[None, :] - deployed
        if e == 0:
            new = np.floor(counts * dep["initial_station_share_bps"] / BPS).astype(np.int64)
            new = np.broadcast_to(new, (n_r, n_g)).copy()
        else:
            cap_kwh = bound.honest_cap / bound.price(price)[:, None]
            reward_kwh = np.minimum(rr_prev[:, None] * mult_g, cap_kwh)  # fee-bounded
            value_kwh = tariff * inp.op_bps / BPS - elec + reward_kwh * price[:, None]
            cash_year = mean_kw * u_prev * 8760 * value_kwh - mean_opex * 365
            outlay = mean_capex + mean_stake_u / UWATT * price[:, None]
            roi = cash_year / outlay
            rate = (
                dep["max_epoch_deploy_bps"]
                / BPS
                / (1 + np.exp(-dep["sensitivity"]
                              * (roi - dep["hurdle_rate"] - mkt["risk_free_rate"])))
            )
            new = np.floor(remaining * rate + noise.deploy[:, e, :]).astype(np.int64)
        new = np.minimum(new, remaining)
        if new.any():
            lo = deployed[:, st.region]  # (R, S) via region gather
            deployed += new
            hi = deployed[:, st.region]
            fresh = (st.rank >= lo) & (st.rank < hi)
            born = np.flatnonzero(fresh)  # few per epoch: their own work is sparse
            born_run = born // n_s
            # stake is pooled per operator: it covers min_stake_per_station + stake_per_kw x kW
            # for each of its stations (OperatorStaking._required), bought with the station
            born_stake = st.stake_u.reshape(-1)[born]
            need = np.zeros(n_r, dtype=np.int64)
            np.add.at(need, born_run, born_stake)
            from_pool = np.minimum(need, pool_x // 2)
            paid = np.where(from_pool > 0, pool_y * from_pool / (pool_x - from_pool), 0.0)
            pool_y += paid
            pool_x -= from_pool
            rest = need - from_pool  # bought from the treasury at the pool price
            led["treasury"] -= rest
            t_credits += np.floor(rest / UWATT * price).astype(np.int64)
            led["staked"] += need
            per_u = (paid + rest / UWATT * price) / np.maximum(need, 1)  # credits per uWATT
            st.active |= fresh
            power_live[fresh] = st.power_kw[fresh]
            opex_live[fresh] = st.opex_epoch[fresh]
            st.deploy_epoch[fresh] = e
            stake_cost = (born_stake * per_u[born_run]).astype(np.float32)
            st.outlay.reshape(-1)[born] += st.capex.reshape(-1)[born] + stake_cost
        price = pool_y / pool_x * UWATT
        # ---- days: demand and served energy per region; market noise ----
        cap_kw = np.bincount(flat_r, weights=power_live.ravel(), minlength=n_r * n_g).reshape(
            n_r, n_g
        )
        hours = np.zeros((n_r, n_g))
        for d in range(e * DAYS_PER_EPOCH, (e + 1) * DAYS_PER_EPOCH):
            z = rho * z + np.sqrt(1 - rho**2) * noise.demand[:, d, :]
            demand = base * growth**d * np.exp(sigma_d * z - sigma_d**2 / 2)
            if shock_lo <= d < shock_hi:
                demand = demand * shock_f
            cap_day = cap_kw * 24
            served = np.minimum(demand, cap_day * max_u)
            hours += np.divide(served, cap_kw, out=np.zeros_like(served), where=cap_kw > 0)
            pool_y *= np.exp(sigma_m * noise.market[:, d] - sigma_m**2 / 2)
            if d == shk["price_crash_day"]:
                pool_y *= shk["price_crash_factor_bps"] / BPS
        price = pool_y / pool_x * UWATT
        # ---- epoch settlement, per station ----
        honest_kwh = power_live * hours.astype(np.float32).ravel()[st.flat_region]
        honest_wh = (honest_kwh * 1000).astype(np.int64)
        wprice = bound.price(price)  # the contract's wattPrice, the pool as its price feed
        kwh_g[:, e] = cap_kw * hours
        cap_kwh_g += cap_kw * HOURS_PER_EPOCH
        # attackers: inflated meters always; self-dealers (wash, fake sessions, declared power)
        # when it pays at last epoch's reward rate, and only the Wh that fill the fee-bound room
        # of their honest traffic
        f_act = st.active.ravel()[fidx]
        f_h = honest_wh.ravel()[fidx]
        f_room = np.where(atk.self_dealing & f_act & atk.pays(bound, price, rr_prev),
                          f_cap - f_h, 0)
        f_rate = rr_prev[f_run] * f_mult / BPS
        f_wash_wh = bound.wash_wh(f_rate, f_h, f_tariff, f_room, wprice[f_run])
        f_washing = f_wash_wh > 0
        f_inflating = f_infl & f_act
        # what the meter reports; no receipt claims more than rated power x its duration
        # (EnergyImplausible), so no station-epoch more than rated power x 168 h
        f_rep = np.where(f_inflating, np.minimum(f_h * infl_bps // BPS, f_max_wh), f_h)
        f_wash_bill = session_cost(f_wash_wh, inp.min_tariff)  # self-charging at T_min
        claimed = honest_wh.copy()
        claimed.reshape(-1)[fidx] = f_rep + f_wash_wh
        # fees: drivers pay what the meter says, split as the contract splits each session
        # (the treasury takes the rounding remainder and the referrer share nobody earned)
        fee = session_cost(honest_wh, tariff_s)
        fee.reshape(-1)[fidx] = session_cost(f_rep, f_tariff)
        pay = split_fees(fee, inp)
        opf, ref, tr, ret = pay.operator, pay.referrer, pay.treasury, pay.retained
        if f_sr.size:  # the operator named as referrer: _settleOne pays the treasury instead
            sr = split_payment(fee.reshape(-1)[f_sr], inp.op_bps, inp.ref_bps, False)
            for total, part in ((opf, sr.operator), (ref, sr.referrer), (tr, sr.treasury),
                                (ret, sr.retained)):
                total.reshape(-1)[f_sr] = part
        # wash sessions are referred to the wash trader's own alias: that share comes back
        wash = split_payment(f_wash_bill, inp.op_bps, inp.ref_bps, True)
        for total, part in ((fee, f_wash_bill), (opf, wash.operator), (ref, wash.referrer),
                            (tr, wash.treasury), (ret, wash.retained)):
            total.reshape(-1)[fidx] += part
        # reward weight: capped energy times the region multiplier (registry.region_multipliers),
        # times registry.uncertified_reward_bps for a station without a certified meter
        weight = weight_of(claimed, st.cap_wh, mult_s)
        weight.reshape(-1)[fidx] = weight_of(claimed.reshape(-1)[fidx], f_cap, f_mult)
        total_w = weight.sum(axis=1)
        emission = int(inp.emission_u[e])
        by_weight = share_by_weight(emission, weight, total_w[:, None])
        reward = bound.reward(by_weight, ret, wprice[:, None])  # the treasury's own share
        rew_g[:, e] = np.add.reduceat(reward, starts, axis=1) / UWATT
        accrued = reward.sum(axis=1)
        # rewards paid for fraudulent energy: each fraudulent station's reward minus what its
        # honest energy alone would have earned under the same rule (a statistic, not a transfer)
        f_fair_w = share_by_weight(emission, weight_of(f_h, f_cap, atk.fair_mult),
                                   total_w[f_run])
        f_fair = bound.reward(f_fair_w, split_fees(session_cost(f_h, f_tariff), inp).retained,
                              wprice[f_run])
        f_gain = np.maximum(reward.reshape(-1)[fidx] - f_fair, 0).astype(np.float64)
        f_reward = reward.reshape(-1)[fidx]
        esc.hold(e, accrued, f_reward, f_gain.astype(np.int64))
        st.rewards_u += reward
        # like the contract, only what is claimed is minted: the bound's withheld part, the
        # rounding dust, an epoch without weight and forfeited rewards are never minted
        fees["accrued"] += accrued
        fees["withheld"] += by_weight.sum(axis=1) - accrued
        for k, v in (
            ("fees", fee),
            ("operator_fees", opf),
            ("treasury_fees", tr),
            ("referrer_fees", ref),
        ):
            fees[k] += v.sum(axis=1)
        # station cash (float32): operator fees - electricity - opex + rewards at the pool price;
        # wash traders also get their sessions' referrer share back and pay their own bills
        delta = opf.astype(np.float32)
        delta -= honest_kwh * elec_s
        delta -= opex_live
        delta += reward.astype(np.float32) * (price / UWATT).astype(np.float32)[:, None]
        f_cost = wash.treasury + f_wash_wh / 1000 * atk.elec  # the attack's cash cost
        f_extra = wash.referrer - f_wash_bill - f_wash_wh / 1000 * atk.elec
        delta.reshape(-1)[fidx] += f_extra.astype(np.float32)
        st.cash += delta
        newly = st.active & (st.payback_epoch < 0) & (st.cash >= st.outlay)
        st.payback_epoch[newly] = e
        # ---- fraud detection: findings forfeit what is still in escrow, and slash ----
        f_now = f_washing | f_inflating | (atk.spoof_ok & f_act)
        f_epochs += f_now
        f_caught = f_now & (f_epochs >= f_detect) & f_act
        # the attack's value: rewards for fraudulent energy or a false boost, fees its drivers
        # paid for inflated energy (the operator's share), less its cash cost
        drivers = (f_rep - f_h) * f_tariff / 1000 * inp.op_bps / BPS
        f_value = f_gain * (price / UWATT)[f_run] + drivers
        ser["attack_gain"][:, e] = np.bincount(f_run, weights=f_value, minlength=n_r)
        ser["attack_cost"][:, e] = np.bincount(f_run, weights=f_cost, minlength=n_r)
        if f_caught.any():
            lost = esc.forfeit(e, f_caught)
            fees["forfeited"] += np.bincount(f_run, weights=lost, minlength=n_r).astype(np.int64)
            st.rewards_u.reshape(-1)[fidx] -= lost
            lost_value = lost * (price / UWATT)[f_run]
            st.cash.reshape(-1)[fidx] -= lost_value.astype(np.float32)
            # no fraud proof covers these (real energy self-charged; readings a broken certified
            # meter signed; an uncertified meter's claims): the slashing authority decides a
            # slash of fraud_slash_bps of the station's bonded stake from the operator's pool
            # (OperatorStaking.slash: no bounty), the rest of that stake goes back
            # a declared-power abuser's readings commitment is refuted by a fraud proof
            # (ReadingsProofs.proveBadReadings): equivocation_slash, with the prover's bounty
            taken = punish(f_stake * f_caught, atk.proven, int(adv["fraud_slash_bps"]), inp,
                           f_run, led, fees)
            ser["attack_loss"][:, e] = (
                np.bincount(f_run, weights=lost_value, minlength=n_r) + taken * price / UWATT
            )
            gone = fidx[f_caught]
            for arr, value in (
                (st.active, False),
                (st.caught, True),
                (power_live, 0),
                (opex_live, 0),
            ):
                arr.reshape(-1)[gone] = value
        if st.life is not None:  # churn: operators leave, unbond, their slots stay empty
            leaving = churn(st, e, led)
            power_live[leaving] = 0
            opex_live[leaving] = 0
        # ---- claims: the epoch whose challenge window ended is minted ----
        paid_u, fraud_u = esc.release(e)
        led["minted"] += paid_u
        fees["rewards"] += paid_u
        fees["fraud_rewards"] += fraud_u
        # ---- market and treasury ----
        cl_reward = np.bincount(cl_run, weights=reward.ravel()[cl_flat], minlength=n_r)
        cl_votes += cl_reward * cl_keep / UWATT
        # a cluster that holds its rewards sells none of its part of the claim
        held = np.zeros(n_r, dtype=np.int64)
        if adv["cluster_holds_rewards"]:  # its share of this epoch's accrual stands for its claim
            share = np.divide(cl_reward, accrued, out=np.zeros(n_r), where=accrued > 0)
            held = (paid_u * share).astype(np.int64)
        sold = (paid_u - held) * int(mkt["reward_sell_bps"]) // BPS
        led["operators"] += paid_u - sold
        sell(sold)
        income = tr.sum(axis=1)
        buyback = income * int(trs["buyback_share_bps"]) // BPS
        burned = buy(buyback.astype(np.float64))
        led["burned"] += burned
        t_credits += income - buyback - opex_day * DAYS_PER_EPOCH
        price = pool_y / pool_x * UWATT
        # ---- epoch statistics ----
        rr = np.divide(emission / UWATT, total_w / 1000, out=np.zeros(n_r), where=total_w > 0)
        cap_total = cap_kw.sum(axis=1)
        ser["price"][:, e] = price
        ser["supply"][:, e] = (inp.genesis_u + led["minted"] - led["burned"]) / UWATT
        ser["emission"][:, e] = emission / UWATT
        ser["minted"][:, e] = paid_u / UWATT
        ser["rewarded"][:, e] = accrued / UWATT
        ser["fees"][:, e] = fee.sum(axis=1)
        ser["treasury_income"][:, e] = income
        ser["treasury_credits"][:, e] = t_credits
        ser["stations"][:, e] = st.active.sum(axis=1)
        ser["kwh"][:, e] = (cap_kw * hours).sum(axis=1)
        ser["capacity_kw"][:, e] = cap_total
        ser["utilization"][:, e] = np.divide(
            (cap_kw * hours).sum(axis=1),
            cap_total * HOURS_PER_EPOCH,
            out=np.zeros(n_r),
            where=cap_total > 0,
        )
        ser["reward_per_kwh"][:, e] = rr
        for k, v in breakevens(bound, costs, rr[:, None] * mult_g).items():
            ser[f"breakeven_{k}"][:, e] = v
        ser["breakeven_price"][:, e] = ser["breakeven_wash"][:, e]
        ser["cluster_votes"][:, e] = cl_votes
        ser["quorum"][:, e] = ser["supply"][:, e] * inp.quorum_bps / BPS
        ser["wash_pays"][:, e] = bound.pays(price, rr[:, None] * mult_g).any(axis=1)
        ser["fraud_reward_share"][:, e] = np.divide(
            fraud_u, paid_u, out=np.zeros(n_r), where=paid_u > 0
        )
        ser["burned"][:, e] = led["burned"] / UWATT
        ser["staked"][:, e] = led["staked"] / UWATT
        ser["wash_active"][:, e] = np.bincount(f_run[f_washing], minlength=n_r)
        u_prev = hours / HOURS_PER_EPOCH
        rr_prev = rr
        if on_epoch is not None:
            on_epoch(e)
    led["pool"] = pool_x.copy()
    led["emitted"][:] = int(inp.emission_u.sum())
    fees["escrowed"] = esc.held()
    return finish(inp, st, run_ids, ser, led, fees, rows, kwh_g, rew_g, cap_kwh_g)
