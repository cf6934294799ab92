"""The oracle's chain adapters over plain web3: ``SettlementChain`` (EnergyCredits, which has
settlement built in) and ``StationDirectory`` (StationRegistry).

Config factories (``chain``/``directory`` in oracle.json):
``wattnet.oracle.chain_web3:oracle_chain`` and ``wattnet.oracle.chain_web3:station_directory``.
RPC URL from ``$WATTNET_RPC_URL``, deployment from ``$WATTNET_DEPLOYMENT``; the deployment's
EnergyCredits must be the config's ``settlement_contract``. The transaction key is the encrypted
keystore ``keystore`` with its passphrase in the environment variable
``keystore_passphrase_env``; it must be used by this oracle only (nonces are reused on purpose).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import requests
from eth_abi.abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils.abi import get_abi_output_types
from eth_utils.crypto import keccak

from wattnet.chain.batch_codec import pack_batch
from wattnet.chain.jsonrpc import rpc_batch, rpc_session
from wattnet.chain.tx import load_keystore
from wattnet.chain.web3_client import ChainClient
from wattnet.domain import SignedReceipt, StationInfo, checksummed
from wattnet.errors import ConfigError
from wattnet.oracle.chain import TxStatus, sort_key
from wattnet.oracle.config import OracleConfig
from wattnet.oracle.errors import OracleConfigError, SettlementError, SettlementWouldRevert
from wattnet.oracle.ledger_web3 import Web3CreditLedger
from wattnet.oracle.reverts import RevertCause, cause_of_mined, cause_of_rpc_error, error_table

log = logging.getLogger(__name__)

FILL_GAS = 21_000
# The no-estimate bound (``estimate_gas: false``): measured on fresh state, where every station,
# operator, driver, referrer and bitmap slot is written for the first time (one receipt:
# 236,620 gas; five stations: 735,978, i.e. ~112k fixed + ~125k a receipt), plus ~20 % margin.
# tests/contracts/e2e/test_adapters.py fails when the contracts outgrow it (issue 18).
BASE_GAS = 140_000
GAS_PER_RECEIPT = 150_000
GAS_MARGIN_PCT = 25  # on top of the estimate: state may move between estimate and inclusion
FEE_BUMP_PCT = 25  # a replacement must pay >= 10% more than the tx it replaces (geth, anvil)
MAX_BUMPS = 6
WINDOW_TTL_S = 600.0  # timing() is a governed parameter: read again this often
_IS_SETTLED = keccak(b"isSettled(bytes32,uint64)")[:4]
_REJECTED_TOPIC = keccak(b"ReceiptRejected(bytes32,uint64,uint8)")


def _message(exc: BaseException) -> str:
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], dict):
        return str(args[0].get("message", args[0]))
    return str(exc)


class Web3SettlementChain:
    """``SettlementChain`` over web3 with a local key; EIP-1559 fees when the chain has a base
    fee, legacy gas price otherwise. One oracle process owns the key."""

    def __init__(self, client: ChainClient, account: LocalAccount, *,
                 priority_fee_wei: int | None = None, estimate_gas: bool = True) -> None:
        self.client = client
        self._estimate = estimate_gas
        self.account = account
        self.w3 = client.w3
        self.contract = client.settlement
        self._priority_fee = priority_fee_wei
        self._http = rpc_session(client.rpc_url)
        self._errors = error_table(self.contract.abi)
        self._window: tuple[float, int] | None = None

    # ---- fees and sending ----
    def _fees(self, bump: int) -> dict[str, int]:
        factor = 100 + FEE_BUMP_PCT * bump
        base = self.w3.eth.get_block("latest").get("baseFeePerGas")
        if base is None:
            return {"gasPrice": self.w3.eth.gas_price * factor // 100}
        tip = self._priority_fee if self._priority_fee is not None else int(
            self.w3.eth.max_priority_fee)
        tip = max(tip, 1)
        # Both the cap and the tip rise with each bump: a replacement must raise both by 10%.
        return {"maxPriorityFeePerGas": tip * factor // 100,
                "maxFeePerGas": (2 * int(base) + tip) * factor // 100}

    def _send(self, build: Callable[[dict[str, Any]], dict[str, Any]], nonce: int,
              what: str) -> bytes:
        """Sign and send; a replacement that the node finds underpriced is re-sent with higher
        fees (the tx it replaces may be ours from before a restart, fees unknown)."""
        last: Exception | None = None
        for bump in range(MAX_BUMPS):
            tx = build({"from": self.account.address, "nonce": nonce,
                        "chainId": self.client.deployment.chain_id, **self._fees(bump)})
            signed = self.account.sign_transaction(tx)
            try:
                return bytes(self.w3.eth.send_raw_transaction(signed.raw_transaction))
            except Exception as exc:  # the node's JSON-RPC error, as web3 raises it
                text = _message(exc).lower()
                if "already known" in text or "already imported" in text:
                    return bytes(signed.hash)
                if "underpriced" in text or "fee too low" in text:
                    last = exc
                    continue
                raise SettlementError(f"{what} with nonce {nonce} refused: {_message(exc)}"
                                      ) from exc
        raise SettlementError(f"{what} with nonce {nonce} still underpriced after {MAX_BUMPS} "
                              f"fee bumps: {last}")

    # ---- SettlementChain ----
    def next_nonce(self) -> int:
        return int(self.w3.eth.get_transaction_count(self.account.address, "latest"))

    def submit(self, batch: list[SignedReceipt], nonce: int, *, min_gas: int = 0,
               estimate: bool = False) -> bytes:
        if sorted(batch, key=sort_key) != batch:
            raise SettlementError("a batch needs receipts sorted by (stationId, sessionId)")
        to, data = self._settle_call(pack_batch((s.receipt, s.signature) for s in batch))
        gas = max(BASE_GAS + self.extra_gas + GAS_PER_RECEIPT * len(batch), min_gas)
        if self._estimate or estimate:
            # The estimate follows the path the state takes now; a receipt judged cheaply (say,
            # rejected) at estimate time may take the full path when mined: keep the bound.
            gas = max(gas, self._estimate_gas(to, data, len(batch))
                      * (100 + GAS_MARGIN_PCT) // 100)

        def build(params: dict[str, Any]) -> dict[str, Any]:
            return {**params, "to": to, "data": data, "value": 0, "gas": gas}

        return self._send(build, nonce, f"settlePacked({len(batch)})")

    extra_gas = 0  # on top of the no-estimate bound (the committee's signature checks)

    def _settle_call(self, packed: bytes) -> tuple[str, str]:
        """(to, calldata) of the transaction that settles ``packed``."""
        return str(self.contract.address), self.contract.encode_abi("settlePacked", [packed])

    def _estimate_gas(self, to: str, data: str, n: int) -> int:
        """eth_estimateGas against the pending block (receipts ending now are judged as when
        mined); a revert raises SettlementWouldRevert with its decoded cause."""
        call = {"from": self.account.address, "to": to, "data": data}
        answer = self._rpc_answer("eth_estimateGas", [call, "pending"])
        if "error" in answer:
            error = answer["error"]
            cause = cause_of_rpc_error(error, self._errors) if isinstance(error, Mapping) else None
            if cause is None:
                raise SettlementError(f"gas estimate of settlePacked({n}) failed: {error}")
            raise SettlementWouldRevert(f"settlePacked({n}) would fail: {cause}", cause)
        return int(str(answer["result"]), 16)

    def fill_nonce(self, nonce: int) -> bytes:
        def build(params: dict[str, Any]) -> dict[str, Any]:
            return {**params, "to": self.account.address, "value": 0, "gas": FILL_GAS}

        return self._send(build, nonce, "nonce filler")

    def tx_status(self, tx_hash: bytes) -> TxStatus:
        """Raw JSON-RPC (web3 formats every log of a settlement's receipt: a node asks this
        at every batcher step while its batch is in flight)."""
        h = "0x" + tx_hash.hex()
        receipt, head = self._rpc_batch([("eth_getTransactionReceipt", [h]),
                                         ("eth_blockNumber", [])])
        if isinstance(receipt, Mapping) and receipt.get("blockNumber") is not None:
            block = int(str(receipt["blockNumber"]), 16)
            return TxStatus(True, True, int(str(receipt["status"]), 16) == 1, block,
                            max(int(str(head), 16) - block + 1, 0))
        [tx] = self._rpc_batch([("eth_getTransactionByHash", [h])])
        return TxStatus(tx is not None, False, False, None, 0)

    def is_settled(self, station_id: bytes, session_id: int) -> bool:
        return bool(self.contract.functions.isSettled(station_id, session_id).call())

    def _rpc_answer(self, method: str, params: list[Any]) -> dict[str, Any]:
        """One raw JSON-RPC answer, ``error`` included (a revert is an answer, not a failure)."""
        try:
            answer = self._http.post(self.client.rpc_url, json={
                "jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=60).json()
        except (requests.RequestException, ValueError) as exc:
            raise SettlementError(f"{method}: the node did not answer: {exc}") from exc
        if not isinstance(answer, dict) or not ("result" in answer or "error" in answer):
            raise SettlementError(f"{method}: unexpected answer {answer!r}")
        return answer

    def revert_cause(self, tx_hash: bytes) -> RevertCause:
        """From the mined receipt (all gas used: out of gas) and a replay of the tx with
        ``eth_call`` on the state before its block, decoded against EnergyCredits' errors."""
        h = "0x" + tx_hash.hex()
        tx, receipt = self._rpc_batch([("eth_getTransactionByHash", [h]),
                                       ("eth_getTransactionReceipt", [h])])
        if not tx or not receipt:
            raise SettlementError(f"tx {h} is not mined; no revert to explain")
        call = {k: tx[k] for k in ("from", "to", "gas", "value")} | {"data": tx["input"]}
        before = hex(int(receipt["blockNumber"], 16) - 1)
        replay = self._rpc_answer("eth_call", [call, before]).get("error")
        return cause_of_mined(int(receipt["gasUsed"], 16), int(tx["gas"], 16),
                              replay if isinstance(replay, Mapping) else None, self._errors)

    def chain_time(self) -> int:
        block = self._rpc_batch([("eth_getBlockByNumber", ["latest", False])])[0]
        return int(block["timestamp"], 16)

    def settlement_window(self) -> int | None:
        now = time.monotonic()
        if self._window is None or now - self._window[0] >= WINDOW_TTL_S:
            self._window = (now, int(self.contract.functions.timing().call()[1]))
        return self._window[1]

    def _rpc_batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Raw JSON-RPC (a batch in one request): web3's formatting of a 1,500-receipt batch's
        answers and logs cost seconds of the oracle's one busy thread."""
        return rpc_batch(self._http, self.client.rpc_url, calls, error=SettlementError)

    def settled_many(self, keys: list[tuple[bytes, int]]) -> list[bool]:
        """``is_settled`` for many sessions, 500 calls per JSON-RPC batch request."""
        to = str(self.contract.address)
        out: list[bool] = []
        for lo in range(0, len(keys), 500):
            calls = [("eth_call", [{"to": to, "data": "0x" + (_IS_SETTLED + bytes(sid).rjust(
                32, b"\0") + n.to_bytes(32, "big")).hex()}, "latest"])
                for sid, n in keys[lo:lo + 500]]
            out += [int(str(r), 16) != 0 for r in self._rpc_batch(calls)]
        return out

    def rejected_in_tx(self, tx_hash: bytes) -> list[tuple[bytes, int, int]]:
        [receipt] = self._rpc_batch([("eth_getTransactionReceipt", ["0x" + tx_hash.hex()])])
        out = []
        me = str(self.contract.address).lower()
        for log_ in (receipt or {}).get("logs", []):
            topics = log_.get("topics", [])
            if str(log_.get("address", "")).lower() != me or len(topics) != 3 or \
                    bytes.fromhex(topics[0][2:]) != _REJECTED_TOPIC:
                continue
            out.append((bytes.fromhex(topics[1][2:]), int(topics[2], 16),
                        int(log_["data"], 16)))
        return out

    def credit_ledger(self) -> Web3CreditLedger:
        """The drivers' credits as settlement sees them (start notices, batch order)."""
        return Web3CreditLedger(self.client, self._http)

    def head_block(self) -> int:
        return int(self.w3.eth.block_number)


