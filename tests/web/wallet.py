"""An injected EIP-1193 wallet for the browser tests: ``window.ethereum`` in the page forwards
every request to Python (Playwright's ``expose_function``), which answers it with anvil, whose
unlocked dev accounts sign. The test controls it as a person controls a wallet: which account it
shares, which chain it is on, whether the person rejects the next signature."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests

INIT_SCRIPT = """
(() => {
  const listeners = {};
  window.ethereum = {
    isWattNetInjectedWallet: true,
    async request({ method, params }) {
      const answer = JSON.parse(await window.__wattnetWallet(method, JSON.stringify(params ?? [])));
      if (answer.error) {
        const err = new Error(answer.error.message);
        err.code = answer.error.code;
        if (answer.error.data !== undefined) err.data = answer.error.data;
        throw err;
      }
      return answer.result;
    },
    on(event, fn) { (listeners[event] ??= []).push(fn); },
    removeListener(event, fn) {
      listeners[event] = (listeners[event] ?? []).filter((f) => f !== fn);
    },
  };
})();
"""
SIGNING = {"eth_sendTransaction", "eth_signTypedData_v4", "personal_sign"}
EIP712_DOMAIN = "0x84b0196e"  # eip712Domain(): ERC-5267, how the app finds a permit's domain


@dataclass
class InjectedWallet:
    rpc_url: str
    account: str
    chain_id: int | None = None  # None: the node's; another number: "on the wrong network"
    reject_signing: bool = False
    # the stablecoin answers as one without EIP-2612 permits (as USDT): its eip712Domain reverts
    no_permit: bool = False
    calls: list[str] = field(default_factory=list)

    def handle(self, method: str, params_json: str) -> str:
        self.calls.append(method)
        params: list[Any] = json.loads(params_json)
        if method in ("eth_requestAccounts", "eth_accounts"):
            return json.dumps({"result": [self.account]})
        if method == "eth_chainId" and self.chain_id is not None:
            return json.dumps({"result": hex(self.chain_id)})
        if method == "wallet_switchEthereumChain":  # the person accepts: the wallet moves
            wanted = int(params[0]["chainId"], 16)
            node = int(self.forward("eth_chainId", [])["result"], 16)
            if wanted != node:
                return json.dumps({"error": {"code": 4902, "message": "Unrecognized chain"}})
            self.chain_id = None
            return json.dumps({"result": None})
        data = str(params[0].get("data") or params[0].get("input") or "") \
            if method == "eth_call" else ""
        if self.no_permit and data.startswith(EIP712_DOMAIN):
            return json.dumps({"error": {"code": 3, "message": "execution reverted"}})
        if method in SIGNING and self.reject_signing:
            return json.dumps({"error": {"code": 4001, "message": "User rejected the request."}})
        if method == "eth_sendTransaction" and params and \
                str(params[0].get("from", "")).lower() != self.account.lower():
            return json.dumps({"error": {"code": 4100, "message": "unknown account"}})
        return json.dumps(self.forward(method, params))

    def forward(self, method: str, params: list[Any]) -> dict[str, Any]:
        reply = requests.post(self.rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": method,
                                                  "params": params}, timeout=30).json()
        return {k: reply[k] for k in ("result", "error") if k in reply}
