"""Preflight of a deploy's external addresses, before the first transaction is sent.

Every address the deploy takes from its operator is read on the target chain first:

* each stablecoin (``$WATTNET_STABLECOIN_<SYMBOL>``) must have code, answer the ERC-20 views
  ``decimals()`` (equal to the params file's), ``symbol()`` (the params symbol, or one starting
  with it, such as ``USDC.e``) and ``balanceOf(deployer)``, as EnergyCredits will call them;
* the guardian (``$WATTNET_GUARDIAN``) must have code: it is a multisig (a Safe), and an address
  with no code is a typo or a multisig not deployed on this chain;
* the oracle (``$WATTNET_ORACLE_ADDRESS``) must have none: it signs settlement transactions
  (an EIP-7702 delegated account, code ``0xef0100...``, is a key and passes);
* no holder (guardian, oracle, treasury) may be one of the stablecoins or another ERC-20 token
  (a token address pasted into the wrong variable: WATT sent there would be stuck).

:func:`check_external` returns every problem at once; the caller raises them as one line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from eth_abi.abi import decode
from eth_utils.crypto import keccak

from wattnet.params import Stablecoin

DELEGATED_EOA_PREFIX = b"\xef\x01\x00"  # EIP-7702: an account delegating to code is still a key

Call = Callable[[str, bytes], "bytes | None"]  # (address, calldata) -> return data, None: revert
CodeAt = Callable[[str], bytes]


def _sel(signature: str) -> bytes:
    return keccak(text=signature)[:4]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    decimals: int | None
    symbol: str | None
    balance_ok: bool


def token_info(call: Call, address: str, holder: str) -> TokenInfo:
    """The ERC-20 views of ``address`` (None where a view reverts or answers nonsense)."""
    decimals = _uint(call(address, _sel("decimals()")))
    symbol = _text(call(address, _sel("symbol()")))
    raw = call(address, _sel("balanceOf(address)") + bytes(12) + bytes.fromhex(holder[2:]))
    return TokenInfo(decimals if decimals is not None and decimals <= 255 else None, symbol,
                     _uint(raw) is not None)


def _uint(data: bytes | None) -> int | None:
    if data is None or len(data) != 32:
        return None
    return int.from_bytes(data, "big")


def _text(data: bytes | None) -> str | None:
    if not data:
        return None
    try:
        (value,) = decode(["string"], data)
        return str(value)
    except Exception:  # bytes32 symbols (old tokens such as MKR)
        if len(data) == 32:
            return data.rstrip(b"\x00").decode("ascii", "replace") or None
        return None


def _stablecoin_problems(call: Call, code_at: CodeAt, coin: Stablecoin, address: str,
                         deployer: str) -> list[str]:
    var = f"$WATTNET_STABLECOIN_{coin.symbol.upper()}={address}"
    if not code_at(address):
        return [f"{var} has no code on this chain (not a token here: wrong address or network)"]
    info = token_info(call, address, deployer)
    out = []
    if info.decimals is None or info.symbol is None or not info.balance_ok:
        missing = [v for v, ok in (("decimals()", info.decimals is not None),
                                   ("symbol()", info.symbol is not None),
                                   ("balanceOf(address)", info.balance_ok)) if not ok]
        return [f"{var} is not an ERC-20 token (no answer to {', '.join(missing)})"]
    if info.decimals != coin.decimals:
        out.append(f"{var} has {info.decimals} decimals, the params file says {coin.decimals}")
    if not info.symbol.upper().startswith(coin.symbol.upper()):
        out.append(f"{var} is {info.symbol!r}, not {coin.symbol}")
    return out


def check_external(call: Call, code_at: CodeAt, *, deployer: str, guardian: str, oracle: str,
                   treasury: str, stablecoins: Mapping[str, str] | None,
                   coins: tuple[Stablecoin, ...]) -> list[str]:
    """Every problem with the external addresses of a deploy (empty: all fine)."""
    problems: list[str] = []
    if stablecoins is not None:
        for coin in sorted(coins, key=lambda c: c.credit_id):
            if coin.symbol in stablecoins:
                problems += _stablecoin_problems(call, code_at, coin, stablecoins[coin.symbol],
                                                 deployer)
    if not code_at(guardian):
        problems.append(f"$WATTNET_GUARDIAN={guardian} has no code on this chain: the guardian "
                        "is a multisig (a Safe) deployed on this network")
    oracle_code = code_at(oracle)
    if oracle_code and not oracle_code.startswith(DELEGATED_EOA_PREFIX):
        problems.append(f"$WATTNET_ORACLE_ADDRESS={oracle} is a contract: the oracle signs "
                        "settlements and must be a key (an externally owned account)")
    coin_addrs = {a.lower() for a in (stablecoins or {}).values()}
    for var, who in (("GUARDIAN", guardian), ("ORACLE_ADDRESS", oracle),
                     ("TREASURY", treasury)):
        if who.lower() in coin_addrs:
            problems.append(f"$WATTNET_{var}={who} is one of the stablecoins")
        elif var != "ORACLE_ADDRESS" and code_at(who):
            symbol = _text(call(who, _sel("symbol()")))
            if symbol and _uint(call(who, _sel("decimals()"))) is not None:
                problems.append(f"$WATTNET_{var}={who} is the ERC-20 token {symbol!r}, "
                                "not a holder")
    return problems
