"""A settled charging session for the browser tests' operator, through the real contracts: the
driver buys credits and lets the operator's stations charge it (its own unlocked dev account),
the station's signing key (which the test holds, after rotating it from the page) signs the
receipt, the meter's signed OCMF readings are committed in it, and an oracle key that governance
granted ORACLE_ROLE (the timelock, impersonated by anvil, as the simulator's oracle is admitted)
settles it with ``settlePacked``. Local params give an uncertified meter no reward weight;
governance (the timelock) raises it first. Payouts are then owed to the operator and the station has
reward weight in the current epoch."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from wattnet.api.devnet import DRIVER, OPERATOR
from wattnet.chain import roles
from wattnet.chain.batch_codec import pack_batch
from wattnet.chain.eip712 import Domain, sign_receipt
from wattnet.chain.readings import commitment_of
from wattnet.domain import RejectReason, SessionReceipt
from wattnet.econ.settlement import session_cost
from wattnet.sim.chargepoint.meter import SimMeter
from wattnet.sim.network.actions import ensure_oracle_role, holder
from wattnet.sim.network.chainview import ChainView
from wattnet.sim.network.node import Rpc

from .stack import Network

ORACLE = "0x976EA74026E726554dB657fA54763abd0C3a0aa9"  # anvil dev account 6
CREDIT = 1
UNCERTIFIED_BPS = 2_000


@dataclass(frozen=True, slots=True)
class Settled:
    receipt: SessionReceipt
    operator_share: int  # what the ledger then owes the operator for it, in credit units


def settle_session(net: Network, station_id: bytes, key: LocalAccount, meter: SimMeter,
                   energy_wh: int, session_id: int = 1) -> Settled:
    rpc = Rpc(net.rpc_url)
    view = ChainView(rpc, net.deployment)
    view.add_contract("MockStablecoin")
    try:
        ensure_oracle_role(view, ORACLE)  # as governance would, the timelock impersonated
        # local params give a meter that is declared, not certified, no reward weight: governance
        # lets it earn a fifth (the contract's most) so the epoch has rewards to claim
        params = holder(view, "StationRegistry", roles.PARAMS_ROLE)
        rpc.send([view.tx(params, "StationRegistry", "setUncertifiedRewardBps", UNCERTIFIED_BPS)],
                 "uncertified reward weight")
        rpc.call("anvil_autoImpersonateAccount", False)
        tariff, _, changed_at, _ = view.one("StationRegistry", "tariffOf", station_id, CREDIT)
        now = rpc.warp_to(int(changed_at) + 3_600)  # the session starts under this tariff
        cost = int(session_cost(energy_wh, int(tariff)))
        owed_before = int(view.one("EnergyCredits", "owed", OPERATOR, CREDIT))
        credits, usd = view.address("EnergyCredits"), view.address("MockStablecoin")
        rpc.send([view.tx(DRIVER, "MockStablecoin", "approve", credits, 2 * cost),
                  view.tx(DRIVER, "EnergyCredits", "buy", CREDIT, 2 * cost, DRIVER),
                  view.tx(DRIVER, "EnergyCredits", "setMandate", CREDIT, 2 * cost, 4 * cost),
                  view.tx(DRIVER, "EnergyCredits", "setConsent", CREDIT, OPERATOR, True)],
                 f"driver's credits ({usd})")
        start, end = now - 3_600, now - 600
        meter.register_wh = 1_000_000
        begin = meter.ocmf("B", start)
        meter.advance(energy_wh)
        records = "\n".join([begin, meter.ocmf("E", end)])
        r = SessionReceipt(station_id, session_id, 1, DRIVER, CREDIT, energy_wh, start, end, cost,
                           readings=commitment_of(records, meter.public_key_der_hex()))
        sig = sign_receipt(bytes(key.key), Domain(net.deployment.chain_id, credits), r)
        block = int(rpc.call("eth_blockNumber"), 16)
        rpc.send([view.tx(ORACLE, "EnergyCredits", "settlePacked", pack_batch([(r, sig)]))],
                 "settling the session")
        rejected = [RejectReason(int(e["args"]["reason"])).name
                    for e in view.logs("EnergyCredits", "ReceiptRejected", block)]
        assert not rejected, f"the receipt was rejected: {rejected}"
        share = int(view.one("EnergyCredits", "owed", OPERATOR, CREDIT)) - owed_before
        return Settled(r, share)
    finally:
        rpc.close()
