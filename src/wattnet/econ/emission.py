"""The emission schedule: ``RewardsEngine.emissionOf``, ``_phaseBound``, ``scheduledTotal`` and
the checks ``_replaceFrom`` makes of a schedule.

A phase is ``(start_epoch, end_epoch, decay_bps, emission_per_epoch_wei)``, as the contract
stores it. Epoch ``e`` of a phase emits ``e0 * q^(e - start)`` with ``q = 1 - decay/10000`` in WAD
fixed point, the power taken by repeated squaring with a floor after every product (``_rpow``).
That is not the recurrence ``e_{k+1} = e_k * (10000 - decay) // 10000``: the two differ by up to
about 1.2e7 wei an epoch over a phase of a few hundred epochs (both round down, at different
steps). Only this one is the contract's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from wattnet.econ.units import BPS, MAX_EPOCH, MAX_PHASES, WAD

AbsPhase = tuple[int, int, int, int]  # (start epoch, end epoch, decay bps, emission wei)


def rpow(x: int, n: int) -> int:
    """``RewardsEngine._rpow``: x^n in WAD fixed point, rounding down at each step."""
    z = WAD
    while n > 0:
        if n & 1:
            z = z * x // WAD
        x = x * x // WAD
        n >>= 1
    return z


def emission_at(phase: AbsPhase, epoch: int) -> int:
    """What ``phase`` emits in ``epoch`` (which must lie inside it): ``emissionOf``'s formula."""
    start, _, decay, e0 = phase
    return e0 * rpow((BPS - decay) * WAD // BPS, epoch - start) // WAD


def emission_of(phases: Sequence[AbsPhase], epoch: int) -> int:
    """``RewardsEngine.emissionOf(epoch)``: the first phase containing it, else 0."""
    for phase in phases:
        if phase[0] <= epoch < phase[1]:
            return emission_at(phase, epoch)
    return 0


def emissions(phases: Sequence[AbsPhase]) -> Iterator[int]:
    """Every scheduled epoch's emission, epoch 0 first, up to the end of the last phase (a gap
    between phases, which ``_replaceFrom`` never makes, would emit 0)."""
    end = max((p[1] for p in phases), default=0)
    for epoch in range(end):
        yield emission_of(phases, epoch)


def phase_bound(phase: AbsPhase) -> int:
    """``RewardsEngine._phaseBound``: ``e0 (1 - q^n) / (1 - q)`` rounded up, at least the sum of
    the phase's emissions (each rounds down)."""
    start, end, decay, e0 = phase
    n = end - start
    if decay == 0:
        return e0 * n
    qn = rpow((BPS - decay) * WAD // BPS, n)
    num, den = e0 * (WAD - qn) * BPS, decay * WAD
    return (num + den - 1) // den


def scheduled_total(phases: Sequence[AbsPhase]) -> int:
    """``RewardsEngine.scheduledTotal``: the bound the cap is checked against."""
    return sum(phase_bound(p) for p in phases)


def consecutive(spans: Sequence[tuple[int, int, int]], start: int = 0) -> list[AbsPhase]:
    """Phases given as ``(epochs, decay_bps, emission_wei)`` (a params file's order) placed one
    after the other from epoch ``start``."""
    out: list[AbsPhase] = []
    for epochs, decay, e0 in spans:
        out.append((start, start + epochs, decay, e0))
        start += epochs
    return out


def schedule_error(kept: Sequence[AbsPhase], new: Sequence[AbsPhase], from_epoch: int,
                   max_emission: int | None) -> str | None:
    """Why ``_replaceFrom(from_epoch, new)`` reverts after keeping ``kept`` (None: it does not).

    The constructor is ``_replaceFrom(0, phases)`` with nothing kept. The checks, in the
    contract's order: at most ``MAX_PHASES`` phases in all; each new phase starts where the last
    ended (the first at ``from_epoch``), is not empty, ends within uint32 and decays by less than
    100 % (``RewardsBadSchedule``); the bounds of all phases sum to at most ``max_emission``
    (``RewardsScheduleExceedsCap``; not checked when ``max_emission`` is None). Emissions must
    fit the struct's uint128."""
    if len(kept) + len(new) > MAX_PHASES:
        return f"{len(kept) + len(new)} phases, at most {MAX_PHASES} (RewardsBadSchedule)"
    expected = from_epoch
    for i, (start, end, decay, e0) in enumerate(new):
        if start != expected or end <= start:
            return f"phase {i} is empty or not contiguous (RewardsBadSchedule)"
        if end > MAX_EPOCH:
            return f"phase {i} ends after epoch {MAX_EPOCH} (uint32)"
        if not 0 <= decay < BPS:
            return f"phase {i} decay_bps={decay} must be below {BPS} (RewardsBadSchedule)"
        if not 0 <= e0 < 2**128:
            return f"phase {i} emission does not fit uint128"
        expected = end
    if max_emission is None:
        return None
    total = scheduled_total([*kept, *new])
    if total > max_emission:
        return (f"schedule bound {total} wei exceeds maxEmission {max_emission} wei "
                f"(RewardsScheduleExceedsCap)")
    return None
