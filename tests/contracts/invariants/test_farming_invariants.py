"""An adversarial operator farming rewards, under random interleavings (anvil).

The attacker runs a certified station (a real meter) and an uncertified one (a 2 MW claim), owns
a second wallet that "drives" and a third that the second names as referrer, charges at the
minimum tariff, names itself or its third wallet as referrer in the receipts it signs, and signs
sessions its stations could not have delivered (which a watcher proves). An honest operator and
driver share the network. The market price of WATT is drawn once per run (1x..100x the floor)
and a feed reports it.

Always:
- no WATT is ever minted for, or claimable by, a station without a certified meter;
- the attacker's net position is negative: what its wallets got back (operator share, referral
  share) + its WATT valued at the market price + nothing for its slashed stake < what its
  second wallet paid.
"""

from __future__ import annotations

from typing import Any

from hypothesis import Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy import DAY, WAD, WEEK
from wattnet.chain.eip712 import receipt_tuple, sign_receipt
from wattnet.domain import RejectReason

USDC = 10**6
HOUR = 3_600
MIN_TARIFF = 50_000
FLOOR = WAD // 10  # $0.10 per WATT


def test_farming_never_pays(steps: Any, chain: Any, credits: Any, rewards: Any, watt: Any,
                            staking: Any,
                            registry: Any, governor: Any, operator: Any, operator2: Any,
                            driver: Any, driver2: Any, referrer: Any, attacker: Any,
                            oracle: Any, credit_id: int, create_station: Any,
                            create_driver: Any, make_receipt: Any, sign: Any, domain: Any,
                            project: Any) -> None:
    rewards.setFeeMultipleBps(5_000, sender=governor)  # the params files' economics
    rewards.setPriceFloor(FLOOR, sender=governor)
    feed = project.MockPriceFeed.deploy(18, sender=governor)
    # operator2 is the attacker's operator wallet, driver2 its second wallet, referrer its third.
    real = create_station(operator2, tariff=MIN_TARIFF, rated_power_w=50_000)
    fake = create_station(operator2, tariff=MIN_TARIFF, rated_power_w=2_000_000, certified=False)
    honest = create_station(operator, rated_power_w=22_000)
    create_driver(driver2, credits_amount=900 * USDC, per_session_cap=100 * USDC,
                  daily_cap=10_000 * USDC)
    create_driver(driver, credits_amount=900 * USDC, per_session_cap=100 * USDC,
                  daily_cap=10_000 * USDC)
    credits.setReferrer(referrer, sender=driver2)
    chain.pending_timestamp += 2 * HOUR
    chain.mine()
    base = {who.address: int(credits.owed(who, credit_id)) for who in (operator2, referrer)}
    base_watt = int(watt.balanceOf(operator2))
    base_credits = int(credits.balanceOf(driver2, credit_id))
    sessions = iter(range(10_000, 10**9))

    class FarmingMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.snapshot = chain.snapshot()
            self.price = FLOOR
            self.fake_epochs: set[int] = set()
            self.epochs: set[int] = set()

        def teardown(self) -> None:
            chain.restore(self.snapshot)

        @initialize(multiple=st.sampled_from([1, 3, 10, 100]))
        def market(self, multiple: int) -> None:
            self.price = FLOOR * multiple
            feed.push(self.price, chain.pending_timestamp, sender=governor)
            rewards.setPriceFeed(feed, 3 * DAY, 2_000, sender=governor)  # claims push fresh

        def _settle(self, station: Any, who: Any, energy_wh: int, named: str) -> None:
            chain.pending_timestamp += 2 * HOUR
            r = make_receipt(station, who, energy_wh=energy_wh, session_id=next(sessions),
                             referrer=named)
            tx = credits.settlePacked(pack_tuples([sign(r, station.key)]), sender=oracle)
            # Only a station suspended after its operator was slashed may refuse (inactive).
            assert {int(log.reason) for log in tx.decode_logs(credits.ReceiptRejected)} <= {
                int(RejectReason.STATION_INACTIVE)}
            self.epochs.add(int(rewards.currentEpoch()))

        @rule(energy=st.integers(1_000, 45_000),
              named=st.sampled_from(["third", "operator", "none"]),
              at_fake=st.booleans())
        def self_charge(self, energy: int, named: str, at_fake: bool) -> None:
            ref = {"third": referrer.address, "operator": operator2.address,
                   "none": "0x" + "00" * 20}[named]
            station = fake if at_fake else real
            if at_fake:
                self.fake_epochs.add(int(rewards.currentEpoch()))
            self._settle(station, driver2, energy, ref)

        @rule(energy=st.integers(1_000, 20_000))
        def honest_session(self, energy: int) -> None:
            self._settle(honest, driver, energy, "0x" + "00" * 20)

        @rule()
        def sign_impossible_session_and_get_caught(self) -> None:
            chain.pending_timestamp += 2 * HOUR
            r = make_receipt(real, driver2, energy_wh=60_000, duration=HOUR,
                             session_id=next(sessions))  # 60 kWh in an hour at 50 kW
            staking.proveOverPower(receipt_tuple(r), sign_receipt(real.key, domain, r),
                                   sender=attacker)  # a watcher, paid the bounty

        @rule(seconds=st.sampled_from([HOUR, DAY, WEEK, 2 * WEEK]))
        def advance_time(self, seconds: int) -> None:
            chain.pending_timestamp += seconds
            chain.mine()

        @precondition(lambda self: bool(self.epochs))
        @rule(wait=st.booleans())
        def claim_everything_ready(self, wait: bool) -> None:
            """Claim every epoch out of escrow; `wait`: first jump past the latest one's window."""
            if wait:
                ready = int(rewards.claimableAt(max(self.epochs))) + 60
                chain.pending_timestamp = max(chain.pending_timestamp, ready)
                chain.mine()
            feed.push(self.price, chain.pending_timestamp, sender=governor)  # fresh answer
            now = chain.pending_timestamp
            for epoch in sorted(self.epochs):
                if int(rewards.claimableAt(epoch)) > now - 60:
                    continue
                for st_ in (real, fake):
                    if not rewards.claimed(epoch, st_.station_id) and \
                            int(rewards.claimable(st_.station_id, epoch)) > 0:
                        rewards.claim([epoch], [st_.station_id], sender=operator2)

        @invariant()
        def no_watt_without_a_certified_meter(self) -> None:
            for epoch in self.fake_epochs:
                assert int(credits.stationEpoch(epoch, fake.station_id).weight) == 0
                assert not rewards.claimed(epoch, fake.station_id)

        @invariant()
        def the_attacker_loses(self) -> None:
            paid = base_credits - int(credits.balanceOf(driver2, credit_id))
            if paid == 0:
                return
            back = sum(int(credits.owed(w, credit_id)) - base[w.address]
                       for w in (operator2, referrer))
            watt_value = (int(watt.balanceOf(operator2)) - base_watt) * self.price // WAD
            assert back + watt_value // 10**12 < paid  # USD wei -> 6-decimal credit units

    profile = settings.default
    run_state_machine_as_test(FarmingMachine, settings=settings(
        profile, max_examples=max(5, profile.max_examples // 2), stateful_step_count=steps(12),
        phases=[Phase.explicit, Phase.reuse, Phase.generate]))
