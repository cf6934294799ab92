"""The settlement and findings rules of :mod:`wattnet.econ` as the model applies them to a
station-epoch's money (all its sessions taken as one) and to the stations a finding catches."""

from __future__ import annotations

import numpy as np

from wattnet.econ.findings import authority_slash, proof_penalty
from wattnet.econ.settlement import Split, split_payment
from wattnet.params import BPS
from wattnet.sim.model.state import I64, Inputs


def split_fees(fee: I64, inp: Inputs) -> Split:
    """``SessionSettlement._splitPayment`` of each station-epoch's fees: the part whose drivers
    chose a referrer (``model.demand.referred_share_bps``) pays it, the rest leaves that share
    to the treasury, which also takes every rounding remainder."""
    if inp.referred_bps in (0, BPS):
        return split_payment(fee, inp.op_bps, inp.ref_bps, inp.referred_bps == BPS)
    referred = fee * inp.referred_bps // BPS
    a = split_payment(referred, inp.op_bps, inp.ref_bps, True)
    b = split_payment(fee - referred, inp.op_bps, inp.ref_bps, False)
    return Split(a.operator + b.operator, a.referrer + b.referrer, a.treasury + b.treasury)


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
