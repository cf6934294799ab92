"""``wattnet station``: what a station operator does on chain, from an encrypted keystore.

    wattnet station stake 2000                         bond WATT (approves, then stakes)
    wattnet station register CP-1 --signer-keystore keys/cp1.json --power-w 22000 ...
    wattnet station show CP-1                          registry view, tariffs, standing
    wattnet station set-tariff CP-1 --credit-id 1 --tariff 350000
    wattnet station rotate-key CP-1 --signer-keystore keys/cp1-new.json

The operator's key: ``--keystore`` (or ``$WATTNET_OPERATOR_KEYSTORE``), passphrase in the variable
named by ``--passphrase-env``. ``register`` and ``rotate-key`` also decrypt the station key's
keystore (passphrase in ``--signer-passphrase-env``, by default the one ``wattnet gateway new-key``
uses) to sign the registry's proof of possession: the key agrees to sign for this station of
this operator, so nobody can bind a key they do not hold. Contracts come from the deployment record
(``$WATTNET_DEPLOYMENT`` or deployments/), the node from ``--rpc-url`` / ``$WATTNET_RPC_URL``.
Every failure is one line: the contract's custom error with its values, or what to fix.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from wattnet.chain.deploy import WAD, geohash_bytes8
from wattnet.chain.signer_binding import signer_proof
from wattnet.chain.tx import Transactor, load_keystore
from wattnet.chain.web3_client import ChainClient
from wattnet.cli.output import show as show_table
from wattnet.domain import station_id_for
from wattnet.errors import ConfigError

console = Console()


def _client(rpc_url: str | None) -> ChainClient:
    client = ChainClient.from_env(rpc_url)
    client.check()
    return client


def _transactor(ctx: click.Context) -> Transactor:
    opts = ctx.obj
    if not opts["keystore"]:
        raise ConfigError("give the operator's keystore: --keystore PATH or "
                          "$WATTNET_OPERATOR_KEYSTORE")
    client = _client(opts["rpc_url"])
    return Transactor(client, load_keystore(Path(opts["keystore"]), opts["passphrase_env"]))


def _watt(text: str) -> int:
    try:
        amount = Decimal(text.replace("_", ""))
    except InvalidOperation as exc:
        raise ConfigError(f"amount {text!r} is not a number of WATT") from exc
    if amount <= 0 or amount != amount.quantize(Decimal(1).scaleb(-18)):
        raise ConfigError(f"amount {text!r} must be positive with at most 18 decimals")
    return int(amount * WAD)


def _proof(tx: Transactor, signer_keystore: Path, passphrase_env: str,
           station_id: bytes) -> tuple[str, tuple[bytes, bytes]]:
    """The station key's address and its proof of possession for `station_id` and the operator
    sending the transaction."""
    signer = load_keystore(signer_keystore, passphrase_env)
    proof = signer_proof(bytes(signer.key), chain_id=tx.client.deployment.chain_id,
                         registry=tx.client.registry.address, station_id=station_id,
                         operator=tx.account.address)
    return signer.address, proof


_SIGNER_PASSPHRASE = click.option(
    "--signer-passphrase-env", default="WATTNET_KEYSTORE_PASSPHRASE", show_default=True,
    help="Environment variable holding the station key's keystore passphrase.")


def _done(what: str, receipt: dict[str, Any]) -> None:
    console.print(f"{what}: tx 0x{bytes(receipt['transactionHash']).hex()} "
                  f"(block {receipt['blockNumber']}, gas {receipt['gasUsed']:,})")


@click.group()
@click.option("--rpc-url", envvar="WATTNET_RPC_URL", default=None,
              help="JSON-RPC endpoint (default $WATTNET_RPC_URL or 127.0.0.1:8545).")
@click.option("--keystore", envvar="WATTNET_OPERATOR_KEYSTORE", default=None,
              help="The operator's encrypted keystore.")
@click.option("--passphrase-env", default="WATTNET_OPERATOR_PASSPHRASE", show_default=True,
              help="Environment variable holding the keystore passphrase.")
@click.pass_context
def station(ctx: click.Context, rpc_url: str | None, keystore: str | None,
            passphrase_env: str) -> None:
    """Station operators: stake, register, show, set a tariff, rotate the station key."""
    ctx.obj = {"rpc_url": rpc_url, "keystore": keystore, "passphrase_env": passphrase_env}


@station.command()
@click.argument("amount")
@click.pass_context
def stake(ctx: click.Context, amount: str) -> None:
    """Bond AMOUNT WATT behind your stations (approve, then stake)."""
    tx = _transactor(ctx)
    wei = _watt(amount)
    staking = tx.client.contract("OperatorStaking")
    watt = tx.client.contract("WattToken")
    _done("approve", tx.send(watt.functions.approve(staking.address, wei), "approve WATT"))
    _done(f"staked {amount} WATT", tx.send(staking.functions.stake(wei), "stake"))


@station.command()
@click.argument("charge_point_id")
@click.option("--signer-keystore", required=True,
              type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="The station key's keystore (from wattnet gateway new-key): it signs the "
                   "proof of possession.")
@_SIGNER_PASSPHRASE
@click.option("--power-w", type=click.IntRange(1), required=True, help="Rated power in W.")
@click.option("--connectors", type=click.IntRange(1, 255), default=1, show_default=True)
@click.option("--geohash", required=True, help="Location, 1 to 8 geohash characters.")
@click.option("--credit-id", type=click.IntRange(1), default=1, show_default=True)
@click.option("--tariff", type=click.IntRange(1), required=True,
              help="Price per kWh in credit units (e.g. 350000 = 0.35 USDC).")
@click.option("--uri", default="", help="Metadata URI.")
@click.pass_context
def register(ctx: click.Context, charge_point_id: str, signer_keystore: Path,
             signer_passphrase_env: str, power_w: int, connectors: int, geohash: str,
             credit_id: int, tariff: int, uri: str) -> None:
    """Register CHARGE_POINT_ID (its OCPP identity) with the station key of --signer-keystore.

    An id whose station has been inactive for the registry's release delay is taken over."""
    try:
        geo = geohash_bytes8(geohash)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    tx = _transactor(ctx)
    sid = station_id_for(charge_point_id)
    signer, proof = _proof(tx, signer_keystore, signer_passphrase_env, sid)
    params = (sid, signer, power_w, connectors, geo, uri, b"", [credit_id], [tariff])
    registry = tx.client.registry
    _done(f"registered {charge_point_id}",
          tx.send(registry.functions.registerStation(params, *proof), "registerStation"))


