"""``wattnet index``: the event indexer on its own (``wattnet app`` runs it in the background).

    wattnet index run --deployment deployments/ethereum/sepolia.json --rpc-url URL --db DSN
    wattnet index run --db oracle.sqlite --once        index what is confirmed, then exit

The index's tables go beside the oracle's in the same store (SQLite path or postgresql://
DSN), created on first use; it resumes from its cursor.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click
from rich.console import Console

from wattnet.aio import stop_on_signals
from wattnet.chain.deployments import load_deployment, load_deployment_file
from wattnet.chain.web3_client import ChainClient
from wattnet.indexer.follow import MAX_RANGE, Indexer, follow

console = Console()
LOCAL_CHAIN_ID = 31337


def default_confirmations(chain_id: int) -> int:
    """Blocks kept back from the head: none on anvil (no reorgs), 12 elsewhere."""
    return 0 if chain_id == LOCAL_CHAIN_ID else 12


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def index() -> None:
    """The event indexer: contract logs into the oracle's store, for the app's read API."""


@index.command()
@click.option("--deployment", "deployment_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Deployment record (default: $WATTNET_DEPLOYMENT).")
@click.option("--rpc-url", help="The chain's JSON-RPC URL (default: $WATTNET_RPC_URL).")
@click.option("--db", "database", required=True,
              help="The store: a SQLite path or a postgresql:// DSN (the oracle's may be used).")
@click.option("--confirmations", type=click.IntRange(min=0),
              help="Blocks kept back from the head (default: 0 on anvil, 12 elsewhere).")
@click.option("--max-range", default=MAX_RANGE, show_default=True, type=click.IntRange(min=1),
              help="Blocks per eth_getLogs request.")
@click.option("--interval", default=2.0, show_default=True, type=float,
              help="Seconds between polls for new blocks.")
@click.option("--once", is_flag=True, help="Index what is confirmed now, then exit.")
def run(deployment_path: Path | None, rpc_url: str | None, database: str,
        confirmations: int | None, max_range: int, interval: float, once: bool) -> None:
    """Follow the deployed contracts' logs into the store (until Ctrl-C, or --once)."""
    from wattnet.oracle.store import open_store

    logging.basicConfig(level=logging.WARNING)
    deployment = load_deployment_file(deployment_path) if deployment_path else load_deployment()
    client = ChainClient.from_env(rpc_url, deployment)
    client.check()
    store = open_store(database)
    try:
        depth = default_confirmations(deployment.chain_id) if confirmations is None \
            else confirmations
        indexer = Indexer(client, store, confirmations=depth, max_range=max_range)
        if once:
            console.print(f"indexed to block {indexer.step()}", highlight=False)
            return
        console.print(f"indexing {deployment.ecosystem}:{deployment.network} into "
                      f"{store.description} ({depth} confirmations; Ctrl-C to stop)",
                      highlight=False)
        asyncio.run(_until_stopped(indexer, interval))
        console.print(f"stopped at block {indexer.cursor()}", highlight=False)
    finally:
        store.close()


async def _until_stopped(indexer: Indexer, interval: float) -> None:
    stop = stop_on_signals()
    task = asyncio.create_task(follow(indexer, interval))
    await stop.wait()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
