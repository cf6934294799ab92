"""``wattnet oracle``: run the settlement oracle, show its status, list what it quarantined."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from wattnet.cli.output import show
from wattnet.errors import WattNetError

console = Console()
_DB_HELP = "SQLite path or postgresql:// DSN (default: the config's database)."


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def oracle() -> None:
    """Settlement oracle: verify, store and settle signed session receipts."""


@oracle.command()
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False),
              help="JSON config file (see docs/oracle.md).")
@click.option("--database", help=_DB_HELP)
@click.option("--pg-schema", help="PostgreSQL schema for the oracle's tables.")
@click.option("--host", help="Listen address (default 127.0.0.1).")
@click.option("--port", type=int, help="Listen port (default 8650).")
@click.option("--chain", help="Settlement chain factory: module:callable, or fake:<file>.")
@click.option("--directory", help="Station directory factory: module:callable, or json:<file>.")
@click.option("--chain-id", type=int, help="EIP-712 chain id.")
@click.option("--settlement-contract", help="EIP-712 verifying contract address.")
@click.option("--confirmations", type=int, help="Blocks before a settlement counts (default 3).")
@click.option("--batch-size", type=int, help="Settle when this many receipts are pending.")
@click.option("--batch-age", type=float, help="...or when the oldest waited this many seconds.")
@click.option("--poll", type=float, help="Batcher poll interval in seconds.")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def run(config_path: Path | None, verbose: bool, confirmations: int | None,
        batch_size: int | None, batch_age: float | None, poll: float | None,
        **overrides: Any) -> None:
    """Serve the receipt API and settle batches until SIGTERM."""
    from dataclasses import replace

    from wattnet.oracle.config import load_config
    from wattnet.oracle.service import OracleService

    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = load_config(config_path, **overrides)
    batcher: dict[str, Any] = {"confirmations": confirmations, "max_batch": batch_size,
                               "min_batch": batch_size, "max_age_s": batch_age,
                               "poll_interval_s": poll}
    batcher = {k: v for k, v in batcher.items() if v is not None}
    if batcher:
        if "min_batch" in batcher and batch_size is not None:
            batcher["max_batch"] = max(batch_size, cfg.batcher.max_batch)
        cfg = replace(cfg, batcher=replace(cfg.batcher, **batcher))
    service = OracleService(cfg)
    service.serve(ready=lambda url: console.print(f"oracle listening on {url}", markup=False))


def _open(database: str | None, pg_schema: str | None) -> Any:
    from wattnet.oracle.store import open_store

    if not database:
        raise click.UsageError("give --database (SQLite path or postgresql:// DSN)")
    return open_store(database, pg_schema)


@oracle.command()
@click.option("--database", help=_DB_HELP)
@click.option("--pg-schema", help="PostgreSQL schema for the oracle's tables.")
@click.option("--metrics-url", help="Read a running oracle's /metrics instead of the database.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def status(database: str | None, pg_schema: str | None, metrics_url: str | None,
           as_json: bool) -> None:
    """Receipts by state (from the database) or the live counters (from /metrics); warns
    about acknowledged receipts that were lost (expired, quarantined after reverts, or held
    for a session of the driver the oracle learned of earlier)."""
    from wattnet.oracle.losses import EXPIRED, HELD, KINDS, METRIC_OF, REVERTED, losses, warnings
    from wattnet.oracle.metrics import parse_text

    if metrics_url:
        try:
            with urllib.request.urlopen(metrics_url, timeout=10) as resp:
                values: dict[str, float | int] = dict(parse_text(resp.read().decode()))
        except (urllib.error.URLError, OSError) as exc:
            raise WattNetError(f"cannot read {metrics_url}: {exc}") from exc
        source = metrics_url
        lost = {kind: values.get(f"wattnet_oracle_{METRIC_OF[kind]}_total", 0)
                for kind in KINDS}
    else:
        store = _open(database, pg_schema)
        try:
            values = dict(store.counts())
            lost = dict(losses(store))
            values.update({EXPIRED: lost[EXPIRED], "reverts_quarantined": lost[REVERTED],
                           "held_for_earlier_sessions": lost[HELD]})
            source = store.description
        finally:
            store.close()
    warned = warnings(lost)
    if as_json:
        click.echo(json.dumps({"source": source, "values": values, "warnings": warned},
                              sort_keys=True))
        return
    table = Table(title=f"oracle status: {source}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in values.items():
        table.add_row(name, f"{value:g}" if isinstance(value, float) else str(value))
    show(console, table)
    for line in warned:
        console.print(f"[yellow]warning:[/yellow] {line}", highlight=False)


@oracle.command()
@click.option("--database", help=_DB_HELP)
@click.option("--pg-schema", help="PostgreSQL schema for the oracle's tables.")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def quarantine(database: str | None, pg_schema: str | None, limit: int, as_json: bool) -> None:
    """Quarantined receipts, equivocation evidence and rejected payloads, newest first."""
    store = _open(database, pg_schema)
    try:
        entries = store.quarantine(limit)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps([asdict(e) for e in entries]))
        return
    table = Table(title=f"quarantine ({len(entries)} newest)")
    for col in ("kind", "station", "session", "received", "reason"):
        table.add_column(col, overflow="fold")
    for e in entries:
        table.add_row(e.kind, e.station_id[:18] + ("…" if e.station_id else ""),
                      "" if e.session_id is None else str(e.session_id), str(e.received_at),
                      e.reason)
    show(console, table)