class RegistryStationDirectory:
    """``StationDirectory`` over StationRegistry.getStation and meterPublicKey."""

    def __init__(self, client: ChainClient) -> None:
        self.registry = client.registry
        self._url = client.rpc_url
        self._http = rpc_session(client.rpc_url)
        self._types = {name: get_abi_output_types(
            self.registry.get_function_by_name(name).abi)
            for name in ("getStation", "meterPublicKey")}
        # Both take one bytes32: the calldata is the selector and the id (web3's encoder cost
        # ~0.1 ms a call; a node reads every station again when its cache entry expires).
        self._selectors = {name: self.registry.encode_abi(name, [bytes(32)])[:10]
                           for name in ("getStation", "meterPublicKey")}

    def station(self, station_id: bytes) -> StationInfo | None:
        return self.stations([station_id])[station_id]

    def stations(self, station_ids: list[bytes]) -> dict[bytes, StationInfo | None]:
        """Many stations in one JSON-RPC batch request (two calls each): the cache's misses
        of a whole ingest round cost one round trip, not two per station."""
        to = str(self.registry.address)
        if any(len(sid) != 32 for sid in station_ids):
            raise ValueError("a station id is 32 bytes")
        calls = [("eth_call", [{"to": to, "data": self._selectors[name] + sid.hex()}, "latest"])
                 for sid in station_ids for name in ("getStation", "meterPublicKey")]
        answers = rpc_batch(self._http, self._url, calls, timeout_s=30.0)
        out: dict[bytes, StationInfo | None] = {}
        for i, sid in enumerate(station_ids):
            (s,) = abi_decode(self._types["getStation"], _hex(answers[2 * i]))
            (meter,) = abi_decode(self._types["meterPublicKey"], _hex(answers[2 * i + 1]))
            out[sid] = _station_info(sid, s, bytes(meter))
        return out


