"""``wattnet ocpi``: serve WattNet as an OCPI 2.2.1 CPO, issue registration tokens, list
partners (docs/ocpi.md)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from wattnet.cli.output import show

console = Console()
_CONFIG = click.option("--config", "config_path", required=True,
                       type=click.Path(path_type=Path, dir_okay=False),
                       help="ocpi.yaml (see docs/ocpi.md).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def ocpi() -> None:
    """OCPI 2.2.1 CPO: publish stations, tariffs, sessions and CDRs to roaming partners."""


@ocpi.command()
@_CONFIG
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def run(config_path: Path, verbose: bool) -> None:
    """Serve the CPO's OCPI endpoints until SIGTERM."""
    from wattnet.ocpi.config import load_config
    from wattnet.ocpi.service import serve

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = load_config(config_path)
    asyncio.run(serve(cfg, ready=lambda url: console.print(f"OCPI versions at {url}",
                                                          markup=False)))


@ocpi.command("token-a")
@_CONFIG
def token_a(config_path: Path) -> None:
    """Issue a registration token (CREDENTIALS_TOKEN_A) for one new partner; give it to the
    partner with the versions URL, out of band."""
    from wattnet.ocpi.config import load_config
    from wattnet.ocpi.service import open_partners

    cfg = load_config(config_path)
    store, partners = open_partners(cfg)
    try:
        token = partners.issue_token_a()
    finally:
        store.close()
    console.print(f"token A: {token}\nversions: {cfg.versions_url}", markup=False)


@ocpi.command()
@_CONFIG
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def partners(config_path: Path, as_json: bool) -> None:
    """Registered partners: their parties, roles and versions URL."""
    from wattnet.ocpi.config import load_config
    from wattnet.ocpi.service import open_partners

    store, registry = open_partners(load_config(config_path))
    try:
        found = registry.partners()
    finally:
        store.close()
    rows = [{"id": p.id, "parties": sorted(f"{c}*{i}" for c, i in p.parties()),
             "roles": sorted({r["role"] for r in p.roles}), "versions_url": p.versions_url,
             "modules": sorted(p.endpoints)} for p in found]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    table = Table(title=f"{len(rows)} OCPI partners")
    for col in ("id", "parties", "roles", "versions_url", "modules"):
        table.add_column(col)
    for r in rows:
        table.add_row(*(", ".join(v) if isinstance(v, list) else str(v) for v in r.values()))
    show(console, table)
