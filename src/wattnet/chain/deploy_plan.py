"""Deploy the governed protocol: every contract, its wiring, its parameters, then governance.

Entry point (also for other packages' tests and the network simulator)::

    deploy_governed(project, deployer, params, *, guardian, oracle, treasury=None,
                    stablecoins=None, record_path=None, ecosystem="ethereum",
                    network="local") -> GovernedProtocol

``params`` is a :class:`wattnet.params.Params` (``load_params("local")``). ``guardian`` and
``oracle`` are addresses (or accounts); ``treasury`` defaults to the deployer. ``stablecoins``
maps each symbol of ``params.credits.stablecoins`` to a token address; ``None`` deploys a
MockStablecoin per symbol (local chains). ``record_path`` is where the resumable record is written
(``None``: memory only); a re-run with the same path resumes (see
:mod:`wattnet.chain.deploy_record`). ``fresh_if_gone`` starts a new record when none of the
recorded contracts exists on the chain (a new local node); ``tx_options`` are extra transaction
kwargs (``required_confirmations``). :func:`deploy_local_governed` is the one-call local version.

Order: WATT -> staking -> rewards -> registry -> credits -> (mock stablecoins) -> timelock ->
governor; links; parameters not set by constructors (slash destination, region multipliers,
credit listings); the oracle committee when the params have a ``committee`` section (governed by
the timelock; ORACLE_ROLE stays with the oracle key until governance admits nodes and hands it
over); ORACLE_ROLE to the oracle, PAUSER_ROLE to the guardian; the governor becomes
the timelock's proposer and canceller (the guardian is none: no veto), anyone may execute; every
admin and parameter role goes to the timelock; the deployer renounces every role it holds,
the timelock admin included. Afterwards :func:`wattnet.chain.deploy_checks.run_checks` verifies
all of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from wattnet.chain import roles
from wattnet.chain.deploy import Protocol, geohash_bytes8
from wattnet.chain.deploy_inputs import check_unchanged, inputs_of
from wattnet.chain.deploy_record import Recorder, crash_point, create_address
from wattnet.chain.deployments import Deployment, compiler_version, git_commit
from wattnet.errors import ChainError
from wattnet.params import Params, SlashDestination, to_chain_units
from wattnet.params import contract_phases as phases_on_chain

log = logging.getLogger(__name__)

ZERO_ADDRESS = "0x" + "00" * 20
CREDITS_URI = "ipfs://wattnet-credits/{id}.json"
PROTOCOL = ("WattToken", "OperatorStaking", "RewardsEngine", "StationRegistry", "EnergyCredits")
TIMELOCK_ROLES = {
    "PROPOSER_ROLE": roles.PROPOSER_ROLE,
    "EXECUTOR_ROLE": roles.EXECUTOR_ROLE,
    "CANCELLER_ROLE": roles.CANCELLER_ROLE,
}
# Roles the timelock receives on each contract (every admin and parameter role).
GOVERNED_ROLES: dict[str, tuple[str, ...]] = {
    "WattToken": ("DEFAULT_ADMIN_ROLE",),
    # The timelock is the slashing authority until the oracle committee exists: it slashes,
    # forfeits escrowed rewards and attests locations (every penalty path has a holder).
    "OperatorStaking": ("DEFAULT_ADMIN_ROLE", "PARAMS_ROLE", "SLASHER_ROLE"),
    "RewardsEngine": ("DEFAULT_ADMIN_ROLE", "PARAMS_ROLE", "FINDINGS_ROLE"),
    "StationRegistry": ("DEFAULT_ADMIN_ROLE", "PARAMS_ROLE", "REGISTRY_ADMIN_ROLE",
                        "ATTESTER_ROLE"),
    "EnergyCredits": ("DEFAULT_ADMIN_ROLE", "PARAMS_ROLE"),
}
# The oracle committee's, when params have a ``committee`` section: deployed beside the
# protocol, governed by the timelock; it settles nothing until governance admits nodes, and the
# oracle key keeps ORACLE_ROLE until governance takes it (docs/runbooks/oracle-committee.md).
COMMITTEE_ROLES = ("DEFAULT_ADMIN_ROLE", "GOVERNOR_ROLE")
# The committee's roles, granted at deployment: publishing its members to the ledger (which
# then takes batches they signed, settleSigned), and what its judged findings (act, k
# signatures) may do beside governance. With no members yet it can do nothing until governance
# admits nodes (the hand-over).
COMMITTEE_GRANTS = (("EnergyCredits", "COMMITTEE_ROLE"),
                    ("StationRegistry", "ATTESTER_ROLE"), ("RewardsEngine", "FINDINGS_ROLE"),
                    ("OperatorStaking", "FREEZER_ROLE"))


def role_id(name: str) -> bytes:
    """The id of a role constant named in roles.py (DEFAULT_ADMIN_ROLE is zero)."""
    value: bytes = getattr(roles, name)
    return value


def address_of(x: Any) -> str:
    return str(getattr(x, "address", x))


@dataclass(slots=True)
class GovernedProtocol:
    """The deployed, governed protocol (Ape contract instances) and its record."""

    watt: Any
    staking: Any
    rewards: Any
    registry: Any
    credits: Any
    timelock: Any
    governor: Any
    stablecoins: dict[str, Any]  # symbol -> token contract, in credit id order
    deployment: Deployment
    record_path: Path | None
    deployer: str
    guardian: str
    oracle: str
    treasury: str
    committee: Any = None  # OracleCommittee, when the params deploy one

    @property
    def protocol(self) -> Protocol:
        return Protocol(self.watt, self.staking, self.rewards, self.registry, self.credits)

    @property
    def settlement(self) -> Any:
        return self.credits

    def as_dict(self) -> dict[str, Any]:
        committee = {} if self.committee is None else {"OracleCommittee": self.committee}
        return {**self.protocol.as_dict(), "WattTimelock": self.timelock,
                "WattGovernor": self.governor, **committee}

    @property
    def addresses(self) -> dict[str, str]:
        return dict(self.deployment.contracts)


def _jsonable(x: Any) -> Any:
    if isinstance(x, bool | int | str) or x is None:
        return x
    if isinstance(x, bytes):
        return "0x" + x.hex()
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    return address_of(x)


class _Run:
    """Runs steps once each, recording every one as it completes."""

    def __init__(self, project: Any, chain: Any, acct: Any, rec: Recorder,
                 tx_options: Mapping[str, Any]) -> None:
        self.project, self.chain, self.acct, self.rec = project, chain, acct, rec
        self.tx: dict[str, Any] = {"sender": acct, **tx_options}

    def code_at(self, address: str) -> bytes:
        return bytes(self.chain.provider.get_code(address))

    def create(self, name: str, type_name: str, args: list[Any]) -> Any:
        ctype = getattr(self.project, type_name)
        key = f"deploy:{name}"
        if self.rec.done(key):
            return ctype.at(self.rec.contracts[name])
        pending = self.rec.step(key)
        if pending and self.code_at(pending["address"]):
            log.info("%s: adopting the contract created before the crash at %s", name,
                     pending["address"])
            recorded = self.rec.constructor_args.get(name, _jsonable(args))
            self.rec.record_create(name, pending["address"], "", self.chain.blocks.head.number,
                                   recorded)
            return ctype.at(pending["address"])
        nonce = self.acct.nonce
        self.rec.pending_create(name, create_address(self.acct.address, nonce), nonce,
                                _jsonable(args))
        contract = ctype.deploy(*args, **self.tx)
        crash_point(f"sent:{key}")
        receipt = self.chain.provider.get_receipt(contract.txn_hash)
        self.rec.record_create(name, contract.address, str(contract.txn_hash),
                               int(receipt.block_number), _jsonable(args))
        return contract

    def transact(self, name: str, done: Callable[[], bool], send: Callable[[], Any]) -> None:
        if self.rec.done(name):
            return
        if done():  # sent before a crash, not recorded
            self.rec.record_tx(name, "", 0)
            return
        receipt = send()
        crash_point(f"sent:{name}")
        self.rec.record_tx(name, str(receipt.txn_hash), int(receipt.block_number))


def contract_phases(params: Params) -> list[tuple[int, int, int, int]]:
    """params' phases as RewardsEngine Phase tuples (start, end, decay, emission in wei)."""
    return phases_on_chain(params.rewards)


