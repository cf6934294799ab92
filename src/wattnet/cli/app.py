"""``wattnet app``: serve the web app (app/dist, built by `make app`) and its read API.

    wattnet app --deployment deployments/ethereum/local.json --rpc-url http://127.0.0.1:8545
    wattnet app --oracle-db oracle.sqlite      also serve drivers' sessions from the oracle store
                                               (and keep the event index beside its tables)
    wattnet app --index-db index.sqlite        where the event index lives (default: the oracle
                                               store, else a temporary SQLite file)
    wattnet app --local                        try it: our own anvil, the protocol deployed, two
                                               stations, a driver holding test USDC
    wattnet app --gateway http://site:8690=CP-1,CP-2   relay drivers' signed remote starts for
                                               these charge points to that gateway's app port
    wattnet app --gateway-admin http://site:8691   show each connector's live status, polled
                                               from that gateway's admin API (its token in
                                               $WATTNET_GATEWAY_ADMIN_TOKEN, or URL=VAR)
    wattnet app --tile-url 'https://tile.example.org/{z}/{x}/{y}.png' --tile-attribution TEXT
                                               map tiles (default: the bundled outline map,
                                               nothing fetched from elsewhere)
    wattnet app --walletconnect-project-id ID  offer WalletConnect v2 beside the injected wallet

Prints the URL to open. The server holds no key: users sign with their own wallet.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from wattnet.api.availability import Availability
from wattnet.api.chain_reads import ChainReads
from wattnet.api.charge import ChargeDoors
from wattnet.api.server import make_app, serve
from wattnet.api.tiles import Tiles
from wattnet.api.walletconnect import walletconnect_config
from wattnet.chain.deployments import load_deployment, load_deployment_file, project_root
from wattnet.chain.web3_client import ChainClient
from wattnet.cli.index import default_confirmations
from wattnet.indexer.follow import Indexer, follow

console = Console()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--deployment", "deployment_path", type=click.Path(path_type=Path, dir_okay=False),
              help="Deployment record (default: $WATTNET_DEPLOYMENT).")
@click.option("--rpc-url", help="The chain's JSON-RPC URL (default: $WATTNET_RPC_URL or "
              "http://127.0.0.1:8545).")
@click.option("--oracle-db", help="The oracle's store (SQLite path or postgresql:// DSN) for "
              "drivers' sessions.")
@click.option("--index-db", help="The event index's store (SQLite path or postgresql:// DSN; "
              "default: the --oracle-db store, else a temporary SQLite file).")
@click.option("--confirmations", type=click.IntRange(min=0),
              help="Blocks the index keeps back from the head (default: 0 on anvil, else 12).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address.")
@click.option("--port", default=8680, show_default=True, type=int, help="Listen port.")
@click.option("--local", is_flag=True, help="Start a local network to try the app on (anvil, "
              "the deployed protocol, two stations, a funded driver; stopped on exit).")
@click.option("--dist", type=click.Path(path_type=Path, file_okay=False),
              help="The built app (default: app/dist in the project).")
@click.option("--gateway", "gateways", multiple=True, metavar="URL=CP1,CP2",
              help="A gateway's app front door (its app_port) and the charge points it hosts: "
              "drivers' signed remote starts for them are relayed there. Repeatable.")
@click.option("--gateway-admin", "admins", multiple=True, metavar="URL[=TOKEN_ENV]",
              help="A gateway's admin API: its connectors' live status is polled from it (the "
              "token in $WATTNET_GATEWAY_ADMIN_TOKEN, or the variable named). Repeatable.")
@click.option("--status-poll-s", default=5.0, show_default=True,
              type=click.FloatRange(0.2, 3600), help="Seconds between two status polls.")
@click.option("--tile-url", metavar="TEMPLATE", help="Map tiles the browser loads, a URL with "
              "{z}, {x} and {y} (default: none; the app draws its bundled outline map).")
@click.option("--tile-attribution", metavar="TEXT", help="The tiles' attribution, as their "
              "terms ask (default: the tile server's host).")
@click.option("--walletconnect-project-id", "wc_project", metavar="ID",
              help="Offer WalletConnect v2 (a WalletConnect/Reown Cloud project id).")
@click.option("--walletconnect-relay-url", "wc_relay", metavar="WSS_URL",
              help="The WalletConnect relay (default: WalletConnect's public relay).")
@click.option("--walletconnect-rpc-url", "wc_rpc", metavar="URL",
              help="The JSON-RPC URL browsers read the chain from during a WalletConnect "
              "session (default: --rpc-url when it is on this machine).")
def app(deployment_path: Path | None, rpc_url: str | None, oracle_db: str | None,
        index_db: str | None, confirmations: int | None, host: str, port: int, local: bool,
        dist: Path | None, gateways: tuple[str, ...], admins: tuple[str, ...],
        status_poll_s: float, tile_url: str | None, tile_attribution: str | None,
        wc_project: str | None, wc_relay: str | None, wc_rpc: str | None) -> None:
    """Serve the WattNet web app and its read API; prints the URL to open."""
    logging.basicConfig(level=logging.WARNING)
    dist = dist or project_root() / "app" / "dist"
    live = Availability.parse(admins, status_poll_s)  # before any node: a missing token
    tiles = Tiles.parse(tile_url, tile_attribution) if tile_url else None
    with ExitStack() as stack:
        if local:
            if deployment_path or rpc_url:
                raise click.UsageError("--local starts its own chain: drop --deployment/--rpc-url")
            rpc_url, deployment_path = _local_network(stack)
        deployment = (load_deployment_file(deployment_path) if deployment_path
                      else load_deployment())
        client = ChainClient.from_env(rpc_url, deployment)
        walletconnect = walletconnect_config(wc_project, wc_relay, wc_rpc, client.rpc_url)
        client.check()
        store = None
        if oracle_db:
            from wattnet.oracle.store import open_store

            store = open_store(oracle_db)
            stack.callback(store.close)
        doors = ChargeDoors.parse(gateways) if gateways else None
        indexer = _indexer(stack, client, index_db or oracle_db, confirmations)
        web_app = make_app(ChainReads(client, indexer), dist, store, doors, live=live,
                           tiles=tiles, walletconnect=walletconnect)
        asyncio.run(serve(web_app, host, port,
                          lambda url: console.print(f"WattNet app: {url}", highlight=False),
                          _beside(indexer)))


def serve_on(rpc_url: str, deployment_path: Path, oracle_db: str | None, port: int = 8680,
             host: str = "127.0.0.1", dist: Path | None = None,
             doors: dict[str, list[str]] | None = None,
             alongside: Callable[[], Coroutine[Any, Any, None]] | None = None,
             admins: Sequence[str] = (), admin_token: str | None = None) -> None:
    """Serve the app on a running network until SIGINT/SIGTERM (``wattnet sim network
    --serve-app`` calls it once every session settled, with its gateways' front doors, their
    admin APIs for live status (``admins``, their token ``admin_token``) and its chargers on
    call, ``alongside``, in the same event loop)."""
    from wattnet.ocpi.gateways import GatewayEndpoint
    from wattnet.oracle.store import open_store

    live = None
    if admins and admin_token:
        endpoints = [GatewayEndpoint(url) for url in admins]
        os.environ[endpoints[0].token_env] = admin_token  # the run's own gateways' token
        live = Availability(endpoints, every_s=2.0)
    client = ChainClient.from_env(rpc_url, load_deployment_file(deployment_path))
    client.check()
    with ExitStack() as stack:
        store = open_store(oracle_db) if oracle_db else None
        if store is not None:
            stack.callback(store.close)
        indexer = _indexer(stack, client, oracle_db, None)
        web_app = make_app(ChainReads(client, indexer), dist or project_root() / "app" / "dist",
                           store, ChargeDoors.from_sites(doors) if doors else None, live=live)
        asyncio.run(serve(web_app, host, port, lambda url: console.print(
            f"WattNet app on the network: {url} (Ctrl-C to stop the network)", highlight=False),
            _beside(indexer, alongside)))


def _indexer(stack: ExitStack, client: ChainClient, database: str | None,
             confirmations: int | None) -> Indexer:
    """The event index the read API answers from, in its own store connection (the oracle's
    store when named, else a temporary SQLite file removed on exit)."""
    from wattnet.oracle.store import open_store

    if database is None:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wattnet-index-")))
        database = str(work / "index.sqlite")
    store = open_store(database)
    stack.callback(store.close)
    depth = default_confirmations(client.deployment.chain_id) if confirmations is None \
        else confirmations
    return Indexer(client, store, confirmations=depth)


def _beside(indexer: Indexer, other: Callable[[], Coroutine[Any, Any, None]] | None = None
            ) -> Callable[[], Coroutine[Any, Any, None]]:
    """Follow new blocks into the index (and run ``other``) beside the server."""
    async def run() -> None:
        await asyncio.gather(follow(indexer), *([other()] if other is not None else []))
    return run


def _local_network(stack: ExitStack) -> tuple[str, Path]:
    from wattnet.api.devnet import DRIVER, start_network

    work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="wattnet-app-")))
    with console.status("starting anvil and deploying the protocol (about a minute)"):
        anvil, net = start_network(work)
    stack.callback(anvil.stop)
    console.print(f"local network: {net.rpc_url} (chain id {net.deployment.chain_id}); the "
                  f"driver {DRIVER} is anvil's dev account 4 (its key is in `anvil`'s "
                  "start-up list): import it into your wallet to buy credits", highlight=False)
    return net.rpc_url, net.deployment_file
