"""Contract fixtures: accounts named by role, the deployed protocol, and `create_*` factories.

Every factory returns a function so a test states only what matters to it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from eth_utils.crypto import keccak

from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy import (
    DAY,
    WAD,
    DeployConfig,
    Protocol,
    deploy_protocol,
    geohash_bytes8,
    local_config,
)
from wattnet.chain.eip712 import Domain, address_of_private_key, sign_receipt, signed_tuple
from wattnet.chain.evidence import commitment
from wattnet.chain.meters import (
    MeterCertificate,
    binding_signature,
    issue_certificate,
    new_p256_key,
    public_xy,
)
from wattnet.chain.signer_binding import signer_proof
from wattnet.domain import ZERO_ADDRESS, SessionReceipt, station_id_for

USDC = 10**6
DEFAULT_TARIFF = 350_000  # 0.35 USDC per kWh


# ---------------------------------------------------------------- accounts named by role
@pytest.fixture(scope="session")
def governor(accounts: Any) -> Any:
    return accounts[0]


@pytest.fixture(scope="session")
def treasury(accounts: Any) -> Any:
    return accounts[1]


@pytest.fixture(scope="session")
def operator(accounts: Any) -> Any:
    return accounts[2]


@pytest.fixture(scope="session")
def operator2(accounts: Any) -> Any:
    return accounts[3]


@pytest.fixture(scope="session")
def driver(accounts: Any) -> Any:
    return accounts[4]


@pytest.fixture(scope="session")
def driver2(accounts: Any) -> Any:
    return accounts[5]


@pytest.fixture(scope="session")
def oracle(accounts: Any) -> Any:
    return accounts[6]


@pytest.fixture(scope="session")
def attacker(accounts: Any) -> Any:
    return accounts[7]


@pytest.fixture(scope="session")
def guardian(accounts: Any) -> Any:
    return accounts[8]


@pytest.fixture(scope="session")
def referrer(accounts: Any) -> Any:
    return accounts[9]


# ---------------------------------------------------------------- protocol
@pytest.fixture(scope="session")
def config() -> DeployConfig:
    """params/local.yaml in chain units (the unit tests' parameters)."""
    return local_config()


@pytest.fixture(scope="module")
def protocol(project: Any, chain: Any, governor: Any, treasury: Any, oracle: Any, guardian: Any,
             config: DeployConfig) -> Protocol:
    genesis = chain.blocks.head.timestamp
    p = deploy_protocol(project, governor, treasury.address, config, genesis=genesis)
    from wattnet.chain import roles

    p.settlement.grantRole(roles.ORACLE_ROLE, oracle, sender=governor)
    p.credits.grantRole(roles.PAUSER_ROLE, guardian, sender=governor)
    p.staking.grantRole(roles.SLASHER_ROLE, governor, sender=governor)
    p.registry.grantRole(roles.ATTESTER_ROLE, governor, sender=governor)
    p.rewards.grantRole(roles.FINDINGS_ROLE, governor, sender=governor)
    p.registry.setMeterIssuer(*public_xy(METER_ISSUER), True, sender=governor)
    return p


@pytest.fixture(scope="session")
def isolated(chain: Any) -> Any:
    """``with isolated():`` rolls the chain back after its block (hypothesis examples of one
    test start from the same state). Unlike Ape's ``chain.isolate()``, which swallows every
    exception raised inside it (a failed assertion passes silently), it lets them through."""

    @contextlib.contextmanager
    def isolate() -> Iterator[None]:
        snapshot = chain.snapshot()
        try:
            yield
        finally:
            chain.restore(snapshot)  # the clock keeps going: tests read the time they need

    return isolate


# A meter maker's certificate key, admitted by governance in `protocol`.
METER_ISSUER = new_p256_key()


@pytest.fixture(scope="module")
def commit_evidence(staking: Any, chain: Any) -> Any:
    """A watcher commits evidence before proving it (in an earlier block), so that it, and not a
    copier of its transaction, is paid the bounty."""

    def commit(evidence_id: bytes, reporter: Any) -> None:
        staking.commitEvidence(commitment(evidence_id, reporter.address), sender=reporter)
        chain.mine()

    return commit


@pytest.fixture(scope="session")
def meter_issuer() -> Any:
    """The P-256 key of the meter maker governance admitted (signs test certificates)."""
    return METER_ISSUER


@pytest.fixture(scope="module")
def certify(registry: Any, chain: Any) -> Any:
    """Bind a freshly certified meter (test issuer) to a station, with the meter key's proof of
    possession: returns the certificate."""
    serials = iter(range(1, 10**6))

    def certify_(station: Any, *, max_power_w: int | None = None, meter: Any = None,
                 issuer: Any = None) -> MeterCertificate:
        meter = meter or new_p256_key()
        cert = issue_certificate(issuer or METER_ISSUER, meter,
                                 serial=f"SN-{next(serials):06d}", model="WN-TEST-1",
                                 max_power_w=max_power_w or station.rated_power_w)
        bind = binding_signature(meter, chain_id=chain.chain_id, registry=registry.address,
                                 station_id=station.station_id, operator=station.operator.address)
        registry.certifyMeter(station.station_id, cert.as_tuple(), *bind, sender=station.operator)
        return cert

    return certify_


@pytest.fixture(scope="module")
def watt(protocol: Protocol) -> Any:
    return protocol.watt


@pytest.fixture(scope="module")
def staking(protocol: Protocol) -> Any:
    return protocol.staking


@pytest.fixture(scope="module")
def credits(protocol: Protocol) -> Any:
    return protocol.credits


@pytest.fixture(scope="module")
def registry(protocol: Protocol) -> Any:
    return protocol.registry


@pytest.fixture(scope="module")
def rewards(protocol: Protocol) -> Any:
    return protocol.rewards


@pytest.fixture(scope="module")
def settlement(protocol: Protocol) -> Any:
    return protocol.settlement


@pytest.fixture(scope="module")
def usdc(project: Any, governor: Any) -> Any:
    return project.MockStablecoin.deploy("USD Coin", "USDC", 6, sender=governor)


@pytest.fixture(scope="module")
def credit_id(credits: Any, usdc: Any, governor: Any) -> int:
    credits.listCredit(usdc, sender=governor)
    return int(credits.idOfToken(usdc))


@pytest.fixture(scope="module")
def domain(chain: Any, settlement: Any) -> Domain:
    return Domain(chain_id=chain.chain_id, verifying_contract=settlement.address)


# ---------------------------------------------------------------- factories
@dataclass(frozen=True)
class Station:
    station_id: bytes
    key: bytes
    operator: Any
    rated_power_w: int
    tariff: int

    @property
    def signer(self) -> str:
        return address_of_private_key(self.key)


@pytest.fixture(scope="module")
def fund_operator(watt: Any, staking: Any, treasury: Any) -> Any:
    def fund(operator: Any, amount: int = 5_000 * WAD) -> None:
        watt.transfer(operator, amount, sender=treasury)
        watt.approve(staking, amount, sender=operator)
        staking.stake(amount, sender=operator)

    return fund


@pytest.fixture(scope="module")
def prove_signer(registry: Any, chain: Any) -> Any:
    """The signer key's proof of possession `(r, vs)` for a registration or rotation of
    `station_id` sent by `operator` (registerStation / rotateSigner's last two arguments)."""

    def prove(key: bytes, station_id: bytes, operator: Any) -> tuple[bytes, bytes]:
        address = operator if isinstance(operator, str) else operator.address
        return signer_proof(key, chain_id=chain.chain_id, registry=registry.address,
                            station_id=station_id, operator=address)

    return prove


@pytest.fixture(scope="module")
def create_station(registry: Any, credit_id: int, fund_operator: Any, staking: Any,
                   certify: Any, prove_signer: Any) -> Any:
    counter = iter(range(1, 10**6))

    def create(
        operator: Any,
        *,
        cp_id: str | None = None,
        rated_power_w: int = 22_000,
        connectors: int = 2,
        geohash: str = "u33db",
        tariff: int = DEFAULT_TARIFF,
        stake: bool = True,
        key: bytes | None = None,
        certified: bool = True,
    ) -> Station:
        n = next(counter)
        key = key or (n.to_bytes(2, "big") + os.urandom(30))
        cp = cp_id or f"CP-{n:05d}"
        if stake:
            s = staking.stakeOf(operator)
            kw = -(-rated_power_w // 1000)  # the registry bonds kW rounded up
            needed = ((s.bondedStations + 1) * staking.minStakePerStation()
                      + (s.bondedKw + kw) * staking.stakePerKw())
            if s.active < needed:
                fund_operator(operator, needed - s.active)
        station = Station(station_id_for(cp), key, operator, rated_power_w, tariff)
        registry.registerStation(
            (
                station.station_id,
                station.signer,
                rated_power_w,
                connectors,
                geohash_bytes8(geohash),
                f"ipfs://station/{cp}",
                b"",
                [credit_id],
                [tariff],
            ),
            *prove_signer(key, station.station_id, operator),
            sender=operator,
        )
        if certified:
            certify(station)
        return station

    return create


@pytest.fixture(scope="module")
def create_driver(usdc: Any, credits: Any, credit_id: int) -> Any:
    def create(
        driver: Any,
        *,
        credits_amount: int = 100 * USDC,
        per_session_cap: int = 50 * USDC,
        daily_cap: int = 100 * USDC,
        any_station: bool = True,
    ) -> None:
        usdc.mint(driver, credits_amount, sender=driver)
        usdc.approve(credits, credits_amount, sender=driver)
        credits.buy(credit_id, credits_amount, driver, sender=driver)
        if per_session_cap:
            credits.setMandate(credit_id, per_session_cap, daily_cap, sender=driver)
        if any_station:  # the driver's explicit choice; tests of consent scope pass False
            credits.setConsent(credit_id, ZERO_ADDRESS, True, sender=driver)

    return create


@pytest.fixture(scope="module")
def make_receipt(chain: Any, credit_id: int) -> Any:
    sessions = iter(range(1, 10**9))

    def make(station: Station, driver: Any, *, energy_wh: int = 10_000, duration: int = 3_600,
             end: int | None = None, session_id: int | None = None, referrer: str = ZERO_ADDRESS,
             connector_id: int = 1, **overrides: Any) -> SessionReceipt:
        end = end if end is not None else chain.pending_timestamp - 60
        sid = session_id if session_id is not None else next(sessions)
        r = SessionReceipt(
            station_id=station.station_id,
            session_id=sid,
            connector_id=connector_id,
            driver=driver if isinstance(driver, str) else driver.address,
            credit_id=credit_id,
            energy_wh=energy_wh,
            start_time=end - duration,
            end_time=end,
            cost=energy_wh * station.tariff // 1000,
            referrer=referrer,
            # Settlement does not open the commitment (ReadingsProofs does, on challenge); a
            # receipt without one earns no reward weight, so the default commits to something.
            readings=keccak(station.station_id + sid.to_bytes(8, "big") + b"readings"),
        )
        return replace(r, **overrides) if overrides else r

    return make


@pytest.fixture(scope="module")
def sign(domain: Domain) -> Any:
    def sign_(receipt: SessionReceipt, key: bytes, dom: Domain | None = None) -> tuple[object, ...]:
        return signed_tuple(receipt, sign_receipt(key, dom or domain, receipt))

    return sign_


@pytest.fixture
def world(create_station: Any, create_driver: Any, operator: Any, driver: Any, chain: Any) -> Any:
    """One 22 kW station at 0.35 USDC/kWh; a driver with 100 USDC and a 50/100 USDC mandate."""
    station = create_station(operator)
    create_driver(driver)
    chain.pending_timestamp += 2 * 3_600
    return station


@pytest.fixture
def settle(credits: Any) -> Any:
    """Settle ABI SignedReceipt tuples, packed, as the oracle key (``settlePacked``)."""

    def settle_(items: list[tuple[object, ...]], sender: Any) -> Any:
        return credits.settlePacked(pack_tuples(items), sender=sender)

    return settle_


def rejected_reasons(tx: Any, settlement: Any) -> list[int]:
    return [int(log.reason) for log in tx.decode_logs(settlement.ReceiptRejected)]


def day_start(ts: int) -> int:
    return ts - ts % DAY


@pytest.fixture(scope="module")
def hostile(project: Any, governor: Any) -> Any:
    """A USDT-like stablecoin: no bool return, 1% burned on every transfer."""
    return project.MockHostileToken.deploy(100, sender=governor)


@pytest.fixture(scope="module")
def list_credit(credits: Any, governor: Any) -> Any:
    def list_(token: Any) -> int:
        credits.listCredit(token, sender=governor)
        return int(credits.idOfToken(token))

    return list_


@pytest.fixture(scope="module")
def pay_session(settlement: Any, oracle: Any, sign: Any, make_receipt: Any, chain: Any) -> Any:
    """Setup only (settlement itself is tested elsewhere): settle one signed session so that
    the station's operator, the treasury and an optional referrer are owed payouts."""

    def pay(station: Station, driver: Any, **receipt_kw: Any) -> SessionReceipt:
        # Sessions are priced by the tariff in force at their start: start after registration.
        chain.pending_timestamp += receipt_kw.get("duration", 3_600) + 120
        receipt = make_receipt(station, driver, **receipt_kw)
        tx = settlement.settlePacked(pack_tuples([sign(receipt, station.key)]), sender=oracle)
        reasons = [int(log.reason) for log in tx.decode_logs(settlement.ReceiptRejected)]
        assert not reasons, f"setup session rejected: {reasons}"
        return receipt

    return pay


@pytest.fixture(scope="module")
def sign_permit(chain: Any) -> Any:
    """An EIP-2612 permit signed by a test account: returns (v, r, s)."""
    return lambda token, owner, spender, value, deadline: _permit(token, owner, spender, value,
                                                                  deadline, chain.chain_id)


def _permit(token: Any, owner: Any, spender: str, value: int, deadline: int,
            chain_id: int) -> tuple[int, bytes, bytes]:
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    message = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": token.name(), "version": "1", "chainId": chain_id,
                   "verifyingContract": token.address},
        "message": {"owner": owner.address, "spender": spender, "value": value,
                    "nonce": token.nonces(owner), "deadline": deadline},
    }
    signed = Account.sign_message(encode_typed_data(full_message=message), owner.private_key)
    return signed.v, signed.r.to_bytes(32, "big"), signed.s.to_bytes(32, "big")
