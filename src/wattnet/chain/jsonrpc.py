"""JSON-RPC batches over plain HTTP: many calls in one request, answers matched by id. For hot
paths (settlement checks, credit rooms, the simulator's polling) where web3's per-call
formatting costs more than the node's answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import requests

from wattnet.errors import ChainError


def rpc_session(url: str) -> requests.Session:
    """A keep-alive session for the node at ``url``, its environment settings (proxies, CA
    bundle, client certificate, netrc credentials) read once here: requests reads them again
    for every request otherwise, which cost about as much Python as the rest of a localhost
    ``eth_call`` (the gateways' credit lookups, the nodes' registry and ledger reads)."""
    http = requests.Session()
    settings = http.merge_environment_settings(url, {}, None, None, None)
    http.proxies.update(settings["proxies"])
    http.verify, http.cert = settings["verify"], settings["cert"]
    auth = requests.utils.get_netrc_auth(url)
    if auth:
        http.auth = auth
    http.trust_env = False
    return http


def rpc_batch(http: requests.Session, url: str, calls: Sequence[tuple[str, list[Any]]], *,
              timeout_s: float = 60.0, error: type[ChainError] = ChainError) -> list[Any]:
    """Each call's ``result``, in order; ``error`` (a ChainError) names the first that failed,
    or says that the node did not answer."""
    if not calls:
        return []
    body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
            for i, (m, p) in enumerate(calls)]
    try:
        answers = http.post(url, json=body, timeout=timeout_s).json()
    except (requests.RequestException, ValueError) as exc:
        raise error(f"the node at {url} did not answer: {exc}") from exc
    if not isinstance(answers, list):
        raise error(f"the node at {url} refused a batch request: {answers}")
    by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
    out = []
    for i, (method, _) in enumerate(calls):
        a = by_id.get(i, {})
        if "error" in a or "result" not in a:
            detail = a.get("error", a)
            message = detail.get("message", detail) if isinstance(detail, dict) else detail
            raise error(f"{method} failed on {url}: {message}")
        out.append(a["result"])
    return out
