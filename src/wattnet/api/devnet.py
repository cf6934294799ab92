"""A local network to try the web app on (``wattnet app --local``, the browser tests, the page
load bench): our own anvil, the protocol deployed by the project's governed deploy
(``wattnet.sim.network.deploy``, in its own process as the simulator does), two stations
registered by a staked operator, and a driver holding the mock stablecoin. The driver is anvil's
dev account 4, whose key is public (anvil prints it): import it into a browser wallet to click
through; never use it anywhere else."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from wattnet.chain.deploy import geohash_bytes8
from wattnet.chain.deployments import Deployment, load_deployment_file, project_root
from wattnet.chain.signer_binding import signer_proof
from wattnet.domain import station_id_for
from wattnet.econ.findings import required_stake
from wattnet.econ.weight import station_kw
from wattnet.errors import ChainError
from wattnet.sim.network.chainview import ChainView
from wattnet.sim.network.node import Anvil, Rpc

# anvil's well-known dev accounts (mnemonic "test test ... junk"), unlocked on the node: the
# browser tests' injected wallet forwards eth_sendTransaction from them for anvil to sign.
OPERATOR = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"  # account 3
DRIVER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"  # account 4
STATIONS = (  # (charge point id, geohash, rated power W, tariff per kWh in credit units)
    ("WEB-CP-1", "u33dbfc", 22_000, 350_000),
    ("WEB-CP-2", "u33db2m", 150_000, 600_000),
)
DRIVER_USD = 1_000 * 10**6
DEV_ACCOUNTS_USD = 1_000 * 10**6  # what ``fund_dev_accounts`` gives each


@dataclass(frozen=True, slots=True)
class Network:
    rpc_url: str
    deployment: Deployment
    deployment_file: Path


def station_key(charge_point: str) -> bytes:
    """The signing key of a devnet station: derived from its charge point id, so tests can
    sign its receipts (a public test key, like anvil's dev accounts)."""
    return keccak(text=f"wattnet-devnet-station:{charge_point}")


def start_network(work: Path) -> tuple[Anvil, Network]:
    anvil = Anvil(work)
    anvil.start()
    dep_file = work / "deployment.json"
    try:
        subprocess.run([sys.executable, "-m", "wattnet.sim.network.deploy", anvil.url, "local",
                        str(dep_file)], check=True, cwd=project_root(), capture_output=True,
                       text=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        anvil.stop()
        err = exc.stderr or ""
        text = err.decode(errors="replace") if isinstance(err, bytes) else err
        tail = text.strip().splitlines()[-1:] or ["no output"]
        raise ChainError(f"deploying the protocol on {anvil.url} failed: {tail[0]}") from exc
    net = Network(anvil.url, load_deployment_file(dep_file), dep_file)
    seed(net)
    return anvil, net


def seed(net: Network) -> None:
    rpc = Rpc(net.rpc_url)
    view = ChainView(rpc, net.deployment)
    view.add_contract("MockStablecoin")
    rpc.impersonate_all()
    treasury = str(view.one("EnergyCredits", "treasury"))
    rpc.fund([treasury, OPERATOR, DRIVER])
    per_station, per_kw = (int(view.one("OperatorStaking", n))
                           for n in ("minStakePerStation", "stakePerKw"))
    stake = sum(required_stake(1, station_kw(p), per_station, per_kw) for _, _, p, _ in STATIONS)
    staking, registry = view.address("OperatorStaking"), view.address("StationRegistry")
    rpc.send([view.tx(treasury, "WattToken", "transfer", OPERATOR, stake)], "fund operator")
    rpc.send([view.tx(OPERATOR, "WattToken", "approve", staking, stake),
              view.tx(OPERATOR, "OperatorStaking", "stake", stake)], "stake")
    txs = []
    for cp, geohash, power, tariff in STATIONS:
        sid = station_id_for(cp)
        key = station_key(cp)
        proof = signer_proof(bytes(key), chain_id=net.deployment.chain_id, registry=registry,
                             station_id=sid, operator=OPERATOR)
        params = (sid, Account.from_key(key).address, power, 2, geohash_bytes8(geohash),
                  f"ipfs://wattnet-web/{cp}", b"", [1], [tariff])
        txs.append(view.tx(OPERATOR, "StationRegistry", "registerStation", params, *proof))
    rpc.send(txs, "register stations")
    rpc.send([view.tx(DRIVER, "MockStablecoin", "mint", DRIVER, DRIVER_USD)], "driver's USD")
    rpc.call("anvil_autoImpersonateAccount", False)
    rpc.close()


def fund_dev_accounts(rpc_url: str, deployment: Deployment, amount: int = DEV_ACCOUNTS_USD
                      ) -> list[str]:
    """Mint ``amount`` of the local network's mock stablecoin (credit id 1's) to each of
    anvil's dev accounts (``eth_accounts``), so that a person who imports one into a browser
    wallet can buy credits on the demo network (``wattnet sim network --serve-app``). Local
    networks only: on a chain whose stablecoin has no open ``mint`` this raises ChainError."""
    rpc = Rpc(rpc_url)
    try:
        view = ChainView(rpc, deployment)
        accounts = [str(to_checksum_address(a)) for a in rpc.call("eth_accounts")]
        rpc.send([view.tx(a, "MockStablecoin", "mint", a, amount) for a in accounts],
                 "test stablecoin for anvil's dev accounts")
        return accounts
    finally:
        rpc.close()
