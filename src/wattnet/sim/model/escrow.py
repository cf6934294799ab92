"""The rewards escrow and findings' forfeits (``RewardsEngine.claimableAt`` and ``forfeit``), in
model units.

An epoch's rewards are fixed when it is settled but minted only when claimed, ``challenge_window``
after the epoch ends: at the end of epoch ``e + escrow_epochs``. A finding against a station (the
timelock's ``FINDINGS_ROLE``, after a vote) forfeits every epoch of it that is still unclaimable
when it executes: the last ``forfeit_epochs`` of the ones in escrow, since the fraudster claims
each epoch as soon as it can. A forfeited reward is never minted and its weight stays in the
epoch's total (nobody else's share grows). What a fraudster claimed before the finding is kept.

The escrow is a ring of ``escrow_epochs + 1`` slots per run (what all its stations accrued in an
epoch) and, for the few fraudulent stations, per station (their reward and its fraudulent part),
so forfeits touch only them and the per-epoch cost does not grow with the station count.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from wattnet.sim.model.state import I64


@dataclass(slots=True)
class Escrow:
    escrow_epochs: int  # K: epoch e is claimable at the end of epoch e + K (K >= 1)
    forfeit_epochs: int  # F <= K: epochs e - F + 1 .. e a finding at the end of e forfeits
    f_run: I64  # (F_s,) run index of each fraudulent station
    run: I64  # (runs, K + 1) uWATT accrued per epoch slot, not yet claimable
    station: I64  # (F_s, K + 1) the fraudulent stations' rewards per slot
    gain: I64  # (F_s, K + 1) the part of them paid for fraudulent energy

    @classmethod
    def empty(cls, n_runs: int, f_run: I64, escrow_epochs: int, forfeit_epochs: int) -> Escrow:
        if escrow_epochs < 1 or not 0 <= forfeit_epochs <= escrow_epochs:
            raise ValueError(
                f"escrow of {escrow_epochs} epochs cannot forfeit {forfeit_epochs} of them"
            )
        slots = escrow_epochs + 1
        return cls(
            escrow_epochs=escrow_epochs,
            forfeit_epochs=forfeit_epochs,
            f_run=f_run,
            run=np.zeros((n_runs, slots), dtype=np.int64),
            station=np.zeros((f_run.size, slots), dtype=np.int64),
            gain=np.zeros((f_run.size, slots), dtype=np.int64),
        )

    def hold(self, e: int, accrued: I64, f_reward: I64, f_gain: I64) -> None:
        """Epoch ``e``'s settled rewards enter the escrow (the slot was released at e - 1)."""
        slot = e % (self.escrow_epochs + 1)
        self.run[:, slot] = accrued
        self.station[:, slot] = f_reward
        self.gain[:, slot] = f_gain

    def forfeit(self, e: int, caught: NDArray[np.bool_]) -> I64:
        """Findings at the end of epoch ``e`` against the fraudulent stations ``caught``: their
        last ``forfeit_epochs`` epochs leave the escrow unminted. Returns uWATT forfeited per
        fraudulent station (0 for the others)."""
        out = np.zeros(self.f_run.size, dtype=np.int64)
        n = min(self.forfeit_epochs, e + 1)
        if n == 0 or not caught.any():
            return out
        slots = np.array([(e - j) % (self.escrow_epochs + 1) for j in range(n)], dtype=np.int64)
        idx = np.flatnonzero(caught)
        taken = self.station[idx[:, None], slots[None, :]]
        out[idx] = taken.sum(axis=1)
        np.subtract.at(self.run, (self.f_run[idx][:, None], slots[None, :]), taken)
        self.station[idx[:, None], slots[None, :]] = 0
        self.gain[idx[:, None], slots[None, :]] = 0
        return out

    def release(self, e: int) -> tuple[I64, I64]:
        """At the end of epoch ``e``, epoch ``e - escrow_epochs`` becomes claimable and is claimed
        (minted): returns uWATT per run, and the part of it paid for fraudulent energy."""
        n_runs = self.run.shape[0]
        if e < self.escrow_epochs:
            zero = np.zeros(n_runs, dtype=np.int64)
            return zero, zero.copy()
        slot = (e - self.escrow_epochs) % (self.escrow_epochs + 1)
        paid: I64 = self.run[:, slot].copy()
        fraud: I64 = np.bincount(
            self.f_run, weights=self.gain[:, slot].astype(np.float64), minlength=n_runs
        ).astype(np.int64)
        self.run[:, slot] = 0
        self.station[:, slot] = 0
        self.gain[:, slot] = 0
        return paid, fraud

    def held(self) -> I64:
        """uWATT per run still in escrow (accrued, neither claimed nor forfeited)."""
        out: I64 = self.run.sum(axis=1)
        return out