def _grant(run: _Run, contract: Any, cname: str, role: str, who: str) -> None:
    rid = role_id(role)
    run.transact(f"grant:{cname}:{role}:{who}", lambda: bool(contract.hasRole(rid, who)),
                 lambda: contract.grantRole(rid, who, **run.tx))


def _renounce(run: _Run, contract: Any, cname: str, role: str) -> None:
    rid, me = role_id(role), run.acct.address
    run.transact(f"renounce:{cname}:{role}", lambda: not contract.hasRole(rid, me),
                 lambda: contract.renounceRole(rid, me, **run.tx))


def _once(run: _Run, name: str, current: Callable[[], Any], want: Any,
          send: Callable[[], Any]) -> None:
    run.transact(name, lambda: current() == want, send)


def deploy_governed(
    project: Any,
    deployer: Any,
    params: Params,
    *,
    guardian: Any,
    oracle: Any,
    treasury: Any = None,
    stablecoins: Mapping[str, str] | None = None,
    record_path: Path | None = None,
    ecosystem: str = "ethereum",
    network: str = "local",
    fresh_if_gone: bool = True,
    tx_options: Mapping[str, Any] | None = None,
) -> GovernedProtocol:
    """Deploy (or resume deploying) the governed protocol; see the module docstring."""
    from ape import chain

    guardian, oracle = address_of(guardian), address_of(oracle)
    treasury = address_of(treasury) if treasury is not None else deployer.address
    for label, value in (("guardian", guardian), ("oracle", oracle)):
        if value.lower() in (ZERO_ADDRESS, deployer.address.lower()):
            raise ChainError(f"the {label} must be an address other than zero and the "
                             f"deployer (which keeps no role), got {value}")
    if treasury.lower() == ZERO_ADDRESS:
        raise ChainError("the treasury must not be the zero address")
    chain_id = int(chain.chain_id)
    kw = {"ecosystem": ecosystem, "network": network, "compiler": compiler_version(),
          "git_commit": git_commit(), "deployer": deployer.address}
    if record_path is not None:
        rec = Recorder.resume(record_path, chain_id,
                              lambda a: bytes(chain.provider.get_code(a)),
                              fresh_if_gone=fresh_if_gone, **kw)
    else:
        rec = Recorder(chain_id=chain_id, path=None, **kw)
    check_unchanged(str(record_path), rec.steps, rec.contracts, rec.constructor_args,
                    inputs_of(treasury, guardian, oracle, stablecoins))
    run = _Run(project, chain, deployer, rec, tx_options or {})
    u = to_chain_units(params)
    st, rg, se, rw, gv = (u["staking"], u["registry"], u["settlement"], u["rewards"],
                          u["governance"])
    me = deployer.address

    watt = run.create("WattToken", "WattToken",
                      [me, u["token"]["cap"], treasury, rw["genesis_supply"]])
    staking = run.create("OperatorStaking", "OperatorStaking", [
        me, watt.address, treasury, st["min_stake_per_station"], st["unbonding_delay"],
        st["equivocation_slash"], st["equivocation_bounty_bps"]])
    genesis = rec.constructor_args.get("RewardsEngine", [None, None, None])[2]
    rewards = run.create("RewardsEngine", "RewardsEngine", [
        me, watt.address, genesis or int(chain.blocks.head.timestamp),
        u["token"]["cap"] - rw["genesis_supply"], contract_phases(params)])
    registry = run.create("StationRegistry", "StationRegistry", [
        me, staking.address, rg["min_tariff_per_kwh"], rg["max_tariff_per_kwh"]])
    timing = (u["credits"]["redemption_delay"], se["max_settlement_delay"],
              se["max_session_duration"])
    credits = run.create("EnergyCredits", "EnergyCredits", [
        me, treasury, timing, CREDITS_URI, registry.address, rewards.address,
        se["operator_share_bps"], se["referrer_share_bps"], rw["station_epoch_cap_bps"]])
    coins: dict[str, Any] = {}
    for coin in sorted(params.credits.stablecoins, key=lambda c: c.credit_id):
        if stablecoins is None:
            coins[coin.symbol] = run.create(f"stablecoin.{coin.symbol}", "MockStablecoin",
                                            [f"Mock {coin.symbol}", coin.symbol, coin.decimals])
        else:
            if coin.symbol not in stablecoins:
                raise ChainError(f"no address given for stablecoin {coin.symbol} (credit id "
                                 f"{coin.credit_id}); set it (see docs/runbooks/deploy.md)")
            coins[coin.symbol] = project.MockStablecoin.at(stablecoins[coin.symbol])
            rec.contracts[f"stablecoin.{coin.symbol}"] = coins[coin.symbol].address
    committee = None
    if params.committee is not None:
        cm = u["committee"]
        committee = run.create("OracleCommittee", "OracleCommittee", [
            watt.address, credits.address, treasury, me, cm["min_stake"], cm["unbonding_delay"],
            cm["bounty_bps"]])
    timelock = run.create("WattTimelock", "WattTimelock",
                          [gv["timelock_delay"], [], [ZERO_ADDRESS], me])
    governor = run.create("WattGovernor", "WattGovernor", [
        watt.address, timelock.address, gv["voting_delay"], gv["voting_period"],
        gv["proposal_threshold"], gv["quorum_percent"], gv["late_quorum_extension"]])

    tx = run.tx
    # ---- links
    _grant(run, watt, "WattToken", "MINTER_ROLE", rewards.address)
    _grant(run, staking, "OperatorStaking", "REGISTRY_ROLE", registry.address)
    _once(run, "link:staking.registry", staking.registry, registry.address,
          lambda: staking.setRegistry(registry.address, **tx))
    _once(run, "link:staking.settlement", staking.settlement, credits.address,
          lambda: staking.setSettlement(credits.address, **tx))
    _once(run, "link:registry.credits", registry.credits, credits.address,
          lambda: registry.setCredits(credits.address, **tx))
    _once(run, "link:rewards.weightSource", rewards.weightSource, credits.address,
          lambda: rewards.setWeightSource(credits.address, **tx))
    _once(run, "link:staking.rewards", staking.rewards, rewards.address,
          lambda: staking.setRewards(rewards.address, **tx))
    _grant(run, rewards, "RewardsEngine", "FINDINGS_ROLE", staking.address)
    # ---- parameters the constructors do not take
    for cname, c in (("OperatorStaking", staking), ("StationRegistry", registry),
                     ("EnergyCredits", credits), ("RewardsEngine", rewards)):
        _grant(run, c, cname, "PARAMS_ROLE", me)
    for name, getter, value, setter in (
        ("rewards.challengeWindow", rewards.challengeWindow, rw["challenge_window"],
         rewards.setChallengeWindow),
        ("rewards.feeMultipleBps", rewards.feeMultipleBps, rw["fee_multiple_bps"],
         rewards.setFeeMultipleBps),
        ("rewards.priceFloor", rewards.priceFloor, rw["watt_price_floor"], rewards.setPriceFloor),
        ("registry.uncertifiedRewardBps", registry.uncertifiedRewardBps,
         rg["uncertified_reward_bps"], registry.setUncertifiedRewardBps),
        ("registry.releaseDelay", registry.releaseDelay, rg["release_delay"],
         registry.setReleaseDelay),
        ("staking.stakePerKw", staking.stakePerKw, st["stake_per_kw"], staking.setStakePerKw),
        ("staking.overlapToleranceS", staking.overlapToleranceS, st["overlap_tolerance"],
         staking.setOverlapTolerance),
    ):
        _once(run, f"param:{name}", getter, value, partial(setter, value, **tx))
    if params.staking.slash_destination is SlashDestination.BURN:
        _once(run, "param:staking.slashDestination", staking.slashDestination, 1,
              lambda: staking.setSlashDestination(1, **tx))
    for prefix, bps in params.registry.region_multipliers:
        key = geohash_bytes8(prefix)
        _once(run, f"param:registry.regionMultiplier:{prefix}",
              partial(registry.multiplierOfPrefix, key), bps,
              partial(registry.setRegionMultiplier, key, bps, **tx))
    for coin in sorted(params.credits.stablecoins, key=lambda c: c.credit_id):
        token = coins[coin.symbol]
        if int(token.decimals()) != coin.decimals:
            raise ChainError(f"stablecoin {coin.symbol} at {token.address} has "
                             f"{token.decimals()} decimals, params say {coin.decimals}")
        _once(run, f"param:credits.list:{coin.symbol}",
              partial(credits.idOfToken, token.address), coin.credit_id,
              partial(credits.listCredit, token.address, **tx))
    # ---- operational roles and governance
    _grant(run, credits, "EnergyCredits", "ORACLE_ROLE", oracle)
    _grant(run, credits, "EnergyCredits", "PAUSER_ROLE", guardian)
    # A quick, bounded freeze of an operator's exit while the timelock decides a finding.
    _grant(run, staking, "OperatorStaking", "FREEZER_ROLE", guardian)
    # The guardian is no canceller: a veto could keep its own pause in force and its own removal
    # off the table (issue 11); its pause expires by itself instead.
    for role, who in (("PROPOSER_ROLE", governor.address), ("CANCELLER_ROLE", governor.address)):
        _grant(run, timelock, "WattTimelock", role, who)
    contracts = {"WattToken": watt, "OperatorStaking": staking, "RewardsEngine": rewards,
                 "StationRegistry": registry, "EnergyCredits": credits}
    for cname, governed in GOVERNED_ROLES.items():
        for role in governed:
            _grant(run, contracts[cname], cname, role, timelock.address)
    if committee is not None:
        for role in COMMITTEE_ROLES:
            _grant(run, committee, "OracleCommittee", role, timelock.address)
        for cname, role in COMMITTEE_GRANTS:
            _grant(run, contracts[cname], cname, role, committee.address)
    # ---- the deployer lets go: parameter roles first, admin last, timelock admin at the end
    for cname, governed in GOVERNED_ROLES.items():
        for role in sorted(governed, key=lambda r: r == "DEFAULT_ADMIN_ROLE"):
            _renounce(run, contracts[cname], cname, role)
    if committee is not None:
        for role in sorted(COMMITTEE_ROLES, key=lambda r: r == "DEFAULT_ADMIN_ROLE"):
            _renounce(run, committee, "OracleCommittee", role)
    _renounce(run, timelock, "WattTimelock", "DEFAULT_ADMIN_ROLE")
    rec.finish()
    return GovernedProtocol(watt, staking, rewards, registry, credits, timelock, governor, coins,
                            rec.deployment(), record_path, rec.deployer or me, guardian, oracle,
                            treasury, committee)


def deploy_local_governed(project: Any, accounts: Any, params: Params | str = "local", *,
                          record_path: Path | None = None,
                          guardian: Any = None) -> GovernedProtocol:
    """Everything on a local chain from ``params/local.yaml`` with Ape's test accounts:
    deployer #0, guardian #8 (or ``guardian``, e.g. a Safe), oracle #6, treasury #1 (the roles
    of tests/contracts/conftest.py); mock stablecoins. Returns the protocol; ``.addresses`` and
    ``.deployment`` are the record."""
    from wattnet.params import load_params

    p = load_params(params) if isinstance(params, str) else params
    return deploy_governed(project, accounts[0], p, guardian=guardian or accounts[8],
                           oracle=accounts[6],
                           treasury=accounts[1], record_path=record_path)
