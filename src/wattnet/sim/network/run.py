"""``wattnet sim network``: a whole network through the real stack on a local chain.

anvil (ours, a snapshot of one, or a given URL) -> deploy (the project's deploy code, params from
``params/<network>.yaml``) -> operators stake and register stations, drivers buy credits, set
mandates, bind cards -> gateways and the oracle as processes -> virtual chargers charge over
OCPP while chain time moves -> drivers redeem, the epoch closes, operators claim and withdraw ->
reconciliation against the plan, to the smallest unit -> report.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils.address import to_checksum_address

from wattnet.chain.deployments import Deployment, load_deployment_file
from wattnet.chain.localnode import free_port
from wattnet.chain.meters import derived_p256_key, public_xy
from wattnet.econ.emission import emission_of
from wattnet.econ.rewards import watt_price
from wattnet.errors import ChainError, ConfigError
from wattnet.params import Params, contract_phases, load_params, to_wei
from wattnet.sim.network.actions import (
    admit_meter_issuer,
    after_sessions,
    attest_locations,
    ensure_oracle_role,
)
from wattnet.sim.network.chainview import ChainView
from wattnet.sim.network.committee import form_committee, oracle_role_holders, oracle_used
from wattnet.sim.network.drive import DriveStats, drive
from wattnet.sim.network.node import Anvil, Rpc
from wattnet.sim.network.ocpi import ADMIN_TOKEN_ENV, Published, Running, start_ocpi
from wattnet.sim.network.plan import (
    Plan,
    aligned_start,
    derive_address,
    derive_key,
    make_plan,
    run_tag,
)
from wattnet.sim.network.population import populate
from wattnet.sim.network.reconcile import (
    Difference,
    FeeBound,
    Ledger,
    compare,
    epoch_of,
    expect,
    observe,
    read_before,
)
from wattnet.sim.network.stack import (
    Service,
    committee_configs,
    oracle_config,
    service_env,
    start_gateway,
    start_oracle,
)
from wattnet.sim.network.standby import doors, on_call_all

log = logging.getLogger(__name__)
CHARGERS_PER_GATEWAY = 2_000
AFTER_PLAN_S = 30 * 86_400  # chain time beyond the plan's end the services accept readings at


@dataclass(frozen=True, slots=True)
class NetworkOptions:
    chargers: int = 20
    drivers: int = 100
    days: int = 1
    seed: int = 0
    params: str = "local"
    rpc_url: str | None = None
    from_state: Path | None = None
    deployment: Path | None = None
    save_state: Path | None = None
    db: str | None = None
    gateways: int | None = None
    workdir: Path | None = None
    oracle_nodes: int = 1  # > 1: that many committee nodes, threshold from the params file
    ocpi: bool = False  # publish the network over OCPI 2.2.1 (wattnet ocpi run beside the oracle)

    def validate(self) -> None:
        for name, lo, hi in (("chargers", 1, 20_000), ("drivers", 1, 200_000),
                             ("days", 1, 365), ("oracle_nodes", 1, 31)):
            value = getattr(self, name)
            if not lo <= value <= hi:
                raise ConfigError(f"--{name} {value} is out of range {lo}..{hi}")
        if self.rpc_url and self.from_state:
            raise ConfigError("give --rpc-url or --from-state, not both")
        if self.from_state is not None and not self.from_state.is_file():
            raise ConfigError(f"--from-state {self.from_state}: no such file")
        if self.deployment is not None and not self.deployment.is_file():
            raise ConfigError(f"--deployment {self.deployment}: no such file")
        if self.workdir is not None and self.workdir.is_dir() and any(self.workdir.iterdir()):
            raise ConfigError(f"--workdir {self.workdir} is not empty; give an empty or new "
                              "folder (a run keeps its databases there)")
        if self.rpc_url and not self.rpc_url.startswith(("http://", "https://")):
            raise ConfigError(f"--rpc-url {self.rpc_url!r} must be an http(s):// URL")


@dataclass
class NetworkResult:
    params: Params
    plan: Plan
    stats: DriveStats
    expected: Ledger
    actual: Ledger
    differences: list[Difference]
    deployment: Deployment
    genesis: int
    emission: dict[int, int]
    gas_used: int
    watt_supply: int
    workdir: Path
    extra: dict[str, int] = field(default_factory=dict)
    settlement_txs: int = 0  # the oracle's txs to EnergyCredits, mined
    reverted_settlements: int = 0  # ... of which reverted (issue 18)
    oracle_role_holders: list[str] = field(default_factory=list)  # who may settle, at the end
    published: Any = None  # what the ``on_settled`` hook returned

    @property
    def ok(self) -> bool:
        return not self.differences


Progress = Callable[[str, float, float], None]


@contextlib.contextmanager
def _workdir(opts: NetworkOptions) -> Iterator[Path]:
    if opts.workdir is not None:
        opts.workdir.mkdir(parents=True, exist_ok=True)
        yield opts.workdir.resolve()  # services run elsewhere: their paths are absolute
        return
    path = Path(tempfile.mkdtemp(prefix="wattnet-network-"))
    ok = False
    try:
        yield path
        ok = True
    finally:
        if ok:
            shutil.rmtree(path, ignore_errors=True)


def _sidecar(state: Path) -> Path:
    return state.with_name(state.name + ".deployment.json")


def run_network(opts: NetworkOptions, progress: Progress = lambda s, d, t: None,
                on_settled: Callable[[Running], Any] | None = None,
                on_ready: Callable[[Running], None] | None = None) -> NetworkResult:
    """Run the network; ``on_settled`` is called once every session settled and reconciled,
    while the chain and the services still run (with the OCPI endpoint when ``opts.ocpi``);
    ``on_ready`` once the services run, before the first session (an OCPI partner registers
    there to receive the pushes)."""
    opts.validate()
    params = load_params(opts.params)
    services: list[Service] = []
    anvil: Anvil | None = None
    with _workdir(opts) as work:
        try:
            if opts.rpc_url:
                url = opts.rpc_url
            else:
                anvil = Anvil(work, load_state=opts.from_state)
                progress("starting anvil", 0, 1)
                anvil.start()
                url = anvil.url
            rpc = Rpc(url)
            version = str(rpc.call("web3_clientVersion"))
            if "anvil" not in version.lower():
                raise ChainError(f"the node at {url} is {version!r}; the simulator needs anvil "
                                 "(it moves chain time and impersonates participants)")
            dep_file = work / "deployment.json"
            existing = opts.deployment or (_sidecar(opts.from_state) if opts.from_state else None)
            if existing is not None:
                deployment = load_deployment_file(existing)
                dep_file.write_text(existing.read_text())
            else:
                progress("deploying the protocol", 0, 1)
                _deploy(url, opts.params, dep_file, work)
                deployment = load_deployment_file(dep_file)
                if opts.save_state is not None:
                    rpc.dump_state(opts.save_state)
                    _sidecar(opts.save_state).write_text(dep_file.read_text())
            view = ChainView(rpc, deployment)
            # the plan's randomness comes from the seed only (never the node's block hashes)
            tag = run_tag(opts.seed, lambda a: oracle_used(view, a))
            oracle_key = derive_key(opts.seed, tag, "oracle", 0)
            oracle = derive_address(opts.seed, tag, "oracle")
            treasury = to_checksum_address(str(view.one("EnergyCredits", "treasury")))
            node_keys = [derive_key(opts.seed, tag, "oracle", i)
                         for i in range(opts.oracle_nodes)]
            committee = ""
            if opts.oracle_nodes == 1:
                ensure_oracle_role(view, oracle)
            else:
                if params.committee is None:
                    raise ChainError(f"--oracle-nodes {opts.oracle_nodes} needs a `committee` "
                                     f"section in the params file ({params.source})")
                progress("forming the oracle committee", 0, 1)
                committee = form_committee(view, node_keys, params.committee.threshold, treasury)
            # Who sends settlements: the oracle key, or every node (any node relays its batch).
            senders = [oracle] if opts.oracle_nodes == 1 else \
                [derive_address(opts.seed, tag, "oracle", i) for i in range(opts.oracle_nodes)]
            genesis = int(view.one("RewardsEngine", "genesis"))
            cap_unit = int(view.one("EnergyCredits", "capUnitOf", 1))
            if cap_unit == 0:
                raise ChainError("credit id 1 is not listed in this deployment")
            t0 = aligned_start(genesis, rpc.head_timestamp(), 600 + opts.drivers // 20)
            plan = make_plan(params, chargers=opts.chargers, drivers=opts.drivers,
                             days=opts.days, seed=opts.seed, tag=tag, t0=t0, genesis=genesis,
                             cap_unit=cap_unit)
            epochs = sorted({epoch_of(plan, genesis, s.end) for s in plan.sessions})
            before = read_before(view, treasury, epochs)
            issuer = derived_p256_key(f"{opts.seed}:{tag}:meter-maker".encode())
            admit_meter_issuer(view, *public_xy(issuer))
            populate(view, plan, treasury, oracle, issuer,
                     lambda what, d, t: progress(what, d, t))
            attest_locations(view, [c.station_id for c in plan.chargers])
            if rpc.head_timestamp() >= t0:
                raise ChainError("setting up took longer than planned; use fewer drivers")
            from_block = int(rpc.call("eth_blockNumber"), 16) + 1
            env = service_env(url, dep_file)
            window = int(view.one("EnergyCredits", "timing")[1])
            # how far chain time may run ahead of the wall clock: the plan, then redemptions,
            # the epoch close and claims (after_sessions), then sessions started from the app
            lead = plan.end - int(time.time()) + AFTER_PLAN_S
            db = opts.db or str(work / "oracle.db")
            progress("starting the oracle and gateways", 0, 1)
            base = oracle_config(work, deployment.chain_id, deployment.address("EnergyCredits"),
                                 db, max(lead, 120), port=free_port())
            if opts.oracle_nodes == 1:
                nodes = [start_oracle(work, env, oracle_key, base)]
            else:
                dirs = [work / f"oracle-node-{i}" for i in range(opts.oracle_nodes)]
                configs = committee_configs(base, dirs, committee)
                nodes = [start_oracle(d, env, node_keys[i], cfg, f"oracle-node-{i}")
                         for i, (d, cfg) in enumerate(zip(dirs, configs, strict=True))]
            services.extend(nodes)
            ocpi: Published | None = None
            first_db = db if opts.oracle_nodes == 1 else str(work / "oracle-node-0" / "oracle.db")
            n_gw = opts.gateways or math.ceil(opts.chargers / CHARGERS_PER_GATEWAY)
            admin_ports: list[int | None] = [None] * n_gw
            if opts.ocpi or on_settled is not None:  # OCPI and the app read the gateways' status
                admin_ports = [free_port() for _ in range(n_gw)]
                env = {**env, ADMIN_TOKEN_ENV: secrets.token_hex(16)}
            admins = [f"http://127.0.0.1:{p}" for p in admin_ports if p is not None]
            if opts.ocpi:  # on the first node's database: the receipts it settled are CDRs
                ocpi_svc, ocpi = start_ocpi(work, env, first_db, params, admins)
                services.append(ocpi_svc)
                progress(f"OCPI versions at {ocpi.versions_url}, token A {ocpi.token_a}", 0, 1)
            # Each gateway posts every receipt to every node (a node that is down delays nothing).
            urls = [f"http://127.0.0.1:{svc.port}" for svc in nodes]
            sites = []
            for g in range(n_gw):
                mine = [c for c in plan.chargers if c.index % n_gw == g]
                svc = start_gateway(work, env, g, mine, urls if len(urls) > 1 else urls[0],
                                    deployment.chain_id, deployment.address("EnergyCredits"),
                                    plan.credit_id, future_skew_s=max(lead, 300),
                                    admin_port=admin_ports[g])
                services.append(svc)
                sites.append((svc, mine))
            if on_ready is not None:
                on_ready(Running(url, dep_file, first_db, ocpi))
            rpc.warp_to(t0)
            stats = DriveStats(total=len(plan.sessions))

            def report(s: DriveStats) -> None:
                progress("sessions settled", s.settled, s.total)

            asyncio.run(drive(view, plan, sites, services, stats, window_s=window,
                              progress=report))
            progress("redemptions, epoch close, claims, withdrawals", 0, 1)
            actions, emission = after_sessions(view, plan, genesis, epochs)
            # Expected from the params file and the rules alone (no feed is set: the price is
            # the floor); the chain's parameters and emission are what `observe` reads.
            rw, st = params.rewards, params.settlement
            bound = FeeBound(rw.fee_multiple_bps, int(watt_price(to_wei(rw.watt_price_floor))),
                             cap_unit)
            schedule = contract_phases(rw)
            expected = expect(plan, genesis, st.operator_share_bps, st.referrer_share_bps,
                              actions, before, {e: emission_of(schedule, e) for e in epochs},
                              bound, rw.station_epoch_cap_bps)
            actual = observe(view, plan, expected, treasury, senders, from_block)
            gas = _settlement_gas(view, senders, from_block)
            supply = int(view.one("WattToken", "totalSupply"))
            sent, reverted = _settlement_txs(view, senders, from_block)
            published = None if on_settled is None else on_settled(
                Running(url, dep_file, first_db, ocpi, doors(sites),
                        on_call_all(sites, plan, url, max(lead, 300) - 120), admins,
                        env.get(ADMIN_TOKEN_ENV)))
            return NetworkResult(params, plan, stats, expected, actual,
                                 compare(expected, actual), deployment, genesis, emission, gas,
                                 supply, work, settlement_txs=sent,
                                 reverted_settlements=reverted,
                                 oracle_role_holders=oracle_role_holders(view),
                                 published=published)
        finally:
            for svc in reversed(services):
                svc.stop()
            if anvil is not None:
                anvil.stop()


def _deploy(url: str, params: str, out: Path, work: Path) -> None:
    log_path = work / "deploy.log"
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wattnet.sim.network.deploy", url, params, str(out)],
            stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if code != 0:
        tail = log_path.read_text(errors="replace")[-2000:]
        raise ChainError(f"deploying the protocol failed (see {log_path}):\n{tail}")


def _settlement_gas(view: ChainView, senders: list[str], from_block: int) -> int:
    mine = {s.lower() for s in senders}
    hashes = sorted({"0x" + bytes(b["transactionHash"]).hex()
                     for b in view.logs("EnergyCredits", "BatchSettled", from_block)
                     if str(b["args"]["submitter"]).lower() in mine})
    return sum(int(r["gasUsed"], 16) for r in view.rpc.receipts(hashes))


def _settlement_txs(view: ChainView, senders: list[str], from_block: int) -> tuple[int, int]:
    """(mined, reverted) transactions of the oracle (or the committee's nodes) to the ledger."""
    receipts = view.rpc.receipts([h for s in senders
                                  for h in view.txs_to(s, "EnergyCredits", from_block)])
    return len(receipts), sum(1 for r in receipts if r is None or int(r["status"], 16) != 1)
