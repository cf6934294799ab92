"""The credit escrow under random buy / request / cancel / complete redemption / pause / time
jumps over several drivers and two stablecoins (a plain one and a fee-on-transfer one without
return values).

Ghost state in Python: each driver's balance, pending redemption (with its unlock time and the
pause time already counted when it was requested) and stablecoin wallet; the pause (it expires
after MAX_PAUSE, and the guardian waits PAUSE_COOLDOWN before the next). Always, per credit id:
stablecoin held == totalSupply + totalPendingRedemptions + totalOwed to the smallest unit, and
every driver's balance, redemption and wallet equal the ghost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ape
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from wattnet.chain.deploy import DAY

FUNDS = 10**12
amounts = st.one_of(st.integers(1, 5 * 10**8), st.sampled_from([1, 99, 100, 10**6]))
jumps = st.sampled_from([1, 3_600, DAY, 3 * DAY, 5 * DAY, 6 * DAY])
MARGIN = 5  # seconds: keep the node's clock away from a deadline the ghost decides on


@dataclass
class Ledger:
    balance: int = 0
    pending: int = 0
    unlock_at: int = 0
    paused_mark: int = 0
    wallet: int = 0


def test_credit_escrow_balances(steps: Any, chain: Any, credits: Any, usdc: Any, hostile: Any,
                                credit_id: int, list_credit: Any, governor: Any, guardian: Any,
                                driver: Any, driver2: Any, referrer: Any) -> None:
    drivers = [driver, driver2, referrer]
    hostile_id = list_credit(hostile)
    tokens = [(credit_id, usdc, 0), (hostile_id, hostile, int(hostile.feeBps()))]
    for d in drivers:
        for _, token, _ in tokens:
            token.mint(d, FUNDS, sender=d)
            token.approve(credits, 2**256 - 1, sender=d)
    delay = int(credits.timing().redemptionDelay)
    max_pause, cooldown = int(credits.MAX_PAUSE()), int(credits.PAUSE_COOLDOWN())

    def block_time(tx: Any) -> int:
        return int(chain.provider.get_block(tx.block_number).timestamp)

    class CreditsMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            self.ledger = {(d.address, cid): Ledger(wallet=FUNDS)
                           for d in drivers for cid, _, _ in tokens}
            self.paused_total = 0
            self.paused_at = 0  # the open pause's start (it may have expired), 0 when none
            self.pause_ends = 0
            self.pausable_again = 0

        def teardown(self) -> None:
            chain.restore(self.snapshot)

        def _paused_so_far(self, now: int) -> int:
            if not self.paused_at:
                return self.paused_total
            return self.paused_total + min(now, self.pause_ends) - self.paused_at

        def _is_paused(self, now: int) -> bool:
            return self.paused_at != 0 and now < self.pause_ends

        def _now(self) -> int:
            """The next block's time, kept away from the pause's expiry and the guardian's
            cooldown edge (a transaction lands a second or two later)."""
            for edge in (self.pause_ends, self.pausable_again, self.pause_ends + cooldown):
                if abs(chain.pending_timestamp - edge) < MARGIN:
                    chain.pending_timestamp += 2 * MARGIN
            return int(chain.pending_timestamp)

        def _close(self, now: int) -> None:
            if self.paused_at:
                end = min(now, self.pause_ends)
                self.paused_total += end - self.paused_at
                self.pausable_again = end + cooldown
                self.paused_at = self.pause_ends = 0

        @rule(i=st.integers(0, 2), t=st.integers(0, 1), amount=amounts,
              to=st.integers(0, 2))
        def buy(self, i: int, t: int, amount: int, to: int) -> None:
            cid, token, fee = tokens[t]
            buyer, target = self.ledger[(drivers[i].address, cid)], drivers[to]
            arrived = amount - amount * fee // 10_000
            if self._is_paused(self._now()):
                with ape.reverts(credits.EnforcedPause):
                    credits.buy(cid, amount, target, sender=drivers[i])
                return
            if arrived == 0:
                with ape.reverts(credits.CreditsNothingArrived, id=cid):
                    credits.buy(cid, amount, target, sender=drivers[i])
                return
            tx = credits.buy(cid, amount, target, sender=drivers[i])
            assert tx.decode_logs(credits.CreditsPurchased)[0].credits == arrived
            buyer.wallet -= amount
            self.ledger[(target.address, cid)].balance += arrived
            self._check_driver(drivers[i], cid, token)

        @rule(i=st.integers(0, 2), t=st.integers(0, 1), amount=amounts,
              everything=st.booleans())
        def request_redemption(self, i: int, t: int, amount: int, everything: bool) -> None:
            cid = tokens[t][0]
            d, g = drivers[i], self.ledger[(drivers[i].address, cid)]
            if everything and g.balance:
                amount = g.balance
            if amount > g.balance:
                with ape.reverts(credits.CreditsInsufficientBalance, driver=d.address, id=cid,
                                 balance=g.balance, needed=amount):
                    credits.requestRedemption(cid, amount, sender=d)
                return
            tx = credits.requestRedemption(cid, amount, sender=d)
            now = block_time(tx)
            g.balance -= amount
            g.pending += amount
            g.unlock_at = now + delay
            g.paused_mark = self._paused_so_far(now)
            red = credits.redemptionOf(d, cid)
            assert (red.amount, red.unlockAt, red.pausedMark) == (g.pending, g.unlock_at,
                                                                  g.paused_mark)

        @rule(i=st.integers(0, 2), t=st.integers(0, 1))
        def cancel_redemption(self, i: int, t: int) -> None:
            cid = tokens[t][0]
            d, g = drivers[i], self.ledger[(drivers[i].address, cid)]
            if g.pending == 0:
                with ape.reverts(credits.CreditsNoRedemption, driver=d.address, id=cid):
                    credits.cancelRedemption(cid, sender=d)
                return
            credits.cancelRedemption(cid, sender=d)
            g.balance += g.pending
            g.pending = 0
            self._check_driver(d, cid, tokens[t][1])

        @rule(i=st.integers(0, 2), t=st.integers(0, 1))
        def complete_redemption(self, i: int, t: int) -> None:
            cid, _, fee = tokens[t]
            d, g = drivers[i], self.ledger[(drivers[i].address, cid)]
            if g.pending:
                unlock = g.unlock_at + self._paused_so_far(chain.pending_timestamp) - g.paused_mark
                if abs(chain.pending_timestamp - unlock) < MARGIN:
                    chain.pending_timestamp += 2 * MARGIN
            if self._is_paused(self._now()):
                with ape.reverts(credits.EnforcedPause):
                    credits.completeRedemption(cid, sender=d)
                return
            if g.pending == 0:
                with ape.reverts(credits.CreditsNoRedemption, driver=d.address, id=cid):
                    credits.completeRedemption(cid, sender=d)
                return
            unlock = g.unlock_at + self._paused_so_far(chain.pending_timestamp) - g.paused_mark
            if chain.pending_timestamp < unlock:
                with ape.reverts(credits.CreditsRedemptionLocked, driver=d.address, id=cid,
                                 unlockAt=unlock):
                    credits.completeRedemption(cid, sender=d)
                return
            tx = credits.completeRedemption(cid, sender=d)
            assert tx.decode_logs(credits.RedemptionCompleted)[0].amount == g.pending
            g.wallet += g.pending - g.pending * fee // 10_000
            g.pending = 0
            self._check_driver(d, cid, tokens[t][1])

        @rule()
        def toggle_pause(self) -> None:
            now = self._now()
            if self._is_paused(now):
                tx = credits.unpause(sender=governor)
                self._close(block_time(tx))
            else:
                # An expired pause stays open on chain until the next pause closes it.
                again = self.pause_ends + cooldown if self.paused_at else self.pausable_again
                if now < again:
                    with ape.reverts(credits.CreditsPauseCoolingDown, at=again):
                        credits.pause(sender=guardian)
                    return
                self._close(now)
                tx = credits.pause(sender=guardian)
                self.paused_at = block_time(tx)
                self.pause_ends = self.paused_at + max_pause
            assert credits.paused() == self._is_paused(block_time(tx))
            assert credits.pausedTotal() == self.paused_total

        @rule(seconds=jumps)
        def advance_time(self, seconds: int) -> None:
            chain.pending_timestamp += seconds

        @invariant()
        def escrow_equals_liabilities_and_drivers_match_ghost(self) -> None:
            for cid, token, _ in tokens:
                supply = sum(self.ledger[(d.address, cid)].balance for d in drivers)
                pending = sum(self.ledger[(d.address, cid)].pending for d in drivers)
                owed = credits.totalOwed(cid)
                assert owed == 0  # no settlement in this machine
                assert credits.totalSupply(cid) == supply
                assert credits.totalPendingRedemptions(cid) == pending
                assert token.balanceOf(credits) == supply + pending + owed
            pairs = [(d, cid) for d in drivers for cid, _, _ in tokens]
            got = credits.balanceOfBatch([d for d, _ in pairs], [cid for _, cid in pairs])
            assert list(got) == [self.ledger[(d.address, cid)].balance for d, cid in pairs]
            assert credits.pausedTotal() == self.paused_total

        def _check_driver(self, d: Any, cid: int, token: Any) -> None:
            g = self.ledger[(d.address, cid)]
            assert credits.redemptionOf(d, cid).amount == g.pending
            assert token.balanceOf(d) == g.wallet

    run_state_machine_as_test(CreditsMachine, settings=settings(stateful_step_count=steps(15)))