def _hex(raw: Any) -> bytes:
    return bytes.fromhex(str(raw).removeprefix("0x"))


def _station_info(station_id: bytes, s: Any, meter: bytes) -> StationInfo | None:
    operator, rated, connectors, active, _registered, _certified, signer, geohash, _mult = s
    if int(operator, 16) == 0:
        return None
    return StationInfo(
        station_id=station_id, operator=checksummed(operator),
        signer=checksummed(signer), rated_power_w=int(rated),
        connector_count=int(connectors), active=bool(active),
        geohash=bytes(geohash).rstrip(b"\x00").decode("ascii", "replace"),
        meter_public_key=meter or None,
    )


# ---------------------------------------------------------------- config factories
def load_account(config: OracleConfig) -> LocalAccount:
    """The oracle's transaction key from its encrypted keystore."""
    if not config.keystore:
        raise OracleConfigError("the web3 chain adapter needs `keystore` (the oracle's key)")
    try:
        return load_keystore(Path(config.keystore), config.keystore_passphrase_env)
    except ConfigError as exc:
        raise OracleConfigError(f"oracle key: {exc}") from exc


def client_for(config: OracleConfig) -> ChainClient:
    client = ChainClient.from_env()
    client.check(config.chain_id, config.settlement_contract)
    return client


def oracle_chain(config: OracleConfig) -> Web3SettlementChain:
    """Factory for ``chain``: the deployment's EnergyCredits, signed with the oracle key."""
    return Web3SettlementChain(client_for(config), load_account(config),
                               estimate_gas=config.estimate_gas)


def station_directory(config: OracleConfig) -> RegistryStationDirectory:
    """Factory for ``directory``: the deployment's StationRegistry."""
    return RegistryStationDirectory(client_for(config))
