"""``rpc_session`` reads the environment once, and what it read is what requests would have
used per request: proxies (and NO_PROXY), the CA bundle."""

from __future__ import annotations

import pytest
import requests

from wattnet.chain.jsonrpc import rpc_session


def _per_request(url: str) -> dict[str, object]:
    return requests.Session().merge_environment_settings(url, {}, None, None, None)


@pytest.mark.parametrize("url", ["https://rpc.example.org/v1", "http://127.0.0.1:8545"])
def test_rpc_session__settles_the_environment_as_requests_would(
        url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    http = rpc_session(url)
    expected = _per_request(url)
    assert http.trust_env is False  # nothing is read again per request
    assert {k: v for k, v in http.proxies.items() if v} == {
        k: v for k, v in expected["proxies"].items() if v}  # type: ignore[union-attr]
    assert http.verify == expected["verify"] == "/etc/ssl/certs/ca-certificates.crt"
    if "127.0.0.1" in url:
        assert not http.proxies.get("http")  # NO_PROXY kept
    else:
        assert http.proxies["https"] == "http://proxy.example:3128"
