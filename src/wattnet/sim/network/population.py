"""Put the plan's people on chain: operators stake WATT (from the treasury), register their
stations and bind each a meter certified by the simulated meter maker; drivers mint the mock
stablecoin, buy credits, set their mandate, consent to any station and bind their RFID card. All
through the real contracts, from impersonated accounts."""

from __future__ import annotations

from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ec

from wattnet.chain.deploy import geohash_bytes8
from wattnet.chain.meters import binding_signature, issue_certificate
from wattnet.chain.signer_binding import signer_proof
from wattnet.domain import ZERO_ADDRESS, id_token_hash
from wattnet.econ.findings import required_stake
from wattnet.econ.weight import station_kw
from wattnet.errors import ChainError
from wattnet.sim.network.chainview import ChainView
from wattnet.sim.network.plan import Plan

Progress = Callable[[str, int, int], None]


def populate(view: ChainView, plan: Plan, treasury: str, oracle: str,
             issuer: ec.EllipticCurvePrivateKey,
             progress: Progress = lambda what, done, total: None) -> None:
    rpc = view.rpc
    rpc.impersonate_all()
    people = [treasury, oracle, *plan.operators, *(d.address for d in plan.drivers)]
    rpc.fund(people)
    per_station, per_kw = (int(v) for v in view.read([
        ("OperatorStaking", "minStakePerStation", ()), ("OperatorStaking", "stakePerKw", ())]))
    owned: dict[int, list[int]] = {}
    for c in plan.chargers:
        owned.setdefault(c.operator, []).append(c.index)

    def stake_for(index: int) -> int:  # the registry bonds kW rounded up
        kw = station_kw(plan.chargers[index].rated_power_w)
        return int(required_stake(1, kw, per_station, per_kw))

    need = sum(stake_for(c.index) for c in plan.chargers)
    have = int(view.one("WattToken", "balanceOf", treasury))
    if have < need:
        raise ChainError(f"the treasury {treasury} holds {have} WATT wei, the operators need "
                         f"{need} to stake: fewer chargers, or a deployment with more genesis")
    staking = view.address("OperatorStaking")
    amounts = {plan.operators[op]: sum(stake_for(i) for i in st) for op, st in owned.items()}
    rpc.send([view.tx(treasury, "WattToken", "transfer", who, amount)
              for who, amount in amounts.items()], "treasury funding operators")
    txs = []
    for who, amount in amounts.items():
        txs += [view.tx(who, "WattToken", "approve", staking, amount),
                view.tx(who, "OperatorStaking", "stake", amount)]
    rpc.send(txs, "operators staking")
    progress("stations", 0, len(plan.chargers))
    registry = view.address("StationRegistry")
    txs = []
    for c in plan.chargers:
        station = (c.station_id, c.signer, c.rated_power_w, 1, geohash_bytes8(c.geohash),
                   f"ipfs://wattnet-sim/{c.cp_id}", b"", [plan.credit_id], [c.tariff])
        operator = plan.operators[c.operator]
        proof = signer_proof(c.key, chain_id=view.deployment.chain_id, registry=registry,
                             station_id=c.station_id, operator=operator)
        txs.append(view.tx(operator, "StationRegistry", "registerStation", station, *proof))
    _send_chunked(view, txs, "station registration", "stations", progress)
    txs = []
    for c in plan.chargers:
        meter = c.meter_key()
        operator = plan.operators[c.operator]
        cert = issue_certificate(issuer, meter, serial=c.meter_serial,
                                 model="WattNet sim meter", max_power_w=c.rated_power_w)
        bind = binding_signature(meter, chain_id=view.deployment.chain_id, registry=registry,
                                 station_id=c.station_id, operator=operator)
        txs.append(view.tx(operator, "StationRegistry", "certifyMeter", c.station_id,
                           cert.as_tuple(), *bind))
    _send_chunked(view, txs, "meter certification", "meters", progress)
    credits = view.address("EnergyCredits")
    cid = plan.credit_id
    txs = []
    for d in plan.drivers:
        txs += [view.tx(d.address, "MockStablecoin", "mint", d.address, d.buy),
                view.tx(d.address, "MockStablecoin", "approve", credits, d.buy),
                view.tx(d.address, "EnergyCredits", "buy", cid, d.buy, d.address),
                view.tx(d.address, "EnergyCredits", "setMandate", cid, d.per_session_cap,
                        d.daily_cap),
                # Simulated drivers charge wherever they find a free charger: they choose it.
                view.tx(d.address, "EnergyCredits", "setConsent", cid, ZERO_ADDRESS, True),
                view.tx(d.address, "EnergyCredits", "bindIdToken", id_token_hash(d.id_token))]
    _send_chunked(view, txs, "drivers buying credits", "drivers", progress, per_item=6)


def _send_chunked(view: ChainView, txs: list[tuple[str, str, str]], what: str, label: str,
                  progress: Progress, per_item: int = 1) -> None:
    total = len(txs) // per_item
    for lo in range(0, len(txs), 500):
        view.rpc.send(txs[lo:lo + 500], what)
        progress(label, min(lo + 500, len(txs)) // per_item, total)
