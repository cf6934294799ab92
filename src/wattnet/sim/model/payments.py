"""The settlement and findings rules of :mod:`wattnet.econ` as the model applies them to a
station-epoch's money (all its sessions taken as one) and to the stations a finding catches."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from wattnet.econ.findings import authority_slash, proof_penalty
from wattnet.econ.settlement import Split, split_payment
from wattnet.params import BPS
from wattnet.sim.model.state import I64, Inputs, Stations


def split_fees(fee: I64, inp: Inputs) -> Split:
    """``SessionSettlement._splitPayment`` of each station-epoch's fees: the part whose drivers
    chose a referrer (``model.demand.referred_share_bps``) pays it, the rest leaves that share
    to the treasury, which also takes every rounding remainder."""
    if inp.referred_bps in (0, BPS):
        return split_payment(fee, inp.op_bps, inp.ref_bps, inp.referred_bps == BPS)
    referred = fee * inp.referred_bps // BPS
    a = split_payment(referred, inp.op_bps, inp.ref_bps, True)
    b = split_payment(fee - referred, inp.op_bps, inp.ref_bps, False)
    return Split(a.operator + b.operator, a.referrer + b.referrer, a.treasury + b.treasury,
                 a.retained + b.retained)


def slash_caught(bonded: I64, slash_bps: int, f_run: I64, n_runs: int) -> tuple[I64, I64]:
    """Findings against caught stations (``bonded``: the stake bonded for each, 0 if not
    caught): the slashing authority slashes ``slash_bps`` of it from the operator's pool
    (``OperatorStaking.slash``: what is there, no bounty). Returns, per run, the stake the
    caught stations had bonded and what was slashed of it (uWATT)."""
    penalty = authority_slash(bonded, bonded * slash_bps // BPS)
    stake = np.zeros(n_runs, dtype=np.int64)
    slashed = np.zeros(n_runs, dtype=np.int64)
    np.add.at(stake, f_run, bonded)
    np.add.at(slashed, f_run, penalty.to_destination)
    return stake, slashed


def slash_proven(bonded: I64, inp: Inputs, f_run: I64, n_runs: int) -> tuple[I64, I64, I64]:
    """Fraud proofs against caught stations (``bonded`` as above): ``OperatorStaking._punish``
    takes ``equivocation_slash`` (at most what is there) and pays the prover
    ``equivocation_bounty_bps`` of it. Returns, per run, the stake bonded, what went to the
    slash destination and the bounties (uWATT)."""
    penalty = proof_penalty(bonded, inp.proof_slash_u, inp.bounty_bps, bonded > 0)
    out = [np.zeros(n_runs, dtype=np.int64) for _ in range(3)]
    for acc, v in zip(out, (bonded, penalty.to_destination, penalty.bounty), strict=True):
        np.add.at(acc, f_run, v)
    return out[0], out[1], out[2]


def punish(bonded: I64, proven: NDArray[np.bool_], slash_bps: int, inp: Inputs, f_run: I64,
           led: dict[str, I64], fees: dict[str, I64]) -> I64:
    """The caught stations' stake (``bonded``, 0 if not caught): a finding's slash for most, a
    fraud proof's (with the prover's bounty) for the ``proven``; the ledgers follow. Returns
    uWATT taken per run."""
    n_runs = led["staked"].size
    bonded_f, slashed = slash_caught(np.where(proven, 0, bonded), slash_bps, f_run, n_runs)
    bonded_p, slashed_p, bounty = slash_proven(np.where(proven, bonded, 0), inp, f_run, n_runs)
    led["staked"] -= bonded_f + bonded_p
    led["operators"] += bonded_f - slashed + bonded_p - slashed_p - bounty
    led["watchers"] += bounty
    led["treasury" if inp.slash_to_treasury else "burned"] += slashed + slashed_p
    taken: I64 = slashed + slashed_p + bounty
    fees["slashed"] += taken
    return taken


def churn(st: Stations, e: int, led: dict[str, I64]) -> NDArray[np.bool_]:
    """Operators whose stay (``st.life`` epochs) ended leave at epoch ``e``: their stations stop
    and their stake is unbonded back to them. Returns the stations that left."""
    assert st.life is not None
    leaving: NDArray[np.bool_] = st.active & ~st.caught & (e - st.deploy_epoch >= st.life)
    if leaving.any():
        back = np.bincount(np.nonzero(leaving)[0], weights=st.stake_u[leaving],
                           minlength=led["staked"].size).astype(np.int64)
        led["staked"] -= back
        led["operators"] += back
        st.active[leaving] = False
    return leaving
