"""``wattnet gateway``: run the OCPP edge gateway, and its helpers (password hashes, station keys,
the receipt outbox)."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import click
import yaml
from rich.console import Console
from rich.table import Table

from wattnet.cli.gateway_admin import admin
from wattnet.cli.output import show
from wattnet.errors import ConfigError

console = Console()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def gateway() -> None:
    """Edge gateway: OCPP 1.6-J / 2.0.1 central system for one site; signs session receipts."""


gateway.add_command(admin)


def _credit_source(spec: str | None, credits_file: Path | None, config: Any) -> Any:
    from wattnet.domain import DriverAccount
    from wattnet.gateway.credits import InMemoryCreditSource

    if spec:
        module, _, attr = spec.partition(":")
        try:
            factory = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"--credit-source {spec}: cannot import ({exc})") from exc
        return factory(config)
    source = InMemoryCreditSource()
    if credits_file is None:
        raise ConfigError("give --credit-source module:factory or --credits FILE.yaml")
    try:
        raw = yaml.safe_load(credits_file.read_text()) or {}
        for entry in raw.get("accounts", []):
            tokens = entry.pop("id_tokens", [])
            source.put(DriverAccount(**entry), *tokens)
    except (OSError, yaml.YAMLError, TypeError) as exc:
        raise ConfigError(f"credits file {credits_file}: {exc}") from exc
    return source


@gateway.command()
@click.option("--config", "config_path", required=True,
              type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Gateway YAML config (see docs/gateway.md).")
@click.option("--credit-source", help="Factory module:callable(config) -> CreditSource.")
@click.option("--credits", "credits_file", type=click.Path(path_type=Path, exists=True),
              help="Static credits YAML for a local demo (accounts with id_tokens).")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def run(config_path: Path, credit_source: str | None, credits_file: Path | None,
        verbose: bool) -> None:
    """Serve the site's charge points until SIGTERM."""
    from wattnet.gateway.config import load_config
    from wattnet.gateway.server import Gateway, wait_forever
    from wattnet.gateway.signer import load_signers

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = load_config(config_path)
    source = _credit_source(credit_source, credits_file, cfg)
    signers = load_signers({cp: s.keystore for cp, s in cfg.stations.items()}, cfg.passphrase())
    console.print(f"gateway: {len(cfg.stations)} stations, oracle {cfg.oracle_url}")
    try:
        asyncio.run(wait_forever(Gateway(cfg, source, signers)))
    except KeyboardInterrupt:
        console.print("gateway stopped")


@gateway.command("hash-password")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="The station's Basic Auth password (16-40 characters); prompted if omitted.")
def hash_password_cmd(password: str) -> None:
    """Print the scrypt hash to put in a station's password_hash."""
    from wattnet.gateway.security import hash_password

    click.echo(hash_password(password))


@gateway.command("new-key")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--passphrase-env", default="WATTNET_KEYSTORE_PASSPHRASE", show_default=True,
              help="Environment variable holding the keystore passphrase.")
@click.option("--scrypt-n", type=int, default=2**18, show_default=True, hidden=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def new_key(path: Path, passphrase_env: str, scrypt_n: int, as_json: bool) -> None:
    """Create an encrypted station keystore at PATH; prints the signer address to register."""
    from wattnet.gateway.signer import new_keystore

    passphrase = os.environ.get(passphrase_env)
    if not passphrase:
        raise ConfigError(f"set the keystore passphrase in ${passphrase_env} first")
    address = new_keystore(path, passphrase, scrypt_n=scrypt_n)
    if as_json:
        click.echo(json.dumps({"address": address, "keystore": str(path)}))
    else:
        console.print(f"station signer [bold]{address}[/] written to {path}")


def _outbox_item(row: tuple[bytes, int, str, str, int, str | None]) -> dict[str, Any]:
    """One outbox row for an operator: its state, and exactly what the station key signed."""
    item: dict[str, Any] = {"stationId": "0x" + row[0].hex(), "sessionId": row[1],
                            "state": row[3], "attempts": row[4], "reason": row[5]}
    try:
        body = json.loads(row[2])
    except ValueError:  # never written by the gateway; show it rather than fail the listing
        return item | {"body": row[2]}
    return item | {"receipt": body.get("receipt"), "signature": body.get("signature"),
                   "meterData": body.get("meterData")}


@gateway.command()
@click.option("--config", "config_path", required=True,
              type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def outbox(config_path: Path, as_json: bool) -> None:
    """List the receipt outbox: pending, acknowledged and rejected receipts (with --json: every
    signed receipt field, the signature and the meter data)."""
    from wattnet.gateway.config import load_config
    from wattnet.gateway.store import GatewayStore

    cfg = load_config(config_path)
    store = GatewayStore(cfg.data_dir / "gateway.sqlite3")
    try:
        rows = store.outbox_rows()
    finally:
        store.close()
    items = [_outbox_item(r) for r in rows]
    if as_json:
        click.echo(json.dumps(items))
        return
    table = Table("station", "session", "state", "energy Wh", "cost", "attempts", "reason")
    for it in items:
        receipt = it.get("receipt") or {}
        table.add_row(str(it["stationId"])[:12] + "…", str(it["sessionId"]), str(it["state"]),
                      str(receipt.get("energyWh", "")), str(receipt.get("cost", "")),
                      str(it["attempts"]), str(it["reason"] or ""))
    show(console, table)