@station.command("set-tariff")
@click.argument("charge_point_id")
@click.option("--credit-id", type=click.IntRange(1), default=1, show_default=True)
@click.option("--tariff", type=click.IntRange(1), required=True,
              help="Price per kWh in credit units.")
@click.pass_context
def set_tariff(ctx: click.Context, charge_point_id: str, credit_id: int, tariff: int) -> None:
    """Change the price of CHARGE_POINT_ID (changes are spaced by the tariff cooldown)."""
    tx = _transactor(ctx)
    call = tx.client.registry.functions.setTariff(station_id_for(charge_point_id), credit_id,
                                                  tariff)
    _done(f"tariff of {charge_point_id} set to {tariff}", tx.send(call, "setTariff"))


@station.command("rotate-key")
@click.argument("charge_point_id")
@click.option("--signer-keystore", required=True,
              type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="The new station key's keystore: it signs the proof of possession.")
@_SIGNER_PASSPHRASE
@click.pass_context
def rotate_key(ctx: click.Context, charge_point_id: str, signer_keystore: Path,
               signer_passphrase_env: str) -> None:
    """Make the key of --signer-keystore the station's signer; the old one is retired for good."""
    tx = _transactor(ctx)
    sid = station_id_for(charge_point_id)
    new, proof = _proof(tx, signer_keystore, signer_passphrase_env, sid)
    call = tx.client.registry.functions.rotateSigner(sid, new, *proof)
    _done(f"{charge_point_id} now signs with {new}", tx.send(call, "rotateSigner"))


@station.command()
@click.argument("charge_point_id")
@click.option("--credit-id", type=click.IntRange(1), default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def show(ctx: click.Context, charge_point_id: str, credit_id: int, as_json: bool) -> None:
    """What the registry says about CHARGE_POINT_ID."""
    client = _client(ctx.obj["rpc_url"])
    sid = station_id_for(charge_point_id)
    fn = client.registry.functions
    operator, rated, connectors, active, registered, certified, signer, geohash, mult = \
        fn.getStation(sid).call()
    if int(operator, 16) == 0:
        raise ConfigError(f"{charge_point_id} (station id 0x{sid.hex()}) is not registered")
    view = fn.settlementView(sid, credit_id).call()
    current, previous, changed_at, _prev_at = view[5]
    info = {
        "charge_point_id": charge_point_id, "station_id": "0x" + sid.hex(),
        "operator": operator, "signer": signer, "rated_power_w": rated,
        "connectors": connectors, "active": active, "usable": bool(view[3]),
        "registered_at": registered, "certified_meter": bool(certified),
        "geohash": bytes(geohash).rstrip(b"\x00").decode("ascii", "replace"),
        "multiplier_bps": mult, "credit_id": credit_id, "tariff_per_kwh": current,
        "previous_tariff_per_kwh": previous, "tariff_changed_at": changed_at,
        "releasable_at": fn.releasableAt(sid).call(),
    }
    if as_json:
        click.echo(json.dumps(info))
        return
    table = Table(title=f"station {charge_point_id}", show_header=False)
    for key, value in info.items():
        table.add_row(key, str(value))
    show_table(console, table)
