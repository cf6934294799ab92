"""OCPP security profiles 1-3: Basic Auth passwords (stored hashed), TLS, client certificates.

Every refusal happens in the WebSocket handshake, before any OCPP message is read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import ssl
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from wattnet.gateway.config import StationConfig, TlsConfig
from wattnet.gateway.errors import GatewayConfigError

log = logging.getLogger(__name__)

_SCRYPT_N = 2**15
_SCRYPT_R = 8
_SCRYPT_P = 1


def hash_password(password: str, *, n: int = _SCRYPT_N, salt: bytes | None = None) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64), the form the config's ``password_hash`` holds."""
    if not 16 <= len(password) <= 40:
        # OCPP security whitepaper: the AuthorizationKey is 16 to 40 bytes (2.0.1: up to 40).
        raise GatewayConfigError("an OCPP Basic Auth password must be 16 to 40 characters long")
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=_SCRYPT_R, p=_SCRYPT_P, maxmem=2**27
    )
    b64 = base64.b64encode
    return f"scrypt${n}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, hash_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
        digest = hashlib.scrypt(
            password.encode(), salt=salt, n=int(n), r=int(r), p=int(p), maxmem=2**27
        )
    except (ValueError, binascii.Error):
        log.error("stored password hash is malformed; refusing")
        return False
    return hmac.compare_digest(digest, expected)


class Refusal(StrEnum):
    NO_STATION = "unknown charge point id"
    NO_SUBPROTOCOL = "no supported OCPP subprotocol offered"
    NO_AUTH = "missing Basic Auth"
    BAD_AUTH = "wrong Basic Auth"
    USER_MISMATCH = "Basic Auth user name is not the charge point id"
    DOWNGRADE = "security profile downgrade"
    BAD_CERT = "client certificate missing or not for this charge point"


REFUSAL_STATUS = {
    Refusal.NO_STATION: HTTPStatus.NOT_FOUND,
    Refusal.NO_SUBPROTOCOL: HTTPStatus.BAD_REQUEST,
    Refusal.NO_AUTH: HTTPStatus.UNAUTHORIZED,
    Refusal.BAD_AUTH: HTTPStatus.UNAUTHORIZED,
    Refusal.USER_MISMATCH: HTTPStatus.UNAUTHORIZED,
    Refusal.DOWNGRADE: HTTPStatus.FORBIDDEN,
    Refusal.BAD_CERT: HTTPStatus.FORBIDDEN,
}


def charge_point_id_from_path(path: str) -> str:
    """The last path segment, URL-decoded: ``/ocpp/CP-1`` -> ``CP-1``."""
    return unquote(path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1])


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode(
            "utf-8"
        ).partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (user, password) if sep else None


def basic_auth_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@dataclass(slots=True)
class PasswordVerifier:
    """Verifies Basic Auth with scrypt, remembering successes so reconnect storms stay cheap.

    The memo holds a SHA-256 of the accepted password per station and is dropped when the
    station's stored hash changes; a wrong password always pays the full scrypt cost.
    """

    _memo: dict[str, tuple[str, bytes]]

    def __init__(self) -> None:
        self._memo = {}

    def verify(self, station: StationConfig, password: str) -> bool:
        stored = station.password_hash or ""
        fingerprint = hashlib.sha256(password.encode()).digest()
        memo = self._memo.get(station.charge_point_id)
        if memo is not None and memo[0] == stored:
            return hmac.compare_digest(memo[1], fingerprint)
        if verify_password(password, stored):
            self._memo[station.charge_point_id] = (stored, fingerprint)
            return True
        return False


def peer_common_name(peercert: dict[str, Any] | None) -> str | None:
    if not peercert:
        return None
    for rdn in peercert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def check_handshake(
    station: StationConfig | None,
    cp_id: str,
    authorization: str | None,
    *,
    tls: bool,
    peercert: dict[str, Any] | None,
    verifier: PasswordVerifier,
) -> Refusal | None:
    """``None`` if the station may connect on this listener with these credentials."""
    if station is None:
        return Refusal.NO_STATION
    profile = station.security_profile
    if profile >= 2 and not tls:
        return Refusal.DOWNGRADE
    if profile == 3:
        return None if peer_common_name(peercert) == cp_id else Refusal.BAD_CERT
    if profile == 1 and tls:
        # A profile 1 station has no business on the TLS port; configure it as profile 2.
        return Refusal.DOWNGRADE
    creds = parse_basic_auth(authorization)
    if creds is None:
        return Refusal.NO_AUTH
    user, password = creds
    if user != cp_id:
        return Refusal.USER_MISMATCH
    return None if verifier.verify(station, password) else Refusal.BAD_AUTH


def server_ssl_context(tls: TlsConfig) -> ssl.SSLContext:
    """TLS 1.2+ only; client certificates verified against the CA when presented (profile 3)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(str(tls.cert_file), str(tls.key_file))
        if tls.client_ca_file is not None:
            ctx.load_verify_locations(cafile=str(tls.client_ca_file))
            ctx.verify_mode = ssl.CERT_OPTIONAL
    except (OSError, ssl.SSLError) as exc:
        raise GatewayConfigError(f"cannot load TLS certificate or key: {exc}") from exc
    return ctx
