"""WalletConnect v2 for the web app (``wattnet app --walletconnect-project-id``): what
``/api/config`` tells the browser. The server relays nothing: the browser talks to the relay
(WalletConnect's public one, or ``relay_url``) and reads the chain from ``rpc_url`` during a
session; the wallet on the other end only signs."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from wattnet.errors import ConfigError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True, slots=True)
class WalletConnect:
    project_id: str
    relay_url: str | None  # None: WalletConnect's public relay
    rpc_url: str


def walletconnect_config(project_id: str | None, relay_url: str | None, rpc_url: str | None,
                         node_url: str) -> WalletConnect | None:
    """The browser's WalletConnect settings, or None without a project id. ``rpc_url`` defaults
    to the server's own node (``node_url``) only when that is on this machine: a remote node's
    URL may carry an API key and is never published unasked."""
    if not project_id:
        if relay_url or rpc_url:
            raise ConfigError("--walletconnect-relay-url/--walletconnect-rpc-url need "
                              "--walletconnect-project-id (from cloud.reown.com)")
        return None
    if relay_url and urlparse(relay_url).scheme not in ("ws", "wss"):
        raise ConfigError(f"--walletconnect-relay-url {relay_url!r} is not a ws:// or wss:// URL")
    if rpc_url is None:
        if urlparse(node_url).hostname not in LOOPBACK:
            raise ConfigError("pass --walletconnect-rpc-url: the JSON-RPC URL browsers read the "
                              "chain from during a WalletConnect session (the server's own "
                              "--rpc-url is not published)")
        rpc_url = node_url
    if urlparse(rpc_url).scheme not in ("http", "https"):
        raise ConfigError(f"--walletconnect-rpc-url {rpc_url!r} is not an http(s) URL")
    return WalletConnect(project_id, relay_url, rpc_url)
