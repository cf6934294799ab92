"""Settlement, redemption, payouts, staking and rewards under random interleavings (anvil).

Rules: buy, request and complete redemptions, settle batches of random valid and invalid receipts
(replays included), withdraw payouts, claim rewards, stake, slash, and advance time across days
and epochs. Ghost state in Python: stablecoin in escrow, each driver's credits (balance plus
pending redemption), the sessions settled and their costs, what was withdrawn, and WATT minted
per epoch. Always: escrow == totalSupply + totalPendingRedemptions + totalOwed == ghost, to the
smallest unit; no session is paid twice; rewards never mint more than the schedule emitted for
closed epochs, nor more than an epoch's emission.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import ape
from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy import DAY, WAD, WEEK
from wattnet.domain import RejectReason

USDC = 10**6
HOUR = 3_600
MARGIN = 5  # seconds: keep the node's clock away from a deadline the ghost decides on
R = RejectReason

kinds = st.sampled_from(["valid", "valid", "valid", "replay", "bad_cost", "bad_sig", "future",
                         "too_much_energy"])
jumps = st.sampled_from([60, HOUR, DAY, 3 * DAY + HOUR, WEEK, 3 * WEEK])


def test_settlement_books_balance(steps: Any, chain: Any, credits: Any, usdc: Any, rewards: Any,
                                  watt: Any,
                                  staking: Any, registry: Any, governor: Any, treasury: Any,
                                  operator: Any, operator2: Any, driver: Any, driver2: Any,
                                  referrer: Any, oracle: Any, credit_id: int, create_station: Any,
                                  create_driver: Any, make_receipt: Any, sign: Any,
                                  fund_operator: Any) -> None:
    stations = [create_station(operator), create_station(operator2)]
    drivers = [driver, driver2]
    for d in drivers:
        create_driver(d, credits_amount=20 * USDC, per_session_cap=50 * USDC,
                      daily_cap=1_000 * USDC)
        usdc.mint(d, 10**6 * USDC, sender=d)
        usdc.approve(credits, 2**256 - 1, sender=d)
    payees = [operator, operator2, treasury, referrer]
    chain.pending_timestamp += 2 * HOUR
    chain.mine()
    base_escrow = int(usdc.balanceOf(credits))
    base_credits = {d.address: int(credits.balanceOf(d, credit_id)) for d in drivers}
    base_minted = int(rewards.totalMinted())
    emissions: dict[int, int] = {}

    def emission(epoch: int) -> int:
        if epoch not in emissions:
            emissions[epoch] = int(rewards.emissionOf(epoch))
        return emissions[epoch]

    class SettlementMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            self.escrow = base_escrow
            self.credits = dict(base_credits)
            self.settled: dict[tuple[bytes, int], int] = {}  # session -> cost paid
            self.signed: list[tuple[Any, tuple[object, ...]]] = []  # settled, for replays
            self.withdrawn = 0
            self.minted = base_minted
            self.minted_for: dict[int, int] = {}
            self.claimed: set[tuple[int, bytes]] = set()

        def teardown(self) -> None:
            chain.restore(self.snapshot)

        # ------------------------------------------------------------ drivers
        @rule(i=st.integers(0, 1), amount=st.integers(1, 30 * USDC))
        def buy(self, i: int, amount: int) -> None:
            d = drivers[i]
            credits.buy(credit_id, amount, d, sender=d)
            self.escrow += amount
            self.credits[d.address] += amount

        @rule(i=st.integers(0, 1), frac=st.sampled_from([1.0, 0.5, 0.1]))
        def request_redemption(self, i: int, frac: float) -> None:
            d = drivers[i]
            balance = int(credits.balanceOf(d, credit_id))
            amount = int(balance * frac)
            if amount == 0:
                with ape.reverts(credits.CreditsZeroAmount):
                    credits.requestRedemption(credit_id, 0, sender=d)
                return
            credits.requestRedemption(credit_id, amount, sender=d)

        @rule(i=st.integers(0, 1))
        def complete_redemption(self, i: int) -> None:
            d = drivers[i]
            red = credits.redemptionOf(d, credit_id)
            if abs(chain.pending_timestamp - int(red.unlockAt)) < MARGIN:
                chain.pending_timestamp += 2 * MARGIN
            if red.amount == 0:
                with ape.reverts(credits.CreditsNoRedemption, driver=d.address, id=credit_id):
                    credits.completeRedemption(credit_id, sender=d)
                return
            if chain.pending_timestamp < int(red.unlockAt):
                with ape.reverts(credits.CreditsRedemptionLocked, driver=d.address, id=credit_id):
                    credits.completeRedemption(credit_id, sender=d)
                return
            wallet = int(usdc.balanceOf(d))
            credits.completeRedemption(credit_id, sender=d)
            assert int(usdc.balanceOf(d)) - wallet == red.amount
            self.escrow -= int(red.amount)
            self.credits[d.address] -= int(red.amount)

        # ------------------------------------------------------------ settlement
        @rule(items=st.lists(st.tuples(kinds, st.integers(0, 1), st.integers(0, 1),
                                       st.integers(0, 22_000), st.booleans()),
                             min_size=1, max_size=4))
        def settle(self, items: list[tuple[str, int, int, int, bool]]) -> None:
            batch: list[tuple[object, ...]] = []
            plan: list[tuple[str, Any, Any]] = []
            for kind, si, di, energy, with_ref in items:
                station, d = stations[si], drivers[di]
                ref = referrer.address if with_ref else "0x" + "00" * 20
                if kind == "replay" and (self.signed or plan):
                    if self.signed and (energy % 2 or not plan):  # from an earlier batch
                        r, item = self.signed[energy % len(self.signed)]
                    else:  # again within this batch
                        r, item = plan[-1][1], batch[-1]
                    batch.append(item)
                    plan.append(("replay", r, None))
                    continue
                r = make_receipt(station, d, energy_wh=energy, referrer=ref)
                key = station.key
                if kind == "bad_cost":
                    r = replace(r, cost=r.cost + 1)
                elif kind == "bad_sig":
                    key = os.urandom(32)
                elif kind == "future":
                    r = replace(r, end_time=chain.pending_timestamp + HOUR)
                elif kind == "too_much_energy":
                    r = replace(r, energy_wh=22_001, cost=22_001 * station.tariff // 1000)
                batch.append(sign(r, key))
                plan.append(("valid" if kind == "replay" else kind, r, station))
            suspended = {s.station_id: bool(registry.suspended(s.operator)) for s in stations}
            owed_before = int(credits.totalOwed(credit_id))
            tx = credits.settlePacked(pack_tuples(batch), sender=oracle)
            # One event per rejected item, in batch order.
            rejected = [((bytes(log.stationId), int(log.sessionId)), int(log.reason))
                        for log in tx.decode_logs(credits.ReceiptRejected)]
            expected = {"bad_cost": R.COST_MISMATCH, "bad_sig": R.BAD_SIGNATURE,
                        "future": R.BAD_TIMES, "too_much_energy": R.ENERGY_IMPLAUSIBLE}
            paid = 0
            sids = [(r.station_id, r.session_id) for _k, r, _s in plan]
            for idx, (kind, r, _station) in enumerate(plan):
                sid = sids[idx]
                # A session may appear several times in one batch: every copy after the first
                # is rejected, so the first is rejected iff each remaining copy has an event.
                copies = sids[idx:].count(sid)
                is_rejected = sum(1 for s_, _r in rejected if s_ == sid) == copies
                reason = R.NONE
                if is_rejected:
                    assert rejected[0][0] == sid
                    reason = R(rejected.pop(0)[1])
                if kind == "replay":
                    if sid in self.settled:
                        assert reason in (R.ALREADY_SETTLED, R.STALE, R.STATION_INACTIVE), (
                            f"session {sid} paid twice ({reason!r})")
                    else:
                        assert reason != R.NONE  # a duplicate of a receipt that failed
                    continue
                if suspended[r.station_id]:
                    assert reason == R.STATION_INACTIVE
                elif kind in expected:
                    assert reason == expected[kind]
                elif reason == R.INSUFFICIENT_CREDITS:
                    assert self.credits[r.driver] < r.cost
                else:
                    assert reason in (R.NONE, R.NOT_AUTHORIZED)
                if reason != R.NONE:
                    assert not credits.isSettled(*sid)
                    continue
                assert self.credits[r.driver] >= r.cost
                assert credits.isSettled(*sid)
                self.credits[r.driver] -= r.cost
                self.settled[sid] = r.cost
                self.signed.append((r, batch[idx]))
                paid += r.cost
            assert rejected == []
            assert int(credits.totalOwed(credit_id)) - owed_before == paid

        @rule(i=st.integers(0, 3))
        def withdraw_payout(self, i: int) -> None:
            payee = payees[i]
            owed = int(credits.owed(payee, credit_id))
            if owed == 0:
                with ape.reverts(credits.CreditsNothingOwed, payee=payee.address, id=credit_id):
                    credits.withdrawPayout(credit_id, payee, sender=payee)
                return
            wallet = int(usdc.balanceOf(payee))
            credits.withdrawPayout(credit_id, payee, sender=payee)
            assert int(usdc.balanceOf(payee)) - wallet == owed
            self.escrow -= owed
            self.withdrawn += owed

        # ------------------------------------------------------------ rewards and staking
        @rule(si=st.integers(0, 1), back=st.integers(1, 4))
        def claim(self, si: int, back: int) -> None:
            station = stations[si]
            current = int(rewards.currentEpoch())  # the head's time is the claim's (mined)
            epoch = current - back
            if epoch < 0:
                with ape.reverts(rewards.RewardsEpochNotClosed, epoch=current, current=current):
                    rewards.claim([current], [station.station_id], sender=station.operator)
                return
            ready = int(rewards.claimableAt(epoch))
            head = int(chain.blocks.head.timestamp)
            if head < ready - 60:  # still in escrow (the challenge window)
                with ape.reverts(rewards.RewardsInChallengeWindow, epoch=epoch, claimableAt=ready):
                    rewards.claim([epoch], [station.station_id], sender=station.operator)
                return
            if head < ready + 60:
                return  # at the window's edge the claim's block time decides: not asserted
            if (epoch, station.station_id) in self.claimed:
                with ape.reverts(rewards.RewardsAlreadyClaimed, stationId=station.station_id,
                                 epoch=epoch):
                    rewards.claim([epoch], [station.station_id], sender=station.operator)
                return
            due = int(rewards.claimable(station.station_id, epoch))
            if due == 0:
                with ape.reverts(rewards.RewardsNothingToClaim, operator=station.operator.address):
                    rewards.claim([epoch], [station.station_id], sender=station.operator)
                return
            wallet = int(watt.balanceOf(station.operator))
            rewards.claim([epoch], [station.station_id], sender=station.operator)
            assert int(watt.balanceOf(station.operator)) - wallet == due
            self.claimed.add((epoch, station.station_id))
            self.minted += due
            self.minted_for[epoch] = self.minted_for.get(epoch, 0) + due

        @rule(si=st.integers(0, 1), back=st.integers(0, 2))
        def forfeit(self, si: int, back: int) -> None:
            """A finding (the slashing authority) forfeits a station's escrowed epoch: it is
            never minted, whatever else happens (claimable stays 0, a claim mints nothing)."""
            station = stations[si]
            epoch = int(rewards.currentEpoch()) - back
            if epoch < 0 or (epoch, station.station_id) in self.claimed:
                return
            rewards.forfeit(station.station_id, epoch, b"\x03" * 32, sender=governor)
            if rewards.forfeited(epoch, station.station_id):
                assert int(rewards.claimable(station.station_id, epoch)) == 0

        @rule(si=st.integers(0, 1), amount=st.sampled_from([1, 500 * WAD, 2_000 * WAD]))
        def stake(self, si: int, amount: int) -> None:
            fund_operator(stations[si].operator, amount)

        @rule(si=st.integers(0, 1), frac=st.sampled_from([None, 0.5]))
        def slash(self, si: int, frac: float | None) -> None:
            op = stations[si].operator
            s = staking.stakeOf(op)
            available = int(s.active) + int(s.unbonding)
            amount = 1 if frac is None else int(available * frac)
            if available == 0 or amount == 0:
                return
            staking.slash(op, amount, b"\x02" * 32, sender=governor)

        @rule(seconds=jumps)
        def advance_time(self, seconds: int) -> None:
            chain.pending_timestamp += seconds
            chain.mine()

        # ------------------------------------------------------------ invariants
        @invariant()
        def escrow_equals_liabilities(self) -> None:
            held = int(usdc.balanceOf(credits))
            liabilities = (int(credits.totalSupply(credit_id))
                           + int(credits.totalPendingRedemptions(credit_id))
                           + int(credits.totalOwed(credit_id)))
            assert held == liabilities == self.escrow

        @invariant()
        def drivers_match_ghost(self) -> None:
            for d in drivers:
                on_chain = (int(credits.balanceOf(d, credit_id))
                            + int(credits.redemptionOf(d, credit_id).amount))
                assert on_chain == self.credits[d.address]

        @invariant()
        def each_session_paid_once(self) -> None:
            assert int(credits.totalOwed(credit_id)) + self.withdrawn == sum(self.settled.values())

        @invariant()
        def minted_within_schedule(self) -> None:
            current = int(rewards.currentEpoch())
            assert int(rewards.totalMinted()) == self.minted
            assert self.minted - base_minted <= sum(emission(e) for e in range(current))
            for epoch, amount in self.minted_for.items():
                assert int(rewards.mintedFor(epoch)) == amount <= emission(epoch)

    # Half the profile's examples (each step is several chain round trips: ci ~45 s); no
    # shrinking, which can take minutes here; a failure prints its full rule sequence.
    profile = settings.default
    run_state_machine_as_test(SettlementMachine, settings=settings(
        profile, max_examples=max(5, profile.max_examples // 2), stateful_step_count=steps(12),
        phases=[Phase.explicit, Phase.reuse, Phase.generate]))
